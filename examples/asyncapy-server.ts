/**
 * An AsyncAProto server in Herald that AsyncAPY clients can call, in JSON or ZiProto.
 * Handlers are chosen by filters in ordered groups: group 0 answers, group 1 counts.
 *
 *   node --import tsx examples/asyncapy-server.ts --port=1500
 *   node --import tsx examples/asyncapy-client.ts --port=1500 --name=Gladys
 *
 * Requests `{"req": "hello", "name": "..."}` get a greeting; `{"req": "stats"}` the number
 * of requests served; anything else `{"status": "failure", "error": "ERR_NO_HANDLER"}`.
 */
import {
  AsyncaprotoFailed,
  AsyncaprotoListening,
  Router,
  asyncaprotoServer,
  filters,
  type AsyncaprotoRequest,
} from '@herald/interop';
import { Stop, run, type Self } from '@herald/runtime';

async function server(self: Self, settings: { host: string; port: number }) {
  let served = 0;
  const router = new Router<AsyncaprotoRequest>()
    .on(
      (ctx) =>
        ctx.reply({ status: 'success', greeting: `hello, ${String(ctx.message.payload['name'])}` }),
      {
        filters: [
          filters.where(
            (m) => m.payload['req'] === 'hello' && typeof m.payload['name'] === 'string',
          ),
        ],
        name: 'hello',
      },
    )
    .on((ctx) => ctx.reply({ status: 'success', served }), {
      filters: [filters.where((m) => m.payload['req'] === 'stats')],
      name: 'stats',
    })
    .on(() => void served++, { group: 1, name: 'count' });
  asyncaprotoServer(self, { bind: { host: settings.host, port: settings.port }, router });
  const up = await self.receive(AsyncaprotoListening, AsyncaprotoFailed);
  if (AsyncaprotoFailed.is(up)) return `could not listen: ${up.reason}`;
  console.log(`AsyncAProto server at ${up.host}:${up.port}`);
  await self.receive(Stop);
  return `served ${served} requests`;
}

await run(server, {
  name: 'asyncapy-server',
  description: 'An AsyncAProto (AsyncAPY) server with filtered, grouped handlers.',
  settings: { host: '127.0.0.1', port: 1500 },
});
