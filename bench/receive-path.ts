/**
 * The receiving side of a connection without sockets or scheduling: CPU time per message
 * of the wire layer and the codec, in one process, on the same bytes a Herald sender
 * writes for the network benchmark's 100-byte `bench.Payload`.
 *
 *   node --import tsx bench/receive-path.ts
 *
 * A sender (the codec's stream encoder and a FrameWriter, as SocketProxy uses them)
 * writes RECEIVE_BENCH_N messages in batches of at most 64 KiB; each batch is handed over as
 * a Node `Buffer` (what a socket read gives). The receiver replays them: FrameDecoder →
 * the stream decoder's `decodeBody` (msgpack decode and schema validation) for every
 * MESSAGE, structure updates applied. Figures are CPU time (user + system) per message,
 * best of RECEIVE_BENCH_ROUNDS, so a loaded machine inflates them less than a rate would;
 * the same is done for the sender's side, and for the frames alone (decoder without the
 * codec). Not measured here: routing, checks and delivery (bench/trust-checks.ts times the
 * checks; bench/net.ts the whole path between two processes).
 */
import { createCatalogue, createCodec, type MessageOf } from '@herald/codec';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  FrameKind,
  FrameWriter,
  concatBytes,
  encodeFrame,
  encodeHelloBody,
  encodePreamble,
} from '@herald/net/wire';
import { benchMessages, Payload, PAYLOAD_DATA, encodedBodyBytes } from './net/protocol.js';
import { formatResults, type BenchResult } from './result.js';

const N = Number(process.env.RECEIVE_BENCH_N ?? 200_000);
const ROUNDS = Number(process.env.RECEIVE_BENCH_ROUNDS ?? 5);
/** What SocketProxy writes at once: a batch reaching 64 KiB is flushed. */
const BATCH_BYTES = 64 * 1024;

const catalogue = createCatalogue([...benchMessages]);

function cpuNs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) * 1000;
}

/** Encodes N Payloads as a sender would; returns the batches and the CPU ns per message. */
function send(): { batches: Buffer[]; ns: number } {
  const stream = createCodec({ catalogue }).createStream();
  const writer = new FrameWriter({ peerMaxFrameBytes: 64 * 1024 });
  const batches: Buffer[] = [];
  const message = Payload({ data: PAYLOAD_DATA });
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const encoded = stream.encoder.encodeBody(message);
    if (encoded.structureUpdate !== undefined) writer.writeStructures(encoded.structureUpdate);
    writer.writeMessage({
      bodyMode: encoded.flags,
      to: [5],
      ret: [7],
      typeName: message.type,
      correlation: 0,
      space: [],
      body: encoded.body,
    });
    if (writer.batchBytes >= BATCH_BYTES) batches.push(Buffer.from(writer.flush() as Uint8Array));
  }
  const last = writer.flush();
  if (last !== null) batches.push(Buffer.from(last));
  return { batches, ns: cpuNs(start) / N };
}

/** Replays the batches through a fresh decoder; `decode` false stops after the frames. */
function receive(batches: readonly Buffer[], decode: boolean): number {
  const stream = createCodec({ catalogue }).createStream();
  const decoder = new FrameDecoder();
  decoder.push(
    concatBytes([
      encodePreamble(),
      encodeFrame(
        FrameKind.HELLO,
        encodeHelloBody({
          encrypt: false,
          maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
          keepaliveMs: 0,
          ephemeralKey: null,
        }),
      ),
    ]),
  );
  decoder.open(null);
  let count = 0;
  let bytes = 0;
  const start = process.cpuUsage();
  for (const batch of batches) {
    for (const event of decoder.push(batch)) {
      if (event.type === 'message') {
        count++;
        if (decode) {
          const m = event.message;
          const v = stream.decoder.decodeBody(m.typeName, m.body, [], m.bodyMode) as MessageOf<
            typeof Payload
          >;
          bytes += v.data.length;
        }
      } else if (event.type === 'structures') {
        if (decode) stream.decoder.applyStructures(event.data);
      } else {
        throw new Error(`unexpected ${event.type}`);
      }
    }
  }
  const ns = cpuNs(start) / N;
  if (count !== N || (decode && bytes !== N * PAYLOAD_DATA.length)) {
    throw new Error(`received ${count} messages, ${bytes} data bytes`);
  }
  return ns;
}

const best = { send: Infinity, frames: Infinity, full: Infinity };
let wireBytes = 0;
for (let round = 0; round < ROUNDS; round++) {
  const { batches, ns } = send();
  wireBytes = batches.reduce((n, b) => n + b.length, 0) / N;
  best.send = Math.min(best.send, ns);
  best.frames = Math.min(best.frames, receive(batches, false));
  best.full = Math.min(best.full, receive(batches, true));
}

const results: BenchResult[] = [
  {
    name: `sender: stream encode + frame (${encodedBodyBytes(Payload({ data: PAYLOAD_DATA }))} B body, ${wireBytes.toFixed(1)} B/msg on the wire)`,
    value: best.send,
    unit: 'ns CPU/msg',
    better: 'lower',
  },
  {
    name: 'receiver: frames and headers only',
    value: best.frames,
    unit: 'ns CPU/msg',
    better: 'lower',
  },
  {
    name: 'receiver: frames, headers, body decode + validation',
    value: best.full,
    unit: 'ns CPU/msg',
    better: 'lower',
    aim: '< 1000 ns for 1M msg/s (before routing and delivery)',
  },
];
console.log(
  formatResults(
    `receive path (in process, ${N.toLocaleString('en-US')} messages, best of ${ROUNDS})`,
    results,
  ),
);
