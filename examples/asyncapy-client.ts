/**
 * A minimal AsyncAProto client (what an AsyncAPY client sends), for examples/asyncapy-server.ts:
 * one request in ZiProto (or JSON with --json), one reply printed.
 *
 *   node --import tsx examples/asyncapy-client.ts --port=1500 --name=Gladys
 */
import { connect } from 'node:net';
import { decodeZiproto, encodePacket } from '@herald/interop';
import { run } from '@herald/runtime';

async function client(
  _self: unknown,
  settings: { host: string; port: number; name: string; json: boolean },
) {
  const format = { headerSize: 4, byteOrder: 'big' } as const;
  const socket = connect(settings.port, settings.host);
  socket.write(
    encodePacket({ req: 'hello', name: settings.name }, settings.json ? 'json' : 'ziproto', format),
  );
  const chunks: Buffer[] = [];
  for await (const chunk of socket) {
    chunks.push(chunk as Buffer);
    const all = Buffer.concat(chunks);
    if (all.length >= 4 && all.length >= 4 + all.readUInt32BE(0)) {
      socket.destroy();
      const body = all.subarray(6, 4 + all.readUInt32BE(0));
      return all[5] === 0 ? JSON.parse(body.toString()) : decodeZiproto(body);
    }
  }
  return 'the server closed without answering';
}

await run(client, {
  name: 'asyncapy-client',
  description: 'Sends one AsyncAProto request and prints the reply.',
  settings: { host: '127.0.0.1', port: 1500, name: 'Buster', json: false },
});
