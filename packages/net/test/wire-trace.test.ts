/**
 * The MESSAGE header's trace context (docs/wire-protocol.md 3.3) end to end, on real
 * sockets on 127.0.0.1 port 0: an envelope's `trace` crosses a connection and is the
 * receiving envelope's `trace`; a message without one arrives without one; a peer that
 * sends a malformed trace context loses that connection (CLOSE protocol-error) while the
 * listener's other connections keep working.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type AnyMessage } from '@herald/codec';
import { type Address, type Envelope as EnvelopeType } from '@herald/runtime';
import { Envelope } from '@herald/runtime/internal';
import {
  closeTestRuntimes,
  spawnProbe,
  testRuntime,
  type Probe,
  type TestRuntime,
} from '@herald/testing';
import { Connected, Listening, listen } from '../src/index.js';
import {
  FrameKind,
  MESSAGE_FLAG_TRACE,
  PROTOCOL_VERSION,
  TRACE_CONTEXT_BYTES,
  WireSession,
  encodeFrame,
  encodeHelloBody,
  encodePreamble,
  concatBytes,
} from '../src/wire/index.js';
import { Echo, EchoReply, startClient } from './support/harness.js';
import { EMPTY_MAP, wireClient } from './support/wire-client.js';

afterEach(closeTestRuntimes);
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

interface Server {
  readonly runtime: TestRuntime;
  readonly port: number;
  /** Every envelope the server's controller received, in order. */
  readonly received: EnvelopeType[];
  readonly controller: Probe;
}

/** A listener whose controller records every envelope and answers Echo. */
async function server(): Promise<Server> {
  const runtime = testRuntime({ name: 'server', messages: [Echo, EchoReply] });
  const received: EnvelopeType[] = [];
  const controller = await spawnProbe(runtime, {
    name: 'controller',
    onStart: (self) => listen(self, { port: 0 }),
    onMessage: (message, self, envelope) => {
      received.push(envelope);
      if (Echo.is(message)) self.reply(EchoReply({ n: message.n }));
    },
  });
  const port = (await controller.waitFor(Listening)).listening.port;
  return { runtime, port, received, controller };
}

/** A Herald client connected to `port`; returns its runtime, its address and the remote. */
async function heraldClient(
  port: number,
): Promise<{ send(message: AnyMessage, trace?: string): void; waitReply(): Promise<void> }> {
  const client = await startClient(port);
  cleanups.push(() => client.close());
  const remote: Address = (await client.controller.next(Connected)).message.remote;
  return {
    send(message, trace) {
      // The runtime's own send options are the core's; the envelope is what the proxy reads.
      client.runtime.deliver(new Envelope(remote, client.address, message, 0, undefined, trace));
    },
    async waitReply() {
      await client.controller.next(EchoReply);
    },
  };
}

describe('trace context across a connection', () => {
  it("delivers the sender's trace in the receiving envelope, and none when none was sent", async () => {
    const s = await server();
    const c = await heraldClient(s.port);
    c.send(Echo({ n: 1 }), TRACE);
    await c.waitReply();
    c.send(Echo({ n: 2 }));
    await c.waitReply();
    const echoes = s.received.filter((e) => Echo.is(e.message));
    expect(echoes.map((e) => [(e.message as Echo).n, e.trace])).toEqual([
      [1, TRACE],
      [2, undefined],
    ]);
  });

  it('a hand-made peer that sends a malformed trace context loses that connection only', async () => {
    const s = await server();
    const good = await heraldClient(s.port);
    const bad = await wireClient(s.port, s.runtime.catalogue);
    cleanups.push(() => bad.destroy());
    // A well-formed header (mode with the trace flag, to [], ret [77], type defined as id 0,
    // correlation 0), then a trace context whose trace id is all zero: no sender makes it.
    const name = new TextEncoder().encode(Echo.type);
    const header = [MESSAGE_FLAG_TRACE, 0, 1, 77, 1, name.length, ...name, 0];
    const trace = new Uint8Array(TRACE_CONTEXT_BYTES);
    trace[18] = 1; // a span id, so only the trace id is wrong
    const body = concatBytes([Uint8Array.from(header), trace, Uint8Array.of(0), EMPTY_MAP]);
    bad.write(encodeFrame(FrameKind.MESSAGE, body));
    expect(await bad.closed()).toBe('protocol-error');
    // The listener and its other connection are untouched.
    good.send(Echo({ n: 3 }), TRACE);
    await good.waitReply();
    expect(s.received.filter((e) => Echo.is(e.message)).map((e) => e.trace)).toEqual([TRACE]);
  });

  it('a hand-made peer that sets the reserved header flag loses that connection', async () => {
    const s = await server();
    const bad = await wireClient(s.port, s.runtime.catalogue);
    cleanups.push(() => bad.destroy());
    const name = new TextEncoder().encode(Echo.type);
    const body = Uint8Array.from([0x40, 0, 1, 77, 1, name.length, ...name, 0, 0, ...EMPTY_MAP]);
    bad.write(encodeFrame(FrameKind.MESSAGE, body));
    expect(await bad.closed()).toBe('protocol-error');
  });
});

describe('protocol version', () => {
  it(`a version-2 peer (no trace flag) is refused with version-unsupported (this is ${PROTOCOL_VERSION})`, () => {
    const acceptor = new WireSession({ role: 'acceptor', encrypt: false, keepaliveMs: 0 });
    acceptor.start();
    const v2 = concatBytes([
      encodePreamble(2),
      encodeFrame(
        FrameKind.HELLO,
        encodeHelloBody({
          encrypt: false,
          maxFrameBytes: 65536,
          keepaliveMs: 0,
          ephemeralKey: null,
        }),
      ),
    ]);
    expect(acceptor.receive(v2)).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_VERSION_UNSUPPORTED' } },
    ]);
  });
});
