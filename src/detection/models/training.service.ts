import { randomUUID } from 'node:crypto';
import type { Db, DbOrTrx } from '../../db/database.js';
import { isUniqueViolation } from '../../registry/registry.util.js';
import type { QueryService } from '../../telemetry/query/query.service.js';
import type { SeriesIds } from '../../telemetry/storage/series-ids.js';
import { currentConfigs } from '../config/detector-config.repository.js';
import { type EffectiveConfig, effectiveConfig } from '../config/effective-config.js';
import { IsolationForest } from '../isolation-forest/isolation-forest.js';
import { calibrateThreshold, evaluateHoldout, type HoldoutMetrics } from './model-evaluation.js';
import {
  activateModel,
  activeModels,
  insertModel,
  insertTrainingRun,
  type ModelScope,
  type ModelVersion,
  nextModelVersion,
} from './models.repository.js';
import { assetTrainingData, sensorTrainingData, type TrainingData } from './training-data.js';

const DAY = 86_400_000;
/** Fewest rows a model is trained on, and fewest held out to judge it. */
export const MIN_TRAIN_ROWS = 200;
export const MIN_HELD_OUT_ROWS = 50;
/** The newest share of the window is held out. */
const HELD_OUT_SHARE = 0.2;

export interface TrainRequest {
  readonly tenantId: string;
  readonly scope: ModelScope;
  readonly targetId: string;
  readonly trigger: 'api' | 'schedule';
  readonly createdBy: string | null;
  readonly now: number;
  /** Overrides the configured training window. */
  readonly windowDays?: number;
}

export interface TrainOutcome {
  readonly runId: string;
  readonly outcome: 'activated' | 'kept_previous' | 'insufficient_data' | 'failed';
  readonly model: ModelVersion | null;
  readonly metrics: { readonly candidate: HoldoutMetrics; readonly active: HoldoutMetrics | null } | null;
  readonly error: string | null;
}

export interface TrainingDeps {
  readonly db: Db;
  readonly queries: QueryService;
  readonly seriesIds: SeriesIds;
  /** Told when a target's active model changed (the pipeline reloads it). */
  readonly onActivated?: (tenantId: string) => void;
  /** Records the activation in the audit log, in the activating transaction. */
  readonly audit?: (trx: DbOrTrx, model: ModelVersion) => Promise<void>;
}

async function configFor(db: Db, req: TrainRequest): Promise<EffectiveConfig> {
  if (req.scope === 'asset') {
    const docs = await currentConfigs(db, req.tenantId, [{ scope: 'asset', targetId: req.targetId }]);
    return effectiveConfig(docs.get(`asset:${req.targetId}`)?.document);
  }
  const sensor = await db
    .selectFrom('sensors')
    .select('type_id')
    .where('tenant_id', '=', req.tenantId)
    .where('id', '=', req.targetId)
    .executeTakeFirstOrThrow();
  const docs = await currentConfigs(db, req.tenantId, [
    { scope: 'sensor_type', targetId: sensor.type_id },
    { scope: 'sensor', targetId: req.targetId },
  ]);
  return effectiveConfig(
    docs.get(`sensor_type:${sensor.type_id}`)?.document,
    docs.get(`sensor:${req.targetId}`)?.document,
  );
}

/**
 * Trains an Isolation Forest for a sensor or an asset on its recent history (all but the newest
 * 20 %), judges it on that held-out 20 %, and activates it only when it is at least as good there
 * as the active version. Every run is logged in training_runs, whatever its outcome.
 */
export async function trainModel(deps: TrainingDeps, req: TrainRequest): Promise<TrainOutcome> {
  const started = Date.now();
  const runId = randomUUID();
  const config = await configFor(deps.db, req);
  const iso = config.isolationForest;
  const windowDays = req.windowDays ?? iso.trainWindowDays;
  const from = req.now - windowDays * DAY;
  const params = { trees: iso.trees, sampleSize: iso.sampleSize, fireAt: iso.fireAt, windowDays };
  let inputs: Record<string, unknown> = { from, to: req.now };
  const log = async (o: TrainOutcome, extra: { metrics?: unknown } = {}) => {
    await insertTrainingRun(deps.db, {
      id: runId,
      tenant_id: req.tenantId,
      scope: req.scope,
      target_id: req.targetId,
      trigger: req.trigger,
      params: JSON.stringify(params),
      inputs: JSON.stringify(inputs),
      metrics: extra.metrics === undefined ? null : JSON.stringify(extra.metrics),
      outcome: o.outcome,
      model_id: o.model?.id ?? null,
      error: o.error,
      created_by: req.createdBy,
      started_at: started,
      finished_at: Date.now(),
      duration_ms: Date.now() - started,
    });
    return o;
  };
  try {
    const data: TrainingData =
      req.scope === 'sensor'
        ? await sensorTrainingData(deps, req.targetId, config, from, req.now)
        : await assetTrainingData(deps, req.tenantId, req.targetId, from, req.now);
    const heldOutCount = Math.floor(data.count * HELD_OUT_SHARE);
    const trainCount = data.count - heldOutCount;
    inputs = {
      from: data.from,
      to: data.to,
      rows: data.count,
      trainRows: trainCount,
      heldOutRows: heldOutCount,
      features: data.features,
    };
    if (trainCount < MIN_TRAIN_ROWS || heldOutCount < MIN_HELD_OUT_ROWS) {
      return await log({
        runId,
        outcome: 'insufficient_data',
        model: null,
        metrics: null,
        error: `needs at least ${MIN_TRAIN_ROWS + MIN_HELD_OUT_ROWS} rows of history in the window (has ${data.count})`,
      });
    }
    const { dims } = data;
    const train = { rows: data.rows.subarray(0, trainCount * dims), count: trainCount };
    const heldOut = { rows: data.rows.subarray(trainCount * dims), count: heldOutCount };
    const version = await nextModelVersion(deps.db, req.tenantId, req.scope, req.targetId);
    const forest = IsolationForest.train(train.rows, dims, {
      trees: iso.trees,
      sampleSize: iso.sampleSize,
      seed: version,
    });
    // A sensor fault moves the value, its step and its deviation together; an asset fault is one member off.
    const shifted = req.scope === 'sensor' ? [0, 1, 2] : ('one-random' as const);
    // A configured firing level wins; otherwise the model's own, from its training scores.
    const threshold = iso.fireAt ?? calibrateThreshold(forest, train);
    const candidate = evaluateHoldout(forest, train, heldOut, dims, threshold, shifted);
    const current = (await activeModels(deps.db, req.tenantId, [req.targetId])).get(
      `${req.scope}:${req.targetId}`,
    );
    let active: HoldoutMetrics | null = null;
    if (current) {
      try {
        const previous = IsolationForest.fromBytes(current.data);
        if (previous.dims === dims)
          active = evaluateHoldout(previous, train, heldOut, dims, current.threshold, shifted);
      } catch {
        // An unreadable active model is worse than any candidate.
      }
    }
    const better = active === null || candidate.quality >= active.quality;
    const now = Date.now();
    const model = await deps.db.transaction().execute(async (trx) => {
      // Someone activated or trained another version meanwhile: this run compared against the
      // wrong one, so it decides nothing.
      const nowActive = (await activeModels(trx, req.tenantId, [req.targetId])).get(
        `${req.scope}:${req.targetId}`,
      );
      if ((nowActive?.id ?? null) !== (current?.id ?? null)) {
        throw new Error('the active version changed while this one was trained; train again');
      }
      const m = await insertModel(trx, {
        id: randomUUID(),
        tenant_id: req.tenantId,
        scope: req.scope,
        target_id: req.targetId,
        version,
        kind: 'isolation_forest',
        params: JSON.stringify({ ...params, seed: version, dims, threshold }),
        features: JSON.stringify(data.features),
        training_from: data.from,
        training_to: data.times[trainCount - 1]!,
        metrics: JSON.stringify({
          ...candidate,
          comparedWith: current ? { id: current.id, version: current.version, ...active } : null,
        }),
        data: forest.toBytes(),
        status: better ? 'inactive' : 'rejected',
        created_by: req.createdBy,
        created_at: now,
        activated_at: null,
      });
      if (!better) return m;
      await activateModel(trx, m, req.tenantId, now);
      const activated = { ...m, status: 'active' as const, activatedAt: now };
      await deps.audit?.(trx, activated);
      return activated;
    });
    if (better) deps.onActivated?.(req.tenantId);
    return await log(
      {
        runId,
        outcome: better ? 'activated' : 'kept_previous',
        model,
        metrics: { candidate, active },
        error: null,
      },
      { metrics: { candidate, active } },
    );
  } catch (err) {
    const error = isUniqueViolation(err)
      ? 'another training of this target stored the same version first; train again'
      : (err as Error).message;

    return log({ runId, outcome: 'failed', model: null, metrics: null, error });
  }
}
