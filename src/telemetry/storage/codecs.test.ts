import { describe, expect, it } from 'vitest';
import { aggregate } from '../query/aggregate.js';
import { decodeChunk, encodeChunk, type SeriesRun } from './chunk-codec.js';
import { decodeLogBlock, encodeLogBlock } from './log-codec.js';

const run = (ts: number[], value: number[], quality?: number[]): SeriesRun => ({
  ts: Float64Array.from(ts),
  value: Float64Array.from(value),
  quality: Uint8Array.from(quality ?? ts.map(() => 0)),
});

describe('chunk codec', () => {
  it.each([
    [
      'regular interval, two decimals',
      run(
        [0, 60_000, 120_000, 180_000].map((t) => t + 1.79e12),
        [3.21, 3.2, 3.19, 3.25],
      ),
    ],
    ['irregular times, negative values, integers', run([1, 5, 6, 100, 1e12], [-5, 0, 7, -123456789, 42])],
    ['values with no short decimal form', run([1, 2, 3], [Math.PI, 0.1 + 0.2, -1e-300])],
    ['negative zero and huge values', run([1, 2, 3], [-0, 1.7e308, -1.7e308])],
    ['quality runs', run([1, 2, 3, 4, 5], [1, 1, 1, 1, 1], [0, 0, 1, 1, 3])],
    ['a single reading', run([1_790_000_000_123], [0.5])],
    ['empty', run([], [])],
  ])('round-trips exactly: %s', (_name, r) => {
    const back = decodeChunk(encodeChunk(r));
    expect(Array.from(back.ts)).toEqual(Array.from(r.ts));
    expect(back.value.length).toBe(r.value.length);
    for (const [i, v] of r.value.entries()) expect(Object.is(back.value[i], v)).toBe(true);
    expect(Array.from(back.quality)).toEqual(Array.from(r.quality));
  });

  it('compresses a regular sensor series to a few bytes per reading', () => {
    const n = 2048;
    const ts = Array.from({ length: n }, (_, i) => 1.79e12 + i * 60_000);
    const value = ts.map((_, i) => Math.round((50 + 10 * Math.sin(i / 100) + Math.random()) * 100) / 100);
    const bytes = encodeChunk(run(ts, value)).length;
    expect(bytes / n).toBeLessThan(4);
  });

  it('refuses data it did not write', () => {
    expect(() => decodeChunk(Buffer.from([1, 2, 3]))).toThrow();
  });
});

describe('log codec', () => {
  it('round-trips a block, and decodes from an unaligned buffer', () => {
    const block = {
      count: 3,
      series: Int32Array.from([7, 8, 7]),
      ts: Float64Array.from([1, 2, 3]),
      value: Float64Array.from([1.5, -2, 1e300]),
      quality: Uint8Array.from([0, 1, 2]),
    };
    const encoded = encodeLogBlock(block);
    const shifted = Buffer.concat([Buffer.from([0]), encoded]).subarray(1);
    for (const data of [encoded, shifted]) {
      const back = decodeLogBlock(data);
      expect(back.count).toBe(3);
      expect(Array.from(back.series)).toEqual([7, 8, 7]);
      expect(Array.from(back.value)).toEqual([1.5, -2, 1e300]);
      expect(Array.from(back.quality)).toEqual([0, 1, 2]);
    }
    expect(() => decodeLogBlock(encoded.subarray(0, encoded.length - 1))).toThrow(/truncated/);
  });
});

describe('aggregate', () => {
  it('fills every bucket of the range, aligned to the bucket width, empty ones with nulls', () => {
    const r = run([60_000, 61_000, 180_500], [2, 4, 9]);
    const buckets = aggregate(r, 30_000, 240_000, 60_000);
    expect(buckets.map((b) => b.ts)).toEqual([0, 60_000, 120_000, 180_000]);
    expect(buckets[0]).toEqual({ ts: 0, count: 0, min: null, max: null, avg: null, first: null, last: null });
    expect(buckets[1]).toEqual({ ts: 60_000, count: 2, min: 2, max: 4, avg: 3, first: 2, last: 4 });
    expect(buckets[3]).toMatchObject({ count: 1, first: 9, last: 9 });
  });
});
