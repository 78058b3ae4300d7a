import type { SeriesRun } from '../storage/chunk-codec.js';

export const BUCKETS = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '6h': 21_600_000,
  '1d': 86_400_000,
} as const;
export type BucketName = keyof typeof BUCKETS;

export interface Bucket {
  /** Start of the bucket (aligned to the bucket width in UTC). */
  readonly ts: number;
  readonly count: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly avg: number | null;
  readonly first: number | null;
  readonly last: number | null;
}

/** Buckets of `width` covering [from, to), every one present (count 0 and nulls when empty). */
export function aggregate(run: SeriesRun, from: number, to: number, width: number): Bucket[] {
  const start = Math.floor(from / width) * width;
  const n = Math.max(0, Math.ceil((to - start) / width));
  const count = new Uint32Array(n);
  const min = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
  const sum = new Float64Array(n);
  const first = new Float64Array(n);
  const last = new Float64Array(n);
  for (let i = 0; i < run.ts.length; i++) {
    const t = run.ts[i]!;
    if (t < from || t >= to) continue;
    const b = Math.floor((t - start) / width);
    const v = run.value[i]!;
    if (count[b] === 0) first[b] = v;
    count[b]!++;
    last[b] = v;
    if (v < min[b]!) min[b] = v;
    if (v > max[b]!) max[b] = v;
    sum[b]! += v;
  }
  const out: Bucket[] = [];
  for (let b = 0; b < n; b++) {
    const c = count[b]!;
    out.push(
      c === 0
        ? { ts: start + b * width, count: 0, min: null, max: null, avg: null, first: null, last: null }
        : {
            ts: start + b * width,
            count: c,
            min: min[b]!,
            max: max[b]!,
            avg: sum[b]! / c,
            first: first[b]!,
            last: last[b]!,
          },
    );
  }
  return out;
}
