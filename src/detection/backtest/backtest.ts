import type { DetectorConfigDoc } from '../config/detector-config.schema.js';
import { assetRules, type EffectiveConfig, effectiveConfig } from '../config/effective-config.js';
import { FEATURE_COUNT, sensorFeatures } from '../detectors/features.js';
import { AssetDetector } from '../engine/asset-detector.js';
import { D, DETECTORS, Evaluation } from '../engine/evaluation.js';
import { type ActiveModel, SensorDetector } from '../engine/sensor-detector.js';
import type { SensorState } from '../engine/sensor-state.js';
import { IsolationForest } from '../isolation-forest/isolation-forest.js';
import { calibrateThreshold } from '../models/model-evaluation.js';
import { MAX_TRAINING_ROWS } from '../models/training-data.js';

/** A table of readings: one time column and one or more sensor columns (NaN = no reading). */
export interface BacktestInput {
  readonly ts: Float64Array;
  readonly columns: readonly { readonly name: string; readonly values: Float64Array }[];
}

export interface BacktestOptions {
  /** Detector document for every column (as a sensor type's document). */
  readonly config?: DetectorConfigDoc;
  /**
   * The merged configuration to score with, when the caller has already layered documents (a
   * sensor type's and a sensor's); wins over `config` for the sensor detectors.
   */
  readonly effective?: EffectiveConfig;
  /**
   * Each column's own merged configuration (a sensor's type and sensor documents, as the pipeline
   * layers them); wins over `effective` and `config` for that column's detectors.
   */
  readonly columnConfigs?: readonly EffectiveConfig[];
  /**
   * The asset's document (its rules and its multivariate model's settings), as the pipeline reads
   * it; when absent the rules and model follow `config`, as one document for everything.
   */
  readonly assetDoc?: DetectorConfigDoc | null;
  /** Ensemble threshold override (every column and the asset). */
  readonly threshold?: number;
  /** Rows that are history only: learned and trained on, never flagged. */
  readonly trainRows?: number;
  readonly seed?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/** One output row's verdict. */
export interface BacktestRow {
  /** The ensemble score: point anomalies, and 1 while a condition (rule, flatline, heartbeat) is active. */
  readonly score: number;
  /**
   * The point anomaly score alone (what the pipeline stores a point anomaly for at the threshold):
   * the highest of the columns' and of the asset model's.
   */
  readonly pointScore: number;
  /** A condition was raised at this row (the pipeline's `raised` event). */
  readonly raised: boolean;
  readonly anomaly: boolean;
  readonly fired: readonly string[];
  readonly explanation: string;
}

/** Detectors that raise and clear conditions (the rest score single readings). */
const CONDITIONS: readonly number[] = [D.threshold, D.flatline, D.heartbeat];

/** Rows of history an Isolation Forest is first trained on when no --train-rows is given. */
const DEFAULT_TRAIN_AT = 500;

/**
 * Keeps the newest `cap` rows of `dims` values (trimmed once the history is twice that, so each
 * row is moved at most once on average). Training, as in production, uses at most
 * MAX_TRAINING_ROWS of the newest history: that also bounds its memory and how long one training
 * holds the thread.
 */
function pushBounded(history: number[], values: ArrayLike<number>, dims: number, cap: number): void {
  for (let i = 0; i < values.length; i++) history.push(values[i]!);
  if (history.length > 2 * cap * dims) history.splice(0, history.length - cap * dims);
}
const newest = (history: number[], dims: number) =>
  Float64Array.from(
    history.length > MAX_TRAINING_ROWS * dims ? history.slice(-MAX_TRAINING_ROWS * dims) : history,
  );

/**
 * Runs the production detectors over a table, online: each row is scored with what the rows
 * before it taught, never with what comes after. Each column is a sensor with its own state; the
 * columns together are one asset (its rules, and a multivariate model when there are several).
 * When the Isolation Forest is enabled it is trained, as the retraining job would, on the history
 * seen so far: at `trainRows` (or after 500 rows) and again each time the history doubles.
 */
export function* backtest(input: BacktestInput, opts: BacktestOptions = {}): Generator<BacktestRow> {
  const doc = opts.threshold === undefined ? opts.config : { ...opts.config, threshold: opts.threshold };
  const config = opts.effective
    ? opts.threshold === undefined
      ? opts.effective
      : { ...opts.effective, threshold: opts.threshold }
    : effectiveConfig(doc);
  const names = input.columns.map((c) => c.name);
  const withThreshold = (c: EffectiveConfig) =>
    opts.threshold === undefined ? c : { ...c, threshold: opts.threshold };
  const configs = input.columns.map((_, i) => {
    const own = opts.columnConfigs?.[i];
    return own ? withThreshold(own) : config;
  });
  const assetConfig = opts.assetDoc === undefined ? config : withThreshold(effectiveConfig(opts.assetDoc));
  const sensors = input.columns.map((_, i) => ({
    detector: new SensorDetector(configs[i]!),
    state: null as SensorState | null,
  }));
  for (const s of sensors) s.state = s.detector.newState();
  let asset = new AssetDetector(assetRules(opts.assetDoc === undefined ? opts.config : opts.assetDoc), names);
  const assetState = asset.newState();
  // An asset's sensors report at their own times: a row has some of them, and the others' state
  // carries over (their conditions, and their latest values for the asset model). A table given
  // as one (the CLI's CSV, NAB) is scored row by row as it stands.
  const assetPath = opts.columnConfigs !== undefined || opts.assetDoc !== undefined;
  const latest = new Float64Array(input.columns.length).fill(Number.NaN);
  let reported = 0;
  /** Per column: the conditions it was last found in, if any. */
  const holding: ({ score: number; fired: string[] } | null)[] = input.columns.map(() => null);
  const out = new Evaluation();
  const rows = input.ts.length;
  const trainRows = opts.trainRows ?? 0;
  const columnForest = configs.map((c) => c.isolationForest.enabled);
  const assetForest = names.length > 1 && assetConfig.isolationForest.enabled;
  const useForest = assetForest || columnForest.some(Boolean);
  let nextTrain = useForest
    ? Math.max(trainRows, trainRows > 0 ? 0 : DEFAULT_TRAIN_AT)
    : Number.POSITIVE_INFINITY;
  let modelVersion = 0;
  // Feature rows per column (and the asset's value rows), kept for training.
  const history = input.columns.map(() => [] as number[]);
  const assetRows: number[] = [];
  const feat = new Float64Array(FEATURE_COUNT);

  for (let r = 0; r < rows; r++) {
    if (r === nextTrain && r > 0) {
      modelVersion++;
      const seed = (opts.seed ?? 1) + modelVersion;
      const params = (c: EffectiveConfig) => ({
        trees: c.isolationForest.trees,
        sampleSize: c.isolationForest.sampleSize,
        seed,
      });
      sensors.forEach((s, i) => {
        const h = history[i]!;
        if (!columnForest[i] || h.length < FEATURE_COUNT * 32) return;
        const rows = newest(h, FEATURE_COUNT);
        const forest = IsolationForest.train(rows, FEATURE_COUNT, params(configs[i]!));
        const threshold = calibrateThreshold(forest, { rows, count: rows.length / FEATURE_COUNT });
        s.detector = new SensorDetector(configs[i]!, {
          id: `backtest-${names[i]}`,
          version: modelVersion,
          forest,
          threshold,
        });
      });
      if (assetForest && assetRows.length >= names.length * 32) {
        const rows = newest(assetRows, names.length);
        const forest = IsolationForest.train(rows, names.length, params(assetConfig));
        const threshold = calibrateThreshold(forest, { rows, count: rows.length / names.length });
        const model: ActiveModel = { id: 'backtest-asset', version: modelVersion, forest, threshold };
        asset = new AssetDetector(asset.rules, names, model, assetConfig.isolationForest.fireAt);
      }
      nextTrain = r * 2;
    }
    const ts = input.ts[r]!;
    const history_ = r < trainRows;
    let score = 0;
    let pointScore = 0;
    let raised = false;
    // Each score is judged by the threshold of what produced it (a column's, or the asset's).
    let anomalous = false;
    const fired: string[] = [];
    const why: string[] = [];
    let complete = true;
    for (let i = 0; i < sensors.length; i++) {
      const v = input.columns[i]!.values[r]!;
      if (Number.isNaN(v)) {
        complete = false;
        // A condition of this sensor (a limit, flatline, silence) holds until its next reading
        // says otherwise: rows of the other sensors in between do not end it.
        const held = holding[i];
        if (held) {
          anomalous = true;
          if (held.score > score) score = held.score;
          for (const d of held.fired) if (!fired.includes(d)) fired.push(d);
        }
        continue;
      }
      if (Number.isNaN(latest[i]!)) reported++;
      latest[i] = v;
      const s = sensors[i]!;
      const state = s.state!;
      if (columnForest[i] && sensorFeatures(state, ts, v, feat))
        pushBounded(history[i]!, feat, FEATURE_COUNT, MAX_TRAINING_ROWS);
      s.detector.evaluate(state, ts, v, out);
      const prefix = sensors.length > 1 ? `${names[i]}:` : '';
      if (out.score > score) score = out.score;
      if (out.score >= configs[i]!.threshold) anomalous = true;
      if (assetPath) {
        const active = CONDITIONS.filter((d) => out.scores[d]! >= 0.5);
        holding[i] = active.length > 0 ? { score: 1, fired: active.map((d) => prefix + DETECTORS[d]) } : null;
      }
      if (out.pointScore > pointScore) pointScore = out.pointScore;
      for (const d of out.fired(0.5)) fired.push(prefix + d);
      for (const t of out.transitions) {
        why.push(`${prefix}${t.detector}${t.ruleId ? `(${t.ruleId})` : ''} ${t.state}`);
        if (t.state === 'raised') raised = true;
      }
      if (out.anomaly) why.push(prefix + JSON.stringify(s.detector.explain(out, v)));
      if (!out.late) {
        const a = asset.evaluate(assetState, names[i]!, ts, v);
        if (a.score > score) score = a.score;
        if (a.score >= assetConfig.threshold) anomalous = true;
        if (a.score > pointScore) pointScore = a.score;
        if (a.score >= 0.5 && !fired.includes('iforest-asset')) fired.push('iforest-asset');
        for (const t of a.transitions) {
          why.push(`asset-rule(${t.ruleId}) ${t.state}`);
          if (t.state === 'raised') {
            score = 1;
            anomalous = true;
            raised = true;
          }
        }
        for (const ruleId of asset.rules.map((x) => x.id)) {
          if (asset.isRaised(assetState, ruleId)) {
            score = 1;
            anomalous = true;
            if (!fired.includes(`asset-rule(${ruleId})`)) fired.push(`asset-rule(${ruleId})`);
          }
        }
      }
    }
    if (assetForest && assetPath) {
      // The pipeline's model sees each sensor's latest value once every one has reported.
      if (reported === names.length) pushBounded(assetRows, latest, names.length, MAX_TRAINING_ROWS);
    } else if (assetForest && complete)
      pushBounded(
        assetRows,
        input.columns.map((c) => c.values[r]!),
        names.length,
        MAX_TRAINING_ROWS,
      );
    if (opts.onProgress && (r % 1000 === 999 || r === rows - 1)) opts.onProgress(r + 1, rows);
    if (history_) {
      yield { score: 0, pointScore: 0, raised: false, anomaly: false, fired: [], explanation: 'training' };
      continue;
    }
    yield {
      score,
      pointScore,
      raised,
      anomaly: anomalous,
      fired,
      explanation: why.join('; '),
    };
  }
}
