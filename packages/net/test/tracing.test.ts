/**
 * Trace propagation across a connection (docs/observability.md): the runtime passes the
 * handling's trace (or its hook's span) into every send, the wire carries it (contracts
 * §4), and the far side's handling joins the same trace.
 */
import { defineMessage, t, type MessageOf } from '@herald/codec';
import type { Envelope, Runtime, Self, TraceSpan, Tracing } from '@herald/runtime';
import { Accepted, connect, Connected, listen, Listening } from '@herald/net';
import { closeTestRuntimes, spawnProbe, testRuntime, waitFor } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';

const Work = defineMessage('trace.Work', { n: t.int() });
type Work = MessageOf<typeof Work>;
const Done = defineMessage('trace.Done', { n: t.int() });
type Done = MessageOf<typeof Done>;
const messages = [Work, Done];

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACE_ID = TRACE.slice(3, 35);

afterEach(closeTestRuntimes);

/** What each side saw: the message type and the trace its envelope carried. */
type Seen = { readonly type: string; readonly trace: string | undefined };

/**
 * A server whose controller answers Work(n) with Done(n), recording traces; a client
 * connected to it; on the client, a worker that, for each Work it is given, asks the
 * server and records the answer's trace.
 */
async function setup(clientRt: Runtime, serverRt: Runtime) {
  const atServer: Seen[] = [];
  const server = await spawnProbe(serverRt, {
    name: 'server',
    onMessage: (message, self, envelope) => {
      if (!Work.is(message)) return;
      atServer.push({ type: message.type, trace: envelope.trace });
      self.reply(Done({ n: message.n }));
    },
  });
  listen(server.self, { port: 0 });
  const port = (await server.next(Listening)).message.listening.port;
  const client = await spawnProbe(clientRt, 'client');
  connect(client.self, { host: '127.0.0.1', port });
  const remote = (await client.next(Connected)).from;
  await server.next(Accepted);
  const atClient: Seen[] = [];
  const worker = clientRt.spawn({
    name: 'worker',
    receive: (self: Self, m: Work | Done, envelope: Envelope) => {
      if (Work.is(m)) self.send(remote, Work({ n: m.n }));
      else atClient.push({ type: m.type, trace: envelope.trace });
    },
  });
  return { atServer, atClient, worker };
}

describe('traces across a connection', () => {
  it('a request made while handling a traced message carries the trace to the peer, and its answer brings it back', async () => {
    const clientRt = testRuntime({ name: 'client', messages });
    const serverRt = testRuntime({ name: 'server', messages });
    const { atServer, atClient, worker } = await setup(clientRt, serverRt);
    clientRt.send(worker, Work({ n: 1 }), undefined, { trace: TRACE });
    clientRt.send(worker, Work({ n: 2 }));
    await waitFor(() => atClient.length === 2, { what: 'both answers' });
    expect(atServer).toEqual([
      { type: Work.type, trace: TRACE },
      { type: Work.type, trace: undefined },
    ]);
    expect(atClient).toEqual([
      { type: Done.type, trace: TRACE },
      { type: Done.type, trace: undefined },
    ]);
  });

  it('with a tracing hook on each side, each hop is a child of the span before it, in one trace', async () => {
    /** A hook that names its spans `<side>-<n>` (as a 16-hex span id) and records parents. */
    const hook = (side: number, parents: (string | undefined)[]): Tracing => {
      let n = 0;
      return {
        received(event): TraceSpan | undefined {
          // Proxies are actors too; their hop is left out here (the wire carries the
          // message's own trace, so the far side's span is a child of the sender's).
          if (event.actorName === 'SocketProxy') return undefined;
          if (event.messageType !== Work.type && event.messageType !== Done.type) return undefined;
          parents.push(event.traceparent);
          const span = `${side}${(++n).toString(16).padStart(15, '0')}`;
          const traceId = event.traceparent?.slice(3, 35) ?? TRACE_ID;
          return { traceparent: `00-${traceId}-${span}-01`, end: () => {} };
        },
      };
    };
    const clientRt = testRuntime({ name: 'client', messages });
    const serverRt = testRuntime({ name: 'server', messages });
    const clientParents: (string | undefined)[] = [];
    const serverParents: (string | undefined)[] = [];
    clientRt.setTracing(hook(1, clientParents));
    serverRt.setTracing(hook(2, serverParents));
    const { atClient, worker } = await setup(clientRt, serverRt);
    clientRt.send(worker, Work({ n: 1 }), undefined, { trace: TRACE });
    await waitFor(() => atClient.length === 1, { what: 'the answer' });
    // The worker's handling (client span 1) parents the server's handling, whose span
    // parents the answer's handling back on the client.
    expect(clientParents).toEqual([TRACE, `00-${TRACE_ID}-2000000000000001-01`]);
    expect(serverParents).toEqual([`00-${TRACE_ID}-1000000000000001-01`]);
  });
});
