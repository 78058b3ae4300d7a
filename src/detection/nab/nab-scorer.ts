/**
 * The Numenta Anomaly Benchmark (NAB) scoring rules, re-implemented from NAB's sources
 * (nab/sweeper.py, nab/scorer.py, nab/optimizer.py, nab/labeler.py, nab/util.py, NAB ≥ 1.0) so that
 * Vigil's detectors can be scored without Python. Pure functions, no I/O; see nab-corpus.ts for
 * reading a NAB directory.
 *
 * Rules, as NAB applies them:
 * - The first `min(floor(0.15 N), 0.15 × 5000)` rows of each file are a probation period: never
 *   scored, neither as detections nor as misses.
 * - A detection inside an anomaly window scores `tpWeight × S(p) / S(-1)`, with
 *   `S(p) = 2·sigmoid(-5p) - 1` and `p = -(right - i + 1) / width` (so the window's first row is
 *   exactly `tpWeight`); only a window's best (earliest) detection counts. A window without any
 *   detection costs `-fnWeight`.
 * - A detection outside any window costs `fpWeight × S(p)` with `p = |i - prevRight| / (prevWidth - 1)`
 *   measured from the previous window, or `-fpWeight` when no window precedes it.
 * - The detector's threshold is chosen once per profile for the whole corpus (the sweeper), and the
 *   normalised score is `100 (raw - null) / (perfect - null)`.
 */

export type ProfileName = 'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate';
export const PROFILE_NAMES: readonly ProfileName[] = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'];

export interface CostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
  /** Carried for completeness: NAB's scorer gives true negatives no weight. */
  tnWeight: number;
}
export type Profiles = Record<ProfileName, CostMatrix>;

/** NAB's config/profiles.json. */
export const NAB_PROFILES: Profiles = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1, tnWeight: 1 },
  reward_low_FP_rate: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1, tnWeight: 1 },
  reward_low_FN_rate: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2, tnWeight: 1 },
};

export type Window = readonly [startMs: number, endMs: number];

export interface LabelledFile {
  /** Path relative to NAB's data directory, e.g. `realKnownCause/nyc_taxi.csv`. */
  name: string;
  /** Epoch milliseconds, ascending. */
  timestamps: Float64Array;
  /** Anomaly windows, inclusive at both ends, sorted and not overlapping (as in combined_windows.json). */
  windows: readonly Window[];
}

export interface ScoredFile extends LabelledFile {
  /** The detector's anomaly score for each row. */
  scores: ArrayLike<number>;
}

export interface Counts {
  /** Rows (not windows) after probation, by outcome. */
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface FileScore extends Counts {
  /** NAB's raw score. */
  score: number;
}

export const PROBATION_PERCENT = 0.15;

/** NAB's getProbationPeriod: rows with an index below it are not scored. */
export function probationRows(rows: number, percent = PROBATION_PERCENT): number {
  return Math.min(Math.floor(percent * rows), percent * 5000);
}

/** Number of whole rows in probation (the first row index that is scored). */
export function firstScoredRow(rows: number, percent = PROBATION_PERCENT): number {
  return Math.ceil(probationRows(rows, percent));
}

export function scaledSigmoid(relativePosition: number): number {
  // NAB's sweeper clamps at >= 3 (its old scorer used > 3; the value differs by 1e-6 there).
  if (relativePosition >= 3) return -1;
  return 2 * (1 / (1 + Math.exp(5 * relativePosition))) - 1;
}

/** S(-1): a detection on a window's first row. Dividing by it makes that detection worth tpWeight. */
export const MAX_TP = scaledSigmoid(-1);

/**
 * A file reduced to what scoring needs, independent of the profile: each row's window and the
 * unweighted scaled sigmoid it would earn if detected.
 */
export interface PreparedFile {
  name: string;
  rows: number;
  /** First scored row index. */
  start: number;
  /** Window of each row (index into the file's windows), -1 outside every window. */
  window: Int32Array;
  /** Unweighted S(p) of each row: inside a window, to be × tpWeight / MAX_TP; outside, × fpWeight. */
  sigmoid: Float64Array;
  /** Number of anomaly windows in the label file. */
  windows: number;
  /** Windows with at least one row after probation: the only ones NAB can count as missed. */
  scorable: Uint8Array;
}

/** First index whose value is >= x (strict = false) or > x (strict = true). */
function bound(a: Float64Array, x: number, strict: boolean): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x || (strict && a[mid] === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First and last row index of each window (inclusive); [-1, -2] for a window that holds no row. */
export function windowRows(timestamps: Float64Array, windows: readonly Window[]): Array<[number, number]> {
  return windows.map(([t1, t2]) => {
    const first = bound(timestamps, t1, false);
    const last = bound(timestamps, t2, true) - 1;
    return first <= last ? [first, last] : [-1, -2];
  });
}

export function prepareFile(file: LabelledFile, probationPercent = PROBATION_PERCENT): PreparedFile {
  const rows = file.timestamps.length;
  const ranges = windowRows(file.timestamps, file.windows);
  for (let w = 1; w < ranges.length; w++) {
    if (ranges[w]![0] >= 0 && ranges[w]![0] <= ranges[w - 1]![1]) {
      throw new RangeError(`${file.name}: windows ${w - 1} and ${w} overlap or are out of order`);
    }
  }
  const start = firstScoredRow(rows, probationPercent);
  const window = new Int32Array(rows).fill(-1);
  const sigmoid = new Float64Array(rows);
  const scorable = new Uint8Array(ranges.length);
  let next = 0;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < rows; i++) {
    while (next < ranges.length && ranges[next]![1] < i) {
      // Also skips windows that hold no row.
      if (ranges[next]![0] >= 0) {
        prevRight = ranges[next]![1];
        prevWidth = ranges[next]![1] - ranges[next]![0] + 1;
      }
      next++;
    }
    const r = ranges[next];
    if (r && r[0] <= i) {
      const width = r[1] - r[0] + 1;
      window[i] = next;
      sigmoid[i] = scaledSigmoid(-(r[1] - i + 1) / width);
      if (i >= start) scorable[next] = 1;
    } else if (prevRight < 0) {
      sigmoid[i] = scaledSigmoid(3);
    } else {
      // After a one-row window this divides by zero (a ZeroDivisionError in NAB); Infinity gives the limit, -1.
      sigmoid[i] = scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1));
    }
  }
  return { name: file.name, rows, start, window, sigmoid, windows: ranges.length, scorable };
}

function prepared(file: LabelledFile | PreparedFile): PreparedFile {
  return 'sigmoid' in file ? file : prepareFile(file);
}

/** NAB's convertAnomalyScoresToDetections: a row is a detection when its score is >= the threshold. */
export function detectionsAt(scores: ArrayLike<number>, threshold: number): Uint8Array {
  const out = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i]! >= threshold ? 1 : 0;
  return out;
}

/** Raw NAB score and row counts of one file for a fixed set of detections (truthy = detected). */
export function scoreFile(
  file: LabelledFile | PreparedFile,
  detections: ArrayLike<number | boolean>,
  profile: CostMatrix,
): FileScore {
  const f = prepared(file);
  if (detections.length !== f.rows) {
    throw new RangeError(`${f.name}: ${detections.length} detections for ${f.rows} rows`);
  }
  const best = new Float64Array(f.windows).fill(-profile.fnWeight);
  let fpScore = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = f.start; i < f.rows; i++) {
    const w = f.window[i]!;
    const detected = Boolean(detections[i]);
    if (w >= 0) {
      if (detected) {
        tp++;
        const s = (f.sigmoid[i]! * profile.tpWeight) / MAX_TP;
        if (s > best[w]!) best[w] = s;
      } else fn++;
    } else if (detected) {
      fp++;
      fpScore += f.sigmoid[i]! * profile.fpWeight;
    } else tn++;
  }
  let score = fpScore;
  for (let w = 0; w < f.windows; w++) if (f.scorable[w]) score += best[w]!;
  return { score, tp, fp, fn, tn };
}

/** The null detector's raw score (no detections): every scorable window missed. */
export function nullScore(files: readonly (LabelledFile | PreparedFile)[], profile: CostMatrix): number {
  let missed = 0;
  for (const file of files) for (const s of prepared(file).scorable) missed += s;
  return -missed * profile.fnWeight;
}

/** NAB's "perfect" raw score: tpWeight for every window in the label file. */
export function perfectScore(files: readonly (LabelledFile | PreparedFile)[], profile: CostMatrix): number {
  let windows = 0;
  for (const file of files) windows += 'sigmoid' in file ? file.windows : file.windows.length;
  return windows * profile.tpWeight;
}

export function normalisedScore(raw: number, nullRaw: number, perfectRaw: number): number {
  return (100 * (raw - nullRaw)) / (perfectRaw - nullRaw);
}

/**
 * Every scored row of a corpus, sorted by anomaly score (descending, ties in corpus order, as
 * Python's stable sort leaves them), so that all thresholds can be evaluated in one pass per profile.
 */
export interface SweepCorpus {
  files: PreparedFile[];
  /** Per sorted row: anomaly score, global window id (-1 outside) and unweighted S(p). */
  score: Float64Array;
  window: Int32Array;
  sigmoid: Float64Array;
  /** Global window ids that can be missed (have a row after probation). */
  scorableWindows: Int32Array;
  windows: number;
}

export function prepareSweep(
  files: readonly ScoredFile[],
  probationPercent = PROBATION_PERCENT,
): SweepCorpus {
  const preparedFiles = files.map((f) => prepareFile(f, probationPercent));
  let n = 0;
  let windows = 0;
  for (const f of preparedFiles) {
    n += f.rows - f.start;
    windows += f.windows;
  }
  const rawScore = new Float64Array(n);
  const rawWindow = new Int32Array(n);
  const rawSigmoid = new Float64Array(n);
  const scorable: number[] = [];
  let k = 0;
  let base = 0;
  files.forEach((file, fi) => {
    const f = preparedFiles[fi]!;
    if (file.scores.length !== f.rows) {
      throw new RangeError(`${f.name}: ${file.scores.length} scores for ${f.rows} rows`);
    }
    for (let i = f.start; i < f.rows; i++, k++) {
      const s = file.scores[i]!;
      if (Number.isNaN(s)) throw new RangeError(`${f.name}: anomaly score of row ${i} is NaN`);
      rawScore[k] = s;
      rawWindow[k] = f.window[i]! >= 0 ? base + f.window[i]! : -1;
      rawSigmoid[k] = f.sigmoid[i]!;
    }
    for (let w = 0; w < f.windows; w++) if (f.scorable[w]) scorable.push(base + w);
    base += f.windows;
  });
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Index as tie-breaker makes the (unstable-by-spec) typed-array sort stable.
  order.sort((a, b) => rawScore[b]! - rawScore[a]! || a - b);
  const score = new Float64Array(n);
  const window = new Int32Array(n);
  const sigmoid = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const j = order[i]!;
    score[i] = rawScore[j]!;
    window[i] = rawWindow[j]!;
    sigmoid[i] = rawSigmoid[j]!;
  }
  return {
    files: preparedFiles,
    score,
    window,
    sigmoid,
    scorableWindows: Int32Array.from(scorable),
    windows,
  };
}

export interface SweepResult extends FileScore {
  /** Rows scoring >= threshold are detections. */
  threshold: number;
}

/**
 * NAB's threshold optimisation (optimizer.py + Sweeper.calcScoreByThreshold): start above every
 * score (1.1, no detections), lower the threshold through each distinct anomaly score, and keep
 * the best corpus-wide raw score; on ties the highest threshold wins, as NAB's stable sort keeps it first.
 */
export function sweepThreshold(
  corpus: SweepCorpus | readonly ScoredFile[],
  profile: CostMatrix,
): SweepResult {
  const c = 'sigmoid' in corpus ? corpus : prepareSweep(corpus);
  const n = c.score.length;
  const best = new Float64Array(c.windows).fill(-profile.fnWeight);
  let windowScore = -profile.fnWeight * c.scorableWindows.length;
  let fpScore = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) if (c.window[i]! >= 0) fn++;
  let tn = n - fn;

  let threshold = 1.1;
  let result: SweepResult | undefined;
  const record = () => {
    const score = fpScore + windowScore;
    if (!result || score > result.score) result = { threshold, score, tp, fp, fn, tn };
  };
  const tpFactor = profile.tpWeight / MAX_TP;
  for (let i = 0; i < n; i++) {
    const s = c.score[i]!;
    if (s !== threshold) {
      record();
      threshold = s;
    }
    const w = c.window[i]!;
    if (w >= 0) {
      tp++;
      fn--;
      const v = c.sigmoid[i]! * tpFactor;
      if (v > best[w]!) {
        windowScore += v - best[w]!;
        best[w] = v;
      }
    } else {
      fp++;
      tn--;
      fpScore += c.sigmoid[i]! * profile.fpWeight;
    }
  }
  record();
  return result!;
}

/**
 * NAB's labeler (applyWindows + checkWindows): a window of `windowSize × rows / labels` rows centred
 * on each labelled row; the first window is dropped if it starts inside probation; then each window
 * is merged with the next one if they touch or overlap. Returns row-index pairs. The merge pass
 * reproduces NAB's loop, which moves on after a merge (so a third overlapping window stays separate).
 */
export function labelWindows(
  rows: number,
  labelRows: readonly number[],
  windowSize = 0.1,
  probationPercent = PROBATION_PERCENT,
): Array<[number, number]> {
  if (labelRows.length === 0) return [];
  const sorted = [...labelRows].sort((a, b) => a - b);
  const length = Math.trunc((windowSize * rows) / labelRows.length);
  const half = Math.floor(length / 2);
  const windows = sorted.map((a): [number, number] => [Math.max(a - half, 0), Math.min(a + half, rows - 1)]);
  const probationIndex = probationRows(rows, probationPercent);
  if (windows[0]![0] < probationIndex) windows.shift();
  let i = 0;
  while (windows.length - 1 > i) {
    if (windows[i + 1]![0] <= windows[i]![1]) {
      windows[i] = [windows[i]![0], windows[i + 1]![1]];
      windows.splice(i + 1, 1);
    }
    i++;
  }
  return windows;
}
