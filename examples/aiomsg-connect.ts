/**
 * An aiomsg v1 connect socket in Herald: sends --count messages at least once, and prints
 * the acknowledgements and the echoes that come back (run examples/aiomsg-bind.ts, or the
 * Python reference as a bind echo peer, first).
 *
 *   node --import tsx examples/aiomsg-bind.ts --port=25000
 *   node --import tsx examples/aiomsg-connect.ts --port=25000 --count=3
 *
 *   PYTHONPATH=packages/interop/test/reference python3 \
 *     packages/interop/test/reference/python_agent.py --role bind --port 25000 \
 *     --behavior echo --count 3
 */
import {
  AiomsgDelivered,
  AiomsgNotDelivered,
  AiomsgPeerJoined,
  AiomsgReceived,
  AiomsgSend,
  aiomsgSocket,
} from '@herald/interop';
import { run, type Self } from '@herald/runtime';

async function connect(self: Self, settings: { host: string; port: number; count: number }) {
  const socket = aiomsgSocket(self, {
    connect: { host: settings.host, port: settings.port },
    deliveryGuarantee: 'at-least-once',
  });
  const joined = await self.receive(AiomsgPeerJoined, { timeout: 10_000 });
  if (!AiomsgPeerJoined.is(joined)) return 'no aiomsg peer answered within 10 s';
  console.log(`connected to peer ${joined.identity}`);
  for (let i = 0; i < settings.count; i++) {
    self.send(socket, AiomsgSend({ payload: Buffer.from(`hello ${i}`), ref: String(i) }));
  }
  let acked = 0;
  let echoes = 0;
  while (acked < settings.count || echoes < settings.count) {
    const m = await self.receive(AiomsgDelivered, AiomsgNotDelivered, AiomsgReceived, {
      timeout: 30_000,
    });
    if (AiomsgDelivered.is(m)) acked++;
    else if (AiomsgNotDelivered.is(m)) return `message ${m.ref} not delivered: ${m.code}`;
    else if (AiomsgReceived.is(m)) {
      echoes++;
      console.log(`echo: ${Buffer.from(m.payload).toString()}`);
    } else return `stopped waiting after 30 s (${acked} acks, ${echoes} echoes)`;
  }
  return `${acked} acknowledged, ${echoes} echoed`;
}

await run(connect, {
  name: 'aiomsg-connect',
  description: 'Sends messages at least once to an aiomsg v1 bind socket.',
  settings: { host: '127.0.0.1', port: 25000, count: 3 },
});
