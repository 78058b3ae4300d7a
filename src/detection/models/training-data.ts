import type { Db } from '../../db/database.js';
import type { QueryService } from '../../telemetry/query/query.service.js';
import type { SeriesIds } from '../../telemetry/storage/series-ids.js';
import type { EffectiveConfig } from '../config/effective-config.js';
import { FEATURE_COUNT, FEATURES, sensorFeatures } from '../detectors/features.js';
import { Evaluation } from '../engine/evaluation.js';
import { SensorDetector } from '../engine/sensor-detector.js';

/** Rows of features for a model, in time order. */
export interface TrainingData {
  readonly rows: Float64Array;
  readonly dims: number;
  readonly count: number;
  /** Each row's time. */
  readonly times: Float64Array;
  readonly features: readonly string[];
  readonly from: number;
  readonly to: number;
}

/** Most history one training run reads (rows). */
export const MAX_TRAINING_ROWS = 200_000;
/** Most sensors an asset model covers (its features; also bounds what one training run holds). */
export const MAX_ASSET_MODEL_SENSORS = 32;

export class TrainingInputError extends Error {}

/**
 * A sensor's features over its recent history, computed exactly as the streaming detector
 * computes them (the history is replayed through a fresh state).
 */
export async function sensorTrainingData(
  deps: { queries: QueryService; seriesIds: SeriesIds },
  sensorId: string,
  config: EffectiveConfig,
  from: number,
  to: number,
): Promise<TrainingData> {
  const series = (await deps.seriesIds.lookup([sensorId])).get(sensorId);
  const empty = {
    rows: new Float64Array(0),
    dims: FEATURE_COUNT,
    count: 0,
    times: new Float64Array(0),
    features: FEATURES,
    from,
    to,
  };
  if (series === undefined) return empty;
  const run = await deps.queries.range(series, from, to);
  const skip = Math.max(0, run.ts.length - MAX_TRAINING_ROWS);
  const replay = new SensorDetector({
    ...config,
    isolationForest: { ...config.isolationForest, enabled: false },
  });
  const state = replay.newState();
  const out = new Evaluation();
  const rows = new Float64Array((run.ts.length - skip) * FEATURE_COUNT);
  const times = new Float64Array(run.ts.length - skip);
  let count = 0;
  for (let i = skip; i < run.ts.length; i++) {
    if (sensorFeatures(state, run.ts[i]!, run.value[i]!, rows, count * FEATURE_COUNT))
      times[count++] = run.ts[i]!;
    replay.evaluate(state, run.ts[i]!, run.value[i]!, out);
  }
  return {
    rows: rows.subarray(0, count * FEATURE_COUNT),
    dims: FEATURE_COUNT,
    count,
    times: times.subarray(0, count),
    features: FEATURES,
    from: run.ts.length > skip ? run.ts[skip]! : from,
    to: run.ts.length > 0 ? run.ts[run.ts.length - 1]! : to,
  };
}

/**
 * An asset's sensors side by side: each member's readings on a common grid (the slowest member's
 * typical interval), carrying the last value forward; rows start once every member has reported.
 * Features are the members' values in key order, as the streaming asset detector sees them.
 */
export async function assetTrainingData(
  deps: { db: Db; queries: QueryService; seriesIds: SeriesIds },
  tenantId: string,
  assetId: string,
  from: number,
  to: number,
): Promise<TrainingData> {
  const members = await deps.db
    .selectFrom('sensors')
    .select(['id', 'key'])
    .where('tenant_id', '=', tenantId)
    .where('asset_id', '=', assetId)
    .orderBy('key')
    .execute();
  if (members.length > MAX_ASSET_MODEL_SENSORS) {
    throw new TrainingInputError(
      `an asset model covers at most ${MAX_ASSET_MODEL_SENSORS} sensors (this asset has ${members.length})`,
    );
  }
  const keys = members.map((m) => m.key);
  const empty = {
    rows: new Float64Array(0),
    dims: Math.max(1, keys.length),
    count: 0,
    times: new Float64Array(0),
    features: keys,
    from,
    to,
  };
  if (members.length < 2) return empty;
  const series = await deps.seriesIds.lookup(members.map((m) => m.id));
  const runs = [];
  for (const m of members) {
    const s = series.get(m.id);
    if (s === undefined) return empty;
    const run = await deps.queries.range(s, from, to);
    // Only the newest readings can reach the grid's rows: keep those, so memory stays bounded.
    const keep = Math.max(0, run.ts.length - 2 * MAX_TRAINING_ROWS);
    runs.push({ ts: run.ts.subarray(keep), value: run.value.subarray(keep) });
  }
  let step = 1000;
  for (const r of runs) {
    if (r.ts.length < 2) return empty;
    // The member's typical interval, from its newest (at most 10,000) gaps.
    const n = Math.min(10_000, r.ts.length - 1);
    const gaps = new Float64Array(n);
    for (let i = 0; i < n; i++) gaps[i] = r.ts[r.ts.length - 1 - i]! - r.ts[r.ts.length - 2 - i]!;
    gaps.sort();
    step = Math.max(step, gaps[n >> 1]!);
  }
  const start = Math.max(...runs.map((r) => r.ts[0]!));
  const end = Math.min(to, Math.max(...runs.map((r) => r.ts[r.ts.length - 1]!)));
  const n = Math.min(MAX_TRAINING_ROWS, Math.max(0, Math.floor((end - start) / step) + 1));
  const first = end - (n - 1) * step;
  const dims = members.length;
  const rows = new Float64Array(n * dims);
  runs.forEach((r, d) => {
    let j = 0;
    for (let i = 0; i < n; i++) {
      const t = first + i * step;
      while (j + 1 < r.ts.length && r.ts[j + 1]! <= t) j++;
      rows[i * dims + d] = r.value[j]!;
    }
  });
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) times[i] = first + i * step;
  return { rows, dims, count: n, times, features: keys, from: first, to: end };
}
