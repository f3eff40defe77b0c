/**
 * Codec benchmark: encode+decode of a small message (~50-100 bytes) through the stateless
 * codec, the stream body API and the self-contained body API, against raw msgpackr
 * pack+unpack of the same object in the same run. Stops by itself in about 10 s.
 *
 *   node --import tsx bench/codec.ts
 */
import { pathToFileURL } from 'node:url';
import { pack, unpack } from 'msgpackr';
import { createCatalogue, createCodec, defineMessage, t } from '@herald/codec';
import { formatResults, type BenchResult } from './result.js';

/** Time per measured round (ms); each case runs ROUNDS rounds interleaved with the others. */
const ROUND_MS = 400;
const ROUNDS = 5;
const BATCH = 1000;

const Hello = defineMessage('Hello', { name: t.string(), seq: t.int(), at: t.date() });

function measure(run: () => void): number {
  let count = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ROUND_MS) {
    for (let i = 0; i < BATCH; i++) run();
    count += BATCH;
    now = performance.now();
  }
  return count / ((now - start) / 1000);
}

export async function runCodecBench(): Promise<BenchResult[]> {
  const codec = createCodec({ catalogue: createCatalogue([Hello]) });
  const stream = codec.createStream();
  const message = Hello({ name: 'Gladys', seq: 42, at: new Date() });

  // The first stream message carries the shape; apply it so later bodies decode.
  const first = stream.encoder.encodeBody(message);
  if (first.structureUpdate !== undefined) stream.decoder.applyStructures(first.structureUpdate);

  const cases: Array<{ name: string; run: () => void; size: number }> = [
    {
      name: 'raw msgpackr pack+unpack',
      run: () => unpack(pack(message)),
      size: pack(message).length,
    },
    {
      name: 'codec stateless encode+decode',
      run: () => codec.decode(codec.encode(message)),
      size: codec.encode(message).length,
    },
    {
      name: 'codec stream encodeBody+decodeBody',
      run: () => {
        const b = stream.encoder.encodeBody(message);
        stream.decoder.decodeBody('Hello', b.body, b.addresses, b.flags);
      },
      size: stream.encoder.encodeBody(message).body.length,
    },
    {
      name: 'codec self-contained encodeBody+decodeBody',
      run: () => {
        const b = codec.encodeBody(message);
        codec.decodeBody('Hello', b.body, b.addresses, b.flags);
      },
      size: codec.encodeBody(message).body.length,
    },
  ];

  // Warm up, then interleave rounds so drift on a busy machine hits every case alike.
  for (const c of cases) for (let i = 0; i < 20_000; i++) c.run();
  const samples = cases.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    cases.forEach((c, i) => samples[i]?.push(measure(c.run)));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
  const rates = samples.map(median);
  const baseline = rates[0] ?? 1;
  return cases.map((c, i) => {
    const value = Math.round(rates[i] ?? 0);
    const name = `${c.name} (small message, ${c.size} B)`;
    return i === 0
      ? { name, value, unit: 'msg/s' }
      : {
          name,
          value,
          unit: 'msg/s',
          baseline: 'raw msgpackr',
          ratio: value / baseline,
          aim: '>= 0.6x raw',
        };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatResults('codec (small message)', await runCodecBench()));
}
