import type { IsolationForest } from '../isolation-forest/isolation-forest.js';
import { Random } from '../isolation-forest/random.js';

/** How a model does on a held-out window: what the activation decision compares. */
export interface HoldoutMetrics {
  readonly heldOutRows: number;
  /** Share of held-out rows (assumed mostly normal) scoring at or above the firing level. */
  readonly falseAlarmRate: number;
  /** Share of synthetic anomalies (held-out rows pushed 6 robust spreads away) that fire. */
  readonly detectionRate: number;
  /**
   * ROC AUC of telling the synthetic anomalies from the held-out rows by score (0.5: chance, 1:
   * every fault above every normal row). Threshold-free, so models with different calibrated
   * thresholds compare fairly. Higher is better.
   */
  readonly quality: number;
  readonly meanScore: number;
}

/** Robust spread (MAD × 1.4826, else the standard deviation, else 1) of one feature. */
function spreadOf(rows: Float64Array, dims: number, d: number, count: number): number {
  const v = new Float64Array(count);
  for (let i = 0; i < count; i++) v[i] = rows[i * dims + d]!;
  v.sort();
  const med = v[count >> 1]!;
  for (let i = 0; i < count; i++) v[i] = Math.abs(v[i]! - med);
  v.sort();
  const mad = 1.4826 * v[count >> 1]!;
  if (mad > 0) return mad;
  let mean = 0;
  for (let i = 0; i < count; i++) mean += rows[i * dims + d]!;
  mean /= count;
  let s = 0;
  for (let i = 0; i < count; i++) s += (rows[i * dims + d]! - mean) ** 2;
  const sd = Math.sqrt(s / count);
  return sd > 0 ? sd : 1;
}

/**
 * Scores a model on held-out rows, and on the same rows with a synthetic fault injected: the
 * features in `shifted` (for a sensor: value, delta and deviation; for an asset: one random
 * member) moved by 6 robust spreads of the training data, up or down. Deterministic (seeded), so
 * two models are compared on exactly the same anomalies.
 */
export function evaluateHoldout(
  forest: IsolationForest,
  train: { rows: Float64Array; count: number },
  heldOut: { rows: Float64Array; count: number },
  dims: number,
  fireAt: number,
  shifted: readonly number[] | 'one-random',
  seed = 7,
): HoldoutMetrics {
  const n = heldOut.count;
  if (n === 0) return { heldOutRows: 0, falseAlarmRate: 0, detectionRate: 0, quality: 0, meanScore: 0 };
  const spreads = Array.from({ length: dims }, (_, d) => spreadOf(train.rows, dims, d, train.count));
  const rnd = new Random(seed);
  const x = new Float64Array(dims);
  let alarms = 0;
  let detected = 0;
  let sum = 0;
  const normal = new Float64Array(n);
  const faulty = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dims; d++) x[d] = heldOut.rows[i * dims + d]!;
    const s = forest.score(x, 0);
    normal[i] = s;
    sum += s;
    if (s >= fireAt) alarms++;
    const sign = rnd.nextFloat() < 0.5 ? -1 : 1;
    const dimsToShift = shifted === 'one-random' ? [rnd.nextInt(dims)] : shifted;
    const base = shifted === 'one-random' ? dimsToShift[0]! : 0;
    for (const d of dimsToShift) x[d] = x[d]! + sign * 6 * spreads[base]!;
    faulty[i] = forest.score(x, 0);
    if (faulty[i]! >= fireAt) detected++;
  }
  return {
    heldOutRows: n,
    falseAlarmRate: alarms / n,
    detectionRate: detected / n,
    quality: auc(normal, faulty),
    meanScore: sum / n,
  };
}

/** P(a random faulty score > a random normal one), ties counting half (Mann–Whitney U over n²). */
function auc(normal: Float64Array, faulty: Float64Array): number {
  const a = Float64Array.from(normal).sort();
  const b = Float64Array.from(faulty).sort();
  let total = 0;
  let i = 0;
  for (const f of b) {
    while (i < a.length && a[i]! < f) i++;
    let j = i;
    while (j < a.length && a[j]! === f) j++;
    total += i + (j - i) / 2;
  }
  return total / (a.length * b.length);
}

/** Share of training rows a calibrated model would flag: its expected false-alarm rate. */
export const CONTAMINATION = 0.005;

/**
 * The firing level of a model fitted to its own training data: the score that only the top
 * 0.5 % of training rows reach (clamped to [0.55, 0.9]). Isolation scores depend on the number
 * of features and the shape of the data, so a fixed level suits no model in particular.
 */
export function calibrateThreshold(
  forest: IsolationForest,
  train: { rows: Float64Array; count: number },
): number {
  const scores = forest.scoreMany(train.rows.subarray(0, train.count * forest.dims));
  scores.sort();
  const q = scores[Math.min(scores.length - 1, Math.floor((1 - CONTAMINATION) * scores.length))] ?? 0.6;
  return Math.min(0.9, Math.max(0.55, q));
}
