/**
 * The detector that bench:nab scores as "Vigil".
 *
 * TEMPORARY: this is a faithful re-implementation of NAB's windowedGaussian detector
 * (nab/detectors/gaussian/windowedGaussian_detector.py: a window of the last 6,400 values, moved on
 * 100 values at a time; the score of a value is 1 - the Gaussian tail probability of that value
 * under the window's mean and standard deviation), used to prove the benchmark end to end against
 * NAB's published 39.6 / 20.9 / 47.4. It is to be replaced by Vigil's own detector; the exported
 * signature stays.
 * It reproduces the anomaly_score column of NAB's results/windowedGaussian files: after the 12-digit
 * rounding below, all 365,558 rows are equal but 12, which differ by one in the last digit.
 */

const WINDOW_SIZE = 6400;
const STEP_SIZE = 100;

/**
 * NumPy's pairwise summation (blocks of 8 partial sums up to 128 values, halving above), so that the
 * window's mean and deviation round exactly as NAB's np.mean / np.std did: the score of a value on a
 * flat stretch depends on whether its deviation comes out as exactly 0.
 */
function pairwiseSum(a: Float64Array, from: number, n: number): number {
  if (n < 8) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[from + i]!;
    return s;
  }
  if (n <= 128) {
    let r0 = a[from]!;
    let r1 = a[from + 1]!;
    let r2 = a[from + 2]!;
    let r3 = a[from + 3]!;
    let r4 = a[from + 4]!;
    let r5 = a[from + 5]!;
    let r6 = a[from + 6]!;
    let r7 = a[from + 7]!;
    const end = n - (n % 8);
    let i = 8;
    for (; i < end; i += 8) {
      const j = from + i;
      r0 += a[j]!;
      r1 += a[j + 1]!;
      r2 += a[j + 2]!;
      r3 += a[j + 3]!;
      r4 += a[j + 4]!;
      r5 += a[j + 5]!;
      r6 += a[j + 6]!;
      r7 += a[j + 7]!;
    }
    let s = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) s += a[from + i]!;
    return s;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, from, n2) + pairwiseSum(a, from + n2, n - n2);
}

const SQRT_PI = Math.sqrt(Math.PI);

/**
 * erfc(x) for x >= 0 (JavaScript has none): the Taylor series of erf below 1.5, a continued fraction
 * for the tail above, to a few ulps, which is what the detector's 1 - tail needs near 1.
 */
export function erfc(x: number): number {
  if (x < 1.5) {
    const x2 = x * x;
    let acc = 0;
    let k = 25.5;
    for (let i = 0; i < 25; i++, k -= 1) acc = 2 + (x2 * acc) / k;
    return 1 - (acc * x * Math.exp(-x2)) / SQRT_PI;
  }
  if (x >= 30) return 0;
  const x2 = x * x;
  let a = 0;
  let da = 0.5;
  let p = 1;
  let pLast = 0;
  let q = da + x2;
  let qLast = 1;
  for (let i = 0; i < 50; i++) {
    a += da;
    da += 2;
    const b = da + x2;
    const p2 = b * p - a * pLast;
    pLast = p;
    p = p2;
    const q2 = b * q - a * qLast;
    qLast = q;
    q = q2;
  }
  return ((p / q) * x * Math.exp(-x2)) / SQRT_PI;
}

/** NAB's normalProbability: the tail probability beyond x, mirrored below the mean. */
function normalProbability(x: number, mean: number, std: number): number {
  const v = x < mean ? 2 * mean - x : x;
  return 0.5 * erfc((v - mean) / std / Math.SQRT2);
}

export async function windowedGaussianScores(
  _timestamps: Float64Array,
  values: Float64Array,
  _info: { probationRows: number; file: string },
): Promise<Float64Array> {
  const scores = new Float64Array(values.length);
  const window = new Float64Array(WINDOW_SIZE);
  const deviations = new Float64Array(WINDOW_SIZE);
  const step = new Float64Array(STEP_SIZE);
  let size = 0;
  let stepped = 0;
  let mean = 0;
  let std = 1;
  const update = () => {
    mean = pairwiseSum(window, 0, size) / size;
    for (let i = 0; i < size; i++) {
      const d = window[i]! - mean;
      deviations[i] = d * d;
    }
    std = Math.sqrt(pairwiseSum(deviations, 0, size) / size);
    if (std === 0) std = 0.000001;
  };
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    scores[i] = size > 0 ? 1 - normalProbability(x, mean, std) : 0;
    if (size < WINDOW_SIZE) {
      window[size++] = x;
      update();
    } else {
      step[stepped++] = x;
      if (stepped === STEP_SIZE) {
        window.copyWithin(0, STEP_SIZE);
        window.set(step, WINDOW_SIZE - STEP_SIZE);
        stepped = 0;
        update();
      }
    }
  }
  // NAB's published results were written by Python 2, whose str(float) keeps 12 significant digits,
  // and the scorer read them back: 1,108 rows round to exactly 1.0 (800 are 1.0 before rounding), and
  // the published threshold is 1.0. Without this the sweeper finds finer thresholds (40.1 / 23.9 / 47.7).
  for (let i = 0; i < scores.length; i++) scores[i] = Number(scores[i]!.toPrecision(12));
  return scores;
}
