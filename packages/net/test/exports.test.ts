import { describe, expect, it } from 'vitest';
import { ExportTable } from '../src/connection/exports.js';

describe('trust - the export table of a connection', () => {
  it('holds what was exported, one hop or a path, and nothing else', () => {
    const t = new ExportTable(8);
    t.add([5]);
    t.add([7, 3]);
    expect(t.has([5])).toBe(true);
    expect(t.has([7, 3])).toBe(true);
    expect(t.has([6])).toBe(false);
    expect(t.has([3, 7])).toBe(false);
    expect(t.has([7])).toBe(false);
    expect(t.has([])).toBe(false);
  });

  it('is bounded: past its size the oldest exports give way', () => {
    const t = new ExportTable(100);
    for (let id = 1; id <= 1_000; id++) t.add([id]);
    expect(t.size).toBeLessThanOrEqual(100);
    expect(t.has([1])).toBe(false);
    expect(t.has([1_000])).toBe(true);
  });

  it('an address exported again within the last half of the table is never evicted', () => {
    const t = new ExportTable(100);
    // Actor 1 keeps talking (every 40th export) while 10,000 others pass through once.
    for (let i = 0; i < 10_000; i++) {
      t.add([1_000_000 + i]);
      if (i % 40 === 0) t.add([1]);
      expect(t.has([1])).toBe(true);
    }
    expect(t.size).toBeLessThanOrEqual(100);
  });

  it('pinned exports (the exports option) are never evicted', () => {
    const t = new ExportTable(10);
    t.pin([42]);
    for (let id = 1; id <= 100; id++) t.add([id]);
    expect(t.has([42])).toBe(true);
  });
});
