/**
 * The sending side of a connection without sockets or scheduling: CPU time per message of
 * the codec's stream encoder and the FrameWriter, two ways, alternated in one process:
 *
 *   node --import tsx bench/send-path.ts
 *
 * - `copy`: `encodeBody` (msgpackr packs into a buffer of its own and hands out a view of
 *   it) then `writeMessage` copies the body into the batch;
 * - `placed`: `placeBody` / `encodeBodyInto` / `writePlacedMessage`, as SocketProxy sends
 *   the common case: the body is encoded straight into the batch buffer (the copy way
 *   while the batch buffer has no room for it, as there).
 *
 * Each round writes SEND_BENCH_N `bench.Payload` messages (100-byte body, as bench/net.ts)
 * in batches flushed at 64 KiB, as SocketProxy does; the rounds alternate copy / placed
 * (SEND_BENCH_ROUNDS each), and every batch of both ways is checked to be the same bytes.
 * Figures are CPU time (user + system) per message: median and range over the rounds, and
 * the median ratio of the two ways over pairs of rounds run back to back.
 */
import { createCatalogue, createCodec } from '@herald/codec';
import { FrameWriter } from '@herald/net/wire';
import { benchMessages, Payload, PAYLOAD_DATA } from './net/protocol.js';
import { formatResults, type BenchResult } from './result.js';

const N = Number(process.env.SEND_BENCH_N ?? 200_000);
const ROUNDS = Number(process.env.SEND_BENCH_ROUNDS ?? 7);
/** What SocketProxy writes at once: a batch reaching 64 KiB is flushed. */
const BATCH_BYTES = 64 * 1024;

const catalogue = createCatalogue([...benchMessages]);
const NO_BODY = new Uint8Array(0);

function cpuNs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) * 1000;
}

/** One round of N messages; returns the CPU ns per message and a checksum of the batches. */
function round(placed: boolean): { ns: number; sum: number; bytes: number } {
  const stream = createCodec({ catalogue }).createStream();
  const writer = new FrameWriter({ peerMaxFrameBytes: 64 * 1024 });
  const message = Payload({ data: PAYLOAD_DATA });
  let sum = 0;
  let bytes = 0;
  const take = (batch: Uint8Array | null): void => {
    if (batch === null) return;
    bytes += batch.length;
    for (let i = 0; i < batch.length; i += 61) sum = (sum * 31 + (batch[i] as number)) >>> 0;
  };
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    // Object literals as SocketProxy makes them (a spread would change their shape).
    const at = placed ? writer.placeBody() : -1;
    if (at >= 0) {
      const r = stream.encoder.encodeBodyInto(message, writer.placeBuffer, at);
      if (typeof r === 'number') {
        writer.writePlacedMessage(
          {
            bodyMode: 1,
            to: [5],
            ret: [7],
            typeName: message.type,
            correlation: 0,
            space: [],
            body: NO_BODY,
          },
          at,
          r,
        );
      } else {
        if (r.structureUpdate !== undefined) writer.writeStructures(r.structureUpdate);
        writer.writeMessage({
          bodyMode: r.flags,
          to: [5],
          ret: [7],
          typeName: message.type,
          correlation: 0,
          space: [],
          body: r.body,
        });
      }
    } else {
      const r = stream.encoder.encodeBody(message);
      if (r.structureUpdate !== undefined) writer.writeStructures(r.structureUpdate);
      writer.writeMessage({
        bodyMode: r.flags,
        to: [5],
        ret: [7],
        typeName: message.type,
        correlation: 0,
        space: [],
        body: r.body,
      });
    }
    if (writer.batchBytes >= BATCH_BYTES) take(writer.flush());
  }
  take(writer.flush());
  return { ns: cpuNs(start) / N, sum, bytes };
}

const times: Record<'copy' | 'placed', number[]> = { copy: [], placed: [] };
let reference: { sum: number; bytes: number } | null = null;
for (let i = 0; i < ROUNDS; i++) {
  for (const way of i % 2 === 0 ? (['copy', 'placed'] as const) : (['placed', 'copy'] as const)) {
    const r = round(way === 'placed');
    reference ??= r;
    if (r.sum !== reference.sum || r.bytes !== reference.bytes) {
      throw new Error(`${way}: the batches differ from the first round's`);
    }
    times[way].push(r.ns);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const results: BenchResult[] = (['copy', 'placed'] as const).map((way) => ({
  name: `sender, ${way === 'copy' ? 'body copied into the batch' : 'body encoded in the batch'} (median; range ${Math.min(...times[way]).toFixed(0)}–${Math.max(...times[way]).toFixed(0)})`,
  value: median(times[way]),
  unit: 'ns CPU/msg',
  better: 'lower' as const,
}));
// Rounds i of both ways ran back to back: their ratio is less exposed to the machine's load.
const ratios = times.placed.map((t, i) => t / (times.copy[i] as number));
results.push({
  name: `placed / copied, pairs of rounds run back to back (median; range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
  value: median(ratios),
  unit: 'x',
  better: 'lower',
});
console.log(
  formatResults(
    `send path (in process, ${N.toLocaleString('en-US')} messages × ${ROUNDS} rounds each way, alternated; ${((reference?.bytes ?? 0) / N).toFixed(1)} B/msg on the wire)`,
    results,
  ),
);
