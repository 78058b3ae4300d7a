import type { Db } from '../../db/database.js';
import { AppError } from '../../http/errors/catalogue.js';
import type { QueryService } from '../../telemetry/query/query.service.js';
import type { SeriesRun } from '../../telemetry/storage/chunk-codec.js';
import type { SeriesIds } from '../../telemetry/storage/series-ids.js';
import { currentConfigs } from '../config/detector-config.repository.js';
import { assetRules, effectiveConfig } from '../config/effective-config.js';
import { AssetDetector, type AssetState } from '../engine/asset-detector.js';
import { Evaluation } from '../engine/evaluation.js';
import { type ActiveModel, SensorDetector } from '../engine/sensor-detector.js';
import { F, type SensorState } from '../engine/sensor-state.js';
import { IsolationForest } from '../isolation-forest/isolation-forest.js';
import { activeModels } from '../models/models.repository.js';
import { loadCheckpoints } from './state.repository.js';

/** One sensor as the pipeline holds it. */
export interface SensorContext {
  readonly tenantId: string;
  readonly sensorId: string;
  readonly key: string;
  readonly assetId: string | null;
  readonly detector: SensorDetector;
  readonly state: SensorState;
  dirty: boolean;
  /** Wall-clock time this process last received a reading of it (restarts count as one). */
  lastArrival: number;
  readonly loadedAt: number;
  readonly generation: number;
}

export interface AssetContext {
  readonly detector: AssetDetector;
  readonly state: AssetState;
  readonly loadedAt: number;
  readonly generation: number;
  /** Rules, members and model: while it is unchanged, a reload keeps the state. */
  readonly digest: string;
}

/** Readings to replay into a freshly loaded state: missed ones (emitting) or history (learning only). */
export interface Replay {
  readonly ctx: SensorContext;
  readonly ts: Float64Array;
  readonly value: Float64Array;
  readonly emit: boolean;
}

export interface LoaderOptions {
  /** Readings of history a sensor without a checkpoint is warmed with. */
  readonly warmReadings: number;
  /** How far back warming looks. */
  readonly warmWindowMs: number;
  /** Most readings replayed after a checkpoint (those the previous process may not have scored). */
  readonly maxReplay: number;
}

function toModel(
  m: { id: string; version: number; threshold: number; data: Uint8Array } | undefined,
): ActiveModel | null {
  if (!m) return null;
  try {
    return {
      id: m.id,
      version: m.version,
      threshold: m.threshold,
      forest: IsolationForest.fromBytes(m.data),
    };
  } catch {
    // A model that cannot be read scores nothing rather than stopping the sensor's detection.
    return null;
  }
}

/**
 * Builds sensor and asset contexts from the database: the effective configuration (defaults ←
 * sensor type ← sensor), the active models, and the state: the checkpoint when it was made
 * under the same configuration (then replaying readings stored after it), else a fresh state
 * warmed from the sensor's recent history.
 */
export async function loadContexts(
  deps: { db: Db; queries: QueryService; seriesIds: SeriesIds; options: LoaderOptions },
  tenantId: string,
  sensorIds: readonly string[],
  firstTs: ReadonlyMap<string, number>,
  previous: ReadonlyMap<string, SensorContext>,
  now: number,
  generation: number,
): Promise<{ sensors: SensorContext[]; replays: Replay[] }> {
  const { db } = deps;
  const rows = await db
    .selectFrom('sensors')
    .select(['id', 'key', 'type_id', 'asset_id'])
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', [...sensorIds])
    .execute();
  const targets = rows.flatMap((r) => [
    { scope: 'sensor_type' as const, targetId: r.type_id },
    { scope: 'sensor' as const, targetId: r.id },
  ]);
  const docs = await currentConfigs(db, tenantId, targets);
  const models = await activeModels(
    db,
    tenantId,
    rows.map((r) => r.id),
  );
  const checkpoints = await loadCheckpoints(
    db,
    rows.map((r) => r.id),
  );
  const sensors: SensorContext[] = [];
  const replays: Replay[] = [];
  const wanted = new Map<number, { from: number; to: number }>();
  const pending = new Map<number, { ctx: SensorContext; emit: boolean }>();
  const series = await deps.seriesIds.lookup(rows.map((r) => r.id));
  for (const r of rows) {
    const config = effectiveConfig(
      docs.get(`sensor_type:${r.type_id}`)?.document,
      docs.get(`sensor:${r.id}`)?.document,
    );
    const model = config.isolationForest.enabled ? toModel(models.get(`sensor:${r.id}`)) : null;
    const detector = new SensorDetector(config, model, false);
    const before = previous.get(r.id);
    const first = firstTs.get(r.id) ?? now;
    let state: SensorState | null = null;
    let replayFrom: number | null = null;
    let emit = false;
    if (before && before.detector.config.digest === config.digest) state = before.state;
    else {
      const cp = checkpoints.get(r.id);
      if (cp && cp.digest === config.digest) {
        state = detector.restore(cp.state);
        if (state) {
          replayFrom = cp.lastTs + 1;
          emit = true;
        }
      }
    }
    if (!state) {
      state = detector.newState();
      replayFrom = first - deps.options.warmWindowMs;
    }
    const ctx: SensorContext = {
      tenantId,
      sensorId: r.id,
      key: r.key,
      assetId: r.asset_id,
      detector,
      state,
      dirty: before?.dirty ?? false,
      lastArrival: before?.lastArrival ?? now,
      loadedAt: now,
      generation,
    };
    sensors.push(ctx);
    const s = series.get(r.id);
    if (replayFrom === null || s === undefined || replayFrom >= first) continue;
    wanted.set(s, { from: replayFrom, to: first - 1 });
    pending.set(s, { ctx, emit });
  }
  for (const [s, run] of await readHistory(deps.queries, wanted)) {
    const { ctx, emit } = pending.get(s)!;
    const limit = emit ? deps.options.maxReplay : deps.options.warmReadings;
    const skip = Math.max(0, run.ts.length - limit);
    if (run.ts.length - skip > 0) {
      replays.push({ ctx, ts: run.ts.subarray(skip), value: run.value.subarray(skip), emit });
    }
  }
  return { sensors, replays };
}

/** Sensors read together for warming (one log pass and one chunk query per group). */
const WARM_GROUP = 100;

/**
 * The history to warm or replay, read in groups. A group over the per-query reading bound is
 * read sensor by sensor, and a sensor over it alone with only its last day: warming is a best
 * effort and must never stall scoring.
 */
async function readHistory(
  queries: QueryService,
  wanted: ReadonlyMap<number, { from: number; to: number }>,
): Promise<Map<number, SeriesRun>> {
  const out = new Map<number, SeriesRun>();
  const entries = [...wanted];
  for (let i = 0; i < entries.length; i += WARM_GROUP) {
    const group = new Map(entries.slice(i, i + WARM_GROUP));
    try {
      for (const [s, run] of await queries.ranges(group)) out.set(s, run);
      continue;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
    }
    for (const [s, w] of group) {
      for (const from of [w.from, Math.max(w.from, w.to - 86_400_000)]) {
        try {
          out.set(s, await queries.range(s, from, w.to));
          break;
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
        }
      }
    }
  }
  return out;
}

/** Learns history into a state without emitting anything. */
export function warm(ctx: SensorContext, ts: Float64Array, value: Float64Array): void {
  const out = new Evaluation();
  for (let i = 0; i < ts.length; i++) {
    if (ts[i]! <= ctx.state.f[F.lastTs]!) continue;
    ctx.detector.evaluate(ctx.state, ts[i]!, value[i]!, out);
  }
  ctx.dirty = true;
}

/** An asset's context: its rules document, member sensors (by key order) and active model. */
export async function loadAsset(
  db: Db,
  tenantId: string,
  assetId: string,
  now: number,
  generation: number,
  previous?: AssetContext,
): Promise<AssetContext> {
  const docs = await currentConfigs(db, tenantId, [{ scope: 'asset', targetId: assetId }]);
  const doc = docs.get(`asset:${assetId}`)?.document;
  const members = await db
    .selectFrom('sensors')
    .select('key')
    .where('tenant_id', '=', tenantId)
    .where('asset_id', '=', assetId)
    .orderBy('key')
    .execute();
  const keys = members.map((m) => m.key);
  const config = effectiveConfig(doc);
  const model = config.isolationForest.enabled
    ? toModel((await activeModels(db, tenantId, [assetId])).get(`asset:${assetId}`))
    : null;
  // A model trained on another set of sensors cannot score this one's vectors.
  const usable = model && model.forest.dims === keys.length ? model : null;
  const rules = assetRules(doc);
  const digest = JSON.stringify([rules, keys, usable?.id ?? null, config.isolationForest.fireAt]);
  if (previous && previous.digest === digest) return { ...previous, loadedAt: now, generation };
  const detector = new AssetDetector(rules, keys, usable, config.isolationForest.fireAt);
  return { detector, state: detector.newState(), loadedAt: now, generation, digest };
}
