import { F, type SensorState } from '../engine/sensor-state.js';

/** Adds a value to the MAD window (ring + sorted copy), evicting the oldest when full. */
export function windowPush(s: SensorState, v: number): void {
  const { ring, sorted } = s;
  const w = ring.length;
  const fill = s.f[F.winFill]!;
  const pos = s.f[F.winPos]!;
  let n = fill;
  if (fill === w) {
    const old = ring[pos]!;
    const i = lowerBound(sorted, n, old);
    sorted.copyWithin(i, i + 1, n);
    n--;
  }
  ring[pos] = v;
  const j = lowerBound(sorted, n, v);
  sorted.copyWithin(j + 1, j, n);
  sorted[j] = v;
  s.f[F.winPos] = (pos + 1) % w;
  s.f[F.winFill] = n + 1;
}

function lowerBound(a: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function windowMedian(s: SensorState): number {
  const n = s.f[F.winFill]!;
  const a = s.sorted;
  return n % 2 === 1 ? a[(n - 1) / 2]! : (a[n / 2 - 1]! + a[n / 2]!) / 2;
}

/**
 * Median absolute deviation of the window around `med`: the deviations on either side of the
 * median are each sorted already, so merging them up to the middle is linear in half the window.
 */
export function windowMad(s: SensorState, med: number): number {
  const n = s.f[F.winFill]!;
  const a = s.sorted;
  let r = lowerBound(a, n, med);
  let l = r - 1;
  const k1 = (n - 1) >> 1;
  const k2 = n >> 1;
  let prev = 0;
  for (let k = 0; k <= k2; k++) {
    const dl = l >= 0 ? med - a[l]! : Number.POSITIVE_INFINITY;
    const dr = r < n ? a[r]! - med : Number.POSITIVE_INFINITY;
    let d: number;
    if (dl <= dr) {
      d = dl;
      l--;
    } else {
      d = dr;
      r++;
    }
    if (k === k1 && k1 === k2) return d;
    if (k === k2) return (prev + d) / 2;
    prev = d;
  }
  return prev;
}
