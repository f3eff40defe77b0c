/**
 * The end of a connection: letting the last bytes reach the peer, and turning what was
 * still queued into dead letters (nothing is lost silently).
 */
import { Address } from '@herald/codec';
import type { Runtime } from '@herald/runtime';
import type { Duplex } from 'node:stream';
import { DEFAULT_CLOSE_LINGER_MS } from '../constants.js';
import type { WireMessage } from '../wire/index.js';

/**
 * Ends the stream after its queued bytes (a CLOSE frame among them) and destroys it if the
 * peer has not closed within the linger time.
 */
export function lingerThenDestroy(stream: Duplex, lingerMs = DEFAULT_CLOSE_LINGER_MS): void {
  if (stream.destroyed) return;
  stream.end();
  const timer = setTimeout(() => stream.destroy(), lingerMs);
  timer.unref();
  stream.once('close', () => clearTimeout(timer));
}

/**
 * Reports a message that was queued on the wire but never written. The header holds the
 * outbound (peer-relative) stacks: the proxy is put back on the destination so the dead
 * letter names the address the sender used.
 */
export function reportUnsent(
  runtime: Runtime,
  proxyId: number,
  m: WireMessage,
  detail: string,
): void {
  runtime.reportDeadLetter({
    to: new Address([...m.to, proxyId]),
    from:
      m.ret.length > 0 && m.ret[m.ret.length - 1] === 0
        ? new Address(m.ret.slice(0, -1).concat(proxyId))
        : new Address(m.ret.length === 0 ? [proxyId] : m.ret),
    message: { type: m.typeName },
    reason: 'not-delivered',
    detail,
  });
}
