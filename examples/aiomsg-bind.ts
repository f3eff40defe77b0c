/**
 * An aiomsg v1 bind socket in Herald: prints what peers send and echoes each message back to
 * its sender by identity. Any aiomsg peer can connect: the Python reference, another Herald
 * (examples/aiomsg-connect.ts), or an implementation in another language.
 *
 *   node --import tsx examples/aiomsg-bind.ts --port=25000
 *   node --import tsx examples/aiomsg-connect.ts --port=25000
 *
 * or, with the Python reference vendored for the tests (pure Python, nothing to install):
 *
 *   PYTHONPATH=packages/interop/test/reference python3 \
 *     packages/interop/test/reference/python_agent.py --role connect --port 25000 \
 *     --behavior source --count 5 --delivery at-least-once
 *
 * Flags: --host, --port (0: any free port, printed), --guarantee=at-least-once. Ctrl-C stops.
 */
import {
  AiomsgBound,
  AiomsgDelivered,
  AiomsgFailed,
  AiomsgNotDelivered,
  AiomsgPeerJoined,
  AiomsgPeerLeft,
  AiomsgReceived,
  AiomsgSend,
  aiomsgSocket,
} from '@herald/interop';
import { Stop, run, type Self } from '@herald/runtime';

async function bind(self: Self, settings: { host: string; port: number; guarantee: string }) {
  const socket = aiomsgSocket(self, {
    bind: { host: settings.host, port: settings.port },
    sendMode: 'identity',
    deliveryGuarantee: settings.guarantee === 'at-least-once' ? 'at-least-once' : 'at-most-once',
  });
  let echoed = 0;
  for (;;) {
    const m = await self.receive(
      AiomsgBound,
      AiomsgFailed,
      AiomsgPeerJoined,
      AiomsgPeerLeft,
      AiomsgReceived,
      AiomsgDelivered,
      AiomsgNotDelivered,
      Stop,
    );
    if (AiomsgBound.is(m)) console.log(`aiomsg socket bound at ${m.host}:${m.port}`);
    else if (AiomsgFailed.is(m)) return `could not bind: ${m.reason}`;
    else if (AiomsgPeerJoined.is(m))
      console.log(`peer ${m.identity} joined from ${m.host}:${m.port}`);
    else if (AiomsgPeerLeft.is(m))
      console.log(`peer ${m.identity ?? '(before HELLO)'} left: ${m.code}`);
    else if (AiomsgReceived.is(m)) {
      console.log(`${m.identity}: ${Buffer.from(m.payload).toString()}`);
      self.send(socket, AiomsgSend({ payload: m.payload, identity: m.identity }));
      echoed++;
    } else if (AiomsgNotDelivered.is(m)) console.log(`not delivered: ${m.code}`);
    else if (Stop.is(m)) return `echoed ${echoed} messages`;
  }
}

await run(bind, {
  name: 'aiomsg-bind',
  description: 'An aiomsg v1 bind socket that echoes every message to its sender.',
  settings: { host: '127.0.0.1', port: 25000, guarantee: 'at-most-once' },
  help: { guarantee: 'at-most-once or at-least-once (for the echoes)' },
});
