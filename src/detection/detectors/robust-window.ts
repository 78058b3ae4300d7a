import { F, type SensorState } from '../engine/sensor-state.js';

/**
 * Adds a value to the MAD window (ring + sorted copy), evicting the oldest when full: the evicted
 * value's slot in the sorted copy moves to where the new value belongs, in one pass.
 */
export function windowPush(s: SensorState, v: number): void {
  const { ring, sorted } = s;
  const f = s.f;
  const w = ring.length;
  const fill = f[F.winFill]!;
  const pos = f[F.winPos]!;
  let i: number;
  if (fill === w) {
    i = lowerBound(sorted, w, ring[pos]!);
    while (i + 1 < w && sorted[i + 1]! < v) {
      sorted[i] = sorted[i + 1]!;
      i++;
    }
  } else {
    i = fill;
    f[F.winFill] = fill + 1;
  }
  while (i > 0 && sorted[i - 1]! > v) {
    sorted[i] = sorted[i - 1]!;
    i--;
  }
  sorted[i] = v;
  ring[pos] = v;
  f[F.winPos] = pos + 1 === w ? 0 : pos + 1;
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
  const n = s.f[F.winFill]! | 0;
  const a = s.sorted;
  const h = n >> 1;
  return (n & 1) === 1 ? a[h]! : (a[h - 1]! + a[h]!) / 2;
}

/**
 * Median absolute deviation of the window around `med`: the deviations on either side of the
 * median are each sorted already, so merging them up to the middle is linear in half the window.
 */
export function windowMad(s: SensorState, med: number): number {
  const n = s.f[F.winFill]! | 0;
  const a = s.sorted;
  let r = lowerBound(a, n, med);
  let l = r - 1;
  const k1 = (n - 1) >> 1;
  const k2 = n >> 1;
  let prev = 0;
  for (let k = 0; k <= k2; k++) {
    let d: number;
    if (l < 0) d = a[r++]! - med;
    else if (r >= n) d = med - a[l--]!;
    else {
      const dl = med - a[l]!;
      const dr = a[r]! - med;
      if (dl <= dr) {
        d = dl;
        l--;
      } else {
        d = dr;
        r++;
      }
    }
    if (k === k2) return k1 === k2 ? d : (prev + d) / 2;
    prev = d;
  }
  return prev;
}
