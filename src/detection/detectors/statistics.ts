import type { EffectiveConfig } from '../config/effective-config.js';
import { D, type Evaluation } from '../engine/evaluation.js';
import { F, type SensorState } from '../engine/sensor-state.js';
import { windowMad, windowMedian, windowPush } from './robust-window.js';
import { levelScore, scaleOf } from './score.js';

const HOUR = 3_600_000;
const MAD_TO_SD = 1.4826;

/**
 * EWMA level and spread: the deviation from the smoothed level in smoothed standard deviations.
 * The update is winsorised at the firing level so one spike does not drag the baseline, while a
 * lasting shift widens the spread until it is learned.
 */
export function ewma(
  s: SensorState,
  c: EffectiveConfig['ewma'],
  v: number,
  warm: boolean,
  out: Evaluation,
  learn: boolean,
): void {
  const f = s.f;
  const n = f[F.n]!;
  if (n === 0) {
    if (learn) {
      f[F.mean] = v;
      f[F.var] = 0;
    }
    return;
  }
  const mean = f[F.mean]!;
  const sd = scaleOf(f[F.var]!, mean);
  const z = Math.abs(v - mean) / sd;
  out.center[D.ewma] = mean;
  out.scale[D.ewma] = sd * c.z;
  out.raw[D.ewma] = levelScore(z, c.z);
  if (warm) out.scores[D.ewma] = out.raw[D.ewma]!;
  if (!learn) return;
  const lim = c.z * sd;
  const x = v - mean > lim ? mean + lim : v - mean < -lim ? mean - lim : v;
  const d = x - mean;
  // Early on, a larger step so the baseline is learned within the warm-up.
  const a = Math.max(c.alpha, 1 / (n + 1));
  f[F.mean] = mean + a * d;
  f[F.var] = (1 - a) * (f[F.var]! + a * d * d);
}

/** Rate of change per second: against a fixed limit when configured, else against its learned spread. */
export function rate(
  s: SensorState,
  c: EffectiveConfig['rate'],
  alpha: number,
  ts: number,
  v: number,
  warm: boolean,
  out: Evaluation,
  learn: boolean,
): void {
  const f = s.f;
  if (f[F.n]! === 0) return;
  const dt = (ts - f[F.lastTs]!) / 1000;
  if (!(dt > 0)) return;
  const r = (v - f[F.lastValue]!) / dt;
  if (c.maxPerS !== null) {
    out.raw[D.rate] = levelScore(Math.abs(r), c.maxPerS);
    out.scores[D.rate] = out.raw[D.rate]!;
    out.center[D.rate] = 0;
    out.scale[D.rate] = c.maxPerS;
  }
  const m = f[F.rateMean]!;
  const sd = scaleOf(f[F.rateVar]!, m);
  if (c.maxPerS === null) {
    out.center[D.rate] = m;
    out.scale[D.rate] = sd * c.z;
    out.raw[D.rate] = levelScore(Math.abs(r - m) / sd, c.z);
    if (warm) out.scores[D.rate] = out.raw[D.rate]!;
  }
  if (!learn) return;
  const n = f[F.n]!;
  if (n === 1) {
    f[F.rateMean] = r;
    f[F.rateVar] = 0;
    return;
  }
  const lim = c.z * sd;
  const x = r - m > lim ? m + lim : r - m < -lim ? m - lim : r;
  const a = Math.max(alpha, 1 / n);
  const d = x - m;
  f[F.rateMean] = m + a * d;
  f[F.rateVar] = (1 - a) * (f[F.rateVar]! + a * d * d);
}

/** Median and MAD of the recent window: robust to the outliers a mean and variance absorb. */
export function mad(
  s: SensorState,
  c: EffectiveConfig['mad'],
  v: number,
  warm: boolean,
  out: Evaluation,
  learn: boolean,
): void {
  const f = s.f;
  const fill = f[F.winFill]!;
  if (fill >= 8) {
    const med = windowMedian(s);
    // One new value moves the MAD little: recomputing it (a merge over half the window) every
    // 4th reading keeps the detector's cost per reading near the median's O(1).
    if (learn && ((f[F.n]! & 3) === 0 || fill < s.ring.length)) f[F.mad] = windowMad(s, med);
    // A quantised or quiet signal has a MAD of 0: fall back on a share of the EWMA spread.
    const scale = Math.max(MAD_TO_SD * f[F.mad]!, 0.5 * scaleOf(f[F.var]!, med));
    out.center[D.mad] = med;
    out.scale[D.mad] = scale * c.z;
    out.raw[D.mad] = levelScore(Math.abs(v - med) / scale, c.z);
    if (warm) out.scores[D.mad] = out.raw[D.mad]!;
  }
  if (learn) windowPush(s, v);
}

/** The bucket (hour of day, or hour of week) a timestamp falls in, in the site's local time. */
export function bucketOf(ts: number, buckets: number, offsetMs: number): number {
  const hours = Math.floor((ts + offsetMs) / HOUR);
  // Integer arithmetic while the hour count fits (until the year 246,000): a float modulo is slow.
  const b = hours >= -2_147_483_648 && hours <= 2_147_483_647 ? (hours | 0) % buckets : hours % buckets;
  return b < 0 ? b + buckets : b;
}

/**
 * One seasonal profile (`count` buckets from bucket `first`): the reading's deviation from its
 * bucket in the bucket's standard deviations (NaN while the bucket has fewer than 3 readings), and
 * with `learn` the bucket learns the reading. Writes the bucket's mean and sd to `at[0..1]`.
 */
function profile(
  s: SensorState,
  c: EffectiveConfig['seasonal'],
  first: number,
  count: number,
  ts: number,
  v: number,
  learn: boolean,
  at: Float64Array,
): number {
  const b = (first + bucketOf(ts, count, c.utcOffsetMs)) * 3;
  const t = s.seasonal;
  const n = t[b + 2]!;
  const mean = t[b]!;
  let z = Number.NaN;
  if (n >= 3) {
    // The bucket's spread, floored by part of the overall one: few samples make it unreliable.
    const sd = Math.max(scaleOf(t[b + 1]!, mean), 0.25 * scaleOf(s.f[F.var]!, mean));
    z = Math.abs(v - mean) / sd;
    at[0] = mean;
    at[1] = sd;
  }
  if (!learn) return z;
  if (n === 0) {
    t[b] = v;
    t[b + 1] = 0;
    t[b + 2] = 1;
    return z;
  }
  const a = Math.max(c.alpha, 1 / (n + 1));
  const sd = scaleOf(t[b + 1]!, mean);
  const lim = n >= 3 ? c.z * sd : Number.POSITIVE_INFINITY;
  const x = v - mean > lim ? mean + lim : v - mean < -lim ? mean - lim : v;
  const d = x - mean;
  t[b] = mean + a * d;
  t[b + 1] = (1 - a) * (t[b + 1]! + a * d * d);
  t[b + 2] = Math.min(n + 1, 65_000);
  return z;
}

const dayAt = new Float64Array(2);
const weekAt = new Float64Array(2);

/**
 * Deviation from what this hour of the day, of the week, or both usually look like. With both
 * (192 buckets: 24 by hour of day, then 168 by hour of week), a reading is as unusual as the
 * profile it fits better: a busy Monday morning is normal for Mondays even if not for the day's
 * average, and a quiet hour normal every day is not flagged for lack of weeks of history.
 */
export function seasonal(
  s: SensorState,
  c: EffectiveConfig['seasonal'],
  ts: number,
  v: number,
  warm: boolean,
  out: Evaluation,
  learn: boolean,
): void {
  let z: number;
  let at = dayAt;
  if (c.buckets === 192) {
    const zd = profile(s, c, 0, 24, ts, v, learn, dayAt);
    const zw = profile(s, c, 24, 168, ts, v, learn, weekAt);
    if (Number.isNaN(zd) || zw < zd) {
      z = zw;
      at = weekAt;
    } else z = zd;
  } else z = profile(s, c, 0, c.buckets, ts, v, learn, dayAt);
  if (Number.isNaN(z)) return;
  out.center[D.seasonal] = at[0]!;
  out.scale[D.seasonal] = at[1]! * c.z;
  out.raw[D.seasonal] = levelScore(z, c.z);
  if (warm) out.scores[D.seasonal] = out.raw[D.seasonal]!;
}

/**
 * A sustained shift: the mean of this reading and the `window - 1` before it (from the MAD ring)
 * against a slow baseline, in the baseline's standard deviations. Catches a level change too small
 * for any one reading to stand out. The baseline is not winsorised: it follows a lasting change.
 */
export function shift(
  s: SensorState,
  c: EffectiveConfig['shift'],
  v: number,
  warm: boolean,
  out: Evaluation,
  learn: boolean,
): void {
  const f = s.f;
  const n = f[F.n]!;
  if (n === 0) {
    if (learn) {
      f[F.slowMean] = v;
      f[F.slowVar] = 0;
    }
    return;
  }
  const mean = f[F.slowMean]!;
  const sd = scaleOf(f[F.slowVar]!, mean);
  const fill = f[F.winFill]!;
  const w = s.ring.length;
  if (fill >= c.window - 1) {
    let sum = v;
    let at = f[F.winPos]!;
    for (let k = 1; k < c.window; k++) {
      at = at === 0 ? w - 1 : at - 1;
      sum += s.ring[at]!;
    }
    const z = Math.abs(sum / c.window - mean) / sd;
    out.center[D.shift] = mean;
    out.scale[D.shift] = sd * c.z;
    out.raw[D.shift] = levelScore(z, c.z);
    if (warm) out.scores[D.shift] = out.raw[D.shift]!;
  }
  if (!learn) return;
  const a = Math.max(c.alpha, 1 / (n + 1));
  const d = v - mean;
  f[F.slowMean] = mean + a * d;
  f[F.slowVar] = (1 - a) * (f[F.slowVar]! + a * d * d);
}

/** Readings until the range envelope is trusted on its own (below: the step guard applies). */
const RANGE_YOUNG_READINGS = 1000;
/** Typical steps a young envelope must be exceeded by. */
const RANGE_STEP_GUARD = 3;

/**
 * A value outside everything the sensor has reported (since its state began) by more than
 * `tolerance` × that range: FIRE just past it, approaching 1 further out. The envelope learns
 * every in-order reading, so it only widens.
 */
export function range(
  s: SensorState,
  c: EffectiveConfig['range'],
  ts: number,
  v: number,
  warm: boolean,
  out: Evaluation,
  learn: boolean,
): void {
  const f = s.f;
  const lo = f[F.rangeLo]!;
  const hi = f[F.rangeHi]!;
  if (hi > lo) {
    const width = hi - lo;
    // While the envelope is young (it has not seen a full cycle yet), a trend reaches new extremes
    // by ordinary steps: then only a jump of more than RANGE_STEP_GUARD typical steps (the rate
    // detector's learned change per second, over this reading's interval) is out of range.
    const dt = (ts - f[F.lastTs]!) / 1000;
    const step = dt > 0 ? (Math.abs(f[F.rateMean]!) + Math.sqrt(Math.max(0, f[F.rateVar]!))) * dt : 0;
    const young = f[F.n]! < RANGE_YOUNG_READINGS;
    const tol = Math.max(c.tolerance * width, young ? RANGE_STEP_GUARD * step : 0);
    out.center[D.range] = (lo + hi) / 2;
    out.scale[D.range] = width / 2 + tol;
    const excess = v > hi ? v - hi : v < lo ? lo - v : 0;
    out.raw[D.range] = excess > tol ? levelScore(excess, tol) : 0;
    if (warm) out.scores[D.range] = out.raw[D.range]!;
  }
  if (!learn) return;
  if (v < lo) f[F.rangeLo] = v;
  if (v > hi) f[F.rangeHi] = v;
}
