import type { Logger } from 'pino';
import type { Db } from '../../db/database.js';
import { isForeignKeyViolation } from '../../registry/registry.util.js';
import type { QueryService } from '../../telemetry/query/query.service.js';
import type { SeriesIds } from '../../telemetry/storage/series-ids.js';
import { expectedInterval, heartbeatDue } from '../detectors/data-quality.js';
import { D, DETECTORS, Evaluation, POINT_DETECTORS, type Transition } from '../engine/evaluation.js';
import { F } from '../engine/sensor-state.js';
import type { AnomalyRow } from './anomalies.repository.js';
import { anomalyKey, insertAnomalies } from './anomalies.repository.js';
import type { DetectionEvent, DetectionListener, StoredHook } from './detection-event.js';
import {
  type AssetContext,
  type LoaderOptions,
  loadAsset,
  loadContexts,
  type SensorContext,
  warm,
} from './sensor-contexts.js';
import { saveCheckpoints } from './state.repository.js';

export interface PipelineOptions extends LoaderOptions {
  readonly checkpointMs: number;
  readonly sweepMs: number;
  /** Readings queued beyond this make ingestion wait (backpressure) until half of them are scored. */
  readonly maxQueue: number;
  /** Contexts are re-read after this long, so other instances' configuration changes arrive. */
  readonly refreshMs: number;
}

export const DEFAULT_PIPELINE_OPTIONS: PipelineOptions = {
  checkpointMs: 30_000,
  sweepMs: 10_000,
  maxQueue: 1_000_000,
  refreshMs: 60_000,
  warmReadings: 2_000,
  warmWindowMs: 7 * 86_400_000,
  maxReplay: 100_000,
};

interface Batch {
  readonly tenantId: string;
  readonly sensorIds: readonly string[];
  readonly ts: Float64Array;
  readonly value: Float64Array;
  readonly committedAt: number;
}

/**
 * Scores every committed reading, in this process, right after its commit (the ingest
 * acknowledgement does not wait for scoring, only for queue room). Per sensor, readings are
 * taken in timestamp order within each drained group; anomalies are stored (idempotently) and
 * handed to listeners (the alarm stage, live clients). State is checkpointed periodically and on
 * stop, and restored on the next start.
 */
export class DetectionPipeline {
  private queue: Batch[] = [];
  private queued = 0;
  private draining: Promise<void> | undefined;
  private roomWaiters: (() => void)[] = [];
  private readonly sensors = new Map<string, SensorContext>();
  private readonly assets = new Map<string, AssetContext>();
  private readonly generations = new Map<string, number>();
  private readonly listeners: DetectionListener[] = [];
  private readonly out = new Evaluation();
  private timers: NodeJS.Timeout[] = [];
  private failures = 0;
  private stopping = false;
  /** When the readings being scored arrived (the drain's clock reading). */
  private arrival = 0;
  /** Scoring, sweeps and checkpoints run one at a time: a checkpoint never saves a state whose anomalies are not stored yet. */
  private lock: Promise<unknown> = Promise.resolve();
  /** Ends a retry backoff early (stop). */
  private wake: (() => void) | undefined;
  /** Settles once the sensors checkpointed by an earlier process are restored (after start). */
  restored: Promise<void> = Promise.resolve();
  readonly stats = {
    scored: 0,
    anomalies: 0,
    transitions: 0,
    errors: 0,
    checkpoints: 0,
    /** Commit-to-scored delay of the most recent readings (ms), for the benchmark and metrics. */
    lagMs: [] as number[],
  };

  private readonly opts: PipelineOptions;

  constructor(
    private readonly deps: {
      readonly db: Db;
      readonly queries: QueryService;
      readonly seriesIds: SeriesIds;
      readonly logger: Logger;
      readonly options?: Partial<PipelineOptions>;
      readonly clock?: () => number;
    },
  ) {
    this.opts = { ...DEFAULT_PIPELINE_OPTIONS, ...deps.options };
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  onEvents(listener: DetectionListener): void {
    this.listeners.push(listener);
  }

  private readonly storedHooks: StoredHook[] = [];

  /**
   * Runs `hook` inside the transaction that stores each batch's new anomalies (the alarm stage),
   * so they commit together or not at all: a failing hook fails the batch, which is replayed.
   * What it returns runs after the commit.
   */
  onStored(hook: StoredHook): void {
    this.storedHooks.push(hook);
  }

  /** Readings just committed. Returns a promise only when the queue is full: wait on it before acknowledging. */
  enqueue(
    tenantId: string,
    sensorIds: readonly string[],
    ts: Float64Array,
    value: Float64Array,
  ): Promise<void> | undefined {
    if (ts.length === 0) return undefined;
    this.queue.push({ tenantId, sensorIds, ts, value, committedAt: Date.now() });
    this.queued += ts.length;
    if (!this.draining) this.draining = this.drain();
    if (this.queued <= this.opts.maxQueue) return undefined;
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Detector configuration or models of a tenant changed: its contexts are rebuilt on next use. */
  invalidate(tenantId: string): void {
    this.generations.set(tenantId, (this.generations.get(tenantId) ?? 0) + 1);
  }

  /** Waits until everything queued so far has been scored (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  start(): void {
    const o = this.opts;
    this.restored = this.exclusive(() => this.restoreAll()).catch((err: Error) =>
      this.deps.logger.warn({ err: err.message }, 'detection: restoring checkpointed sensors failed'),
    );
    const every = (ms: number, fn: () => Promise<unknown>) => {
      let running = false;
      const t = setInterval(() => {
        if (running) return;
        running = true;
        fn()
          .catch((err: Error) =>
            this.deps.logger.warn({ err: err.message }, 'detection: background task failed'),
          )
          .finally(() => {
            running = false;
          });
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(o.checkpointMs, () => this.checkpoint());
    every(o.sweepMs, () => this.sweep(this.now()));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.wake?.();
    await this.restored;
    await this.flush();
    await this.checkpoint();
  }

  /** Readings committed but not yet scored. */
  get queueLength(): number {
    return this.queued;
  }

  /** Commit-to-scored delay percentiles over the recent readings' batches (ms). */
  lagPercentiles(): { p50: number; p99: number; samples: number } {
    const xs = [...this.stats.lagMs].sort((a, b) => a - b);
    const at = (q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;
    return { p50: at(0.5), p99: at(0.99), samples: xs.length };
  }

  /** Sensors held in memory (for status). */
  get sensorCount(): number {
    return this.sensors.size;
  }

  /** Bytes of detector state held, all sensors. */
  stateBytes(): number {
    let n = 0;
    for (const c of this.sensors.values()) n += c.state.byteLength;
    return n;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batches = this.queue;
        this.queue = [];
        try {
          await this.exclusive(() => this.process(batches));
          this.failures = 0;
        } catch (err) {
          this.stats.errors++;
          this.failures++;
          // The states of these sensors may have moved past anomalies that were not stored: forget
          // them, so they are reloaded from their checkpoint and the readings replayed.
          this.forget(batches);
          if (this.stopping) {
            // Not lost: these readings are stored, and newer than the checkpoint, so the next
            // start replays them from storage.
            this.deps.logger.warn(
              { err: (err as Error).message },
              'detection: stopping with readings unscored',
            );
            this.queue = [];
            this.queued = 0;
            this.releaseWaiters();
            break;
          }
          this.deps.logger.warn({ err: (err as Error).message }, 'detection: scoring failed; retrying');
          // Put them back in front and retry later: committed readings are not skipped.
          this.queue = [...batches, ...this.queue];
          await new Promise<void>((r) => {
            const t = setTimeout(r, Math.min(30_000, 200 * 2 ** Math.min(this.failures, 8)));
            this.wake = () => {
              clearTimeout(t);
              r();
            };
          });
          this.wake = undefined;
          continue;
        }
        let n = 0;
        for (const b of batches) n += b.ts.length;
        this.queued -= n;
        if (this.queued <= this.opts.maxQueue / 2) this.releaseWaiters();
      }
    } finally {
      this.draining = undefined;
    }
  }

  private releaseWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }

  private forget(batches: readonly Batch[]): void {
    for (const b of batches) {
      for (const id of b.sensorIds) {
        const ctx = this.sensors.get(id);
        if (!ctx) continue;
        this.sensors.delete(id);
        if (ctx.assetId) this.assets.delete(ctx.assetId);
      }
    }
  }

  /**
   * After a start: every sensor with a checkpoint is loaded, and the readings stored after its
   * checkpoint (acknowledged by a process that stopped before scoring them) are scored now, so
   * they are not left waiting for the sensor's next reading and silent sensors are swept.
   */
  private async restoreAll(): Promise<void> {
    const now = this.now();
    const rows = await this.deps.db
      .selectFrom('detection_state')
      .select(['sensor_id', 'tenant_id'])
      .execute();
    const byTenant = new Map<string, string[]>();
    for (const r of rows) {
      if (this.sensors.has(r.sensor_id)) continue;
      const list = byTenant.get(r.tenant_id) ?? [];
      if (list.length === 0) byTenant.set(r.tenant_id, list);
      list.push(r.sensor_id);
    }
    for (const [tenantId, ids] of byTenant) {
      const events: DetectionEvent[] = [];
      this.arrival = now;
      await this.loadSensors(
        tenantId,
        new Map(ids.map((id) => [id, now + 1])),
        new Set(),
        events,
        now,
        this.generations.get(tenantId) ?? 0,
      );
      await this.publish(events);
    }
  }

  private async process(batches: readonly Batch[]): Promise<void> {
    const byTenant = new Map<string, Batch[]>();
    for (const b of batches) {
      const list = byTenant.get(b.tenantId) ?? [];
      if (list.length === 0) byTenant.set(b.tenantId, list);
      list.push(b);
    }
    const events: DetectionEvent[] = [];
    for (const [tenantId, list] of byTenant) await this.processTenant(tenantId, list, events);
    await this.publish(events);
    const done = Date.now();
    const lag = this.stats.lagMs;
    for (const b of batches) {
      lag.push(done - b.committedAt);
      if (lag.length > 10_000) lag.splice(0, lag.length - 5_000);
    }
  }

  private async processTenant(
    tenantId: string,
    batches: readonly Batch[],
    events: DetectionEvent[],
  ): Promise<void> {
    const now = this.now();
    this.arrival = now;
    const generation = this.generations.get(tenantId) ?? 0;
    const refresh = this.opts.refreshMs;
    const fresh = (c: { generation: number; loadedAt: number }) =>
      c.generation === generation && now - c.loadedAt <= refresh;
    let n = 0;
    for (const b of batches) n += b.ts.length;
    const sensor: string[] = new Array(n);
    const ts = new Float64Array(n);
    const value = new Float64Array(n);
    /** Sensors to (re)load, with the earliest timestamp they have here. */
    const stale = new Map<string, number>();
    const staleAssets = new Set<string>();
    let k = 0;
    let sorted = true;
    for (const b of batches) {
      for (let i = 0; i < b.ts.length; i++, k++) {
        const id = b.sensorIds[i]!;
        const t = b.ts[i]!;
        sensor[k] = id;
        ts[k] = t;
        value[k] = b.value[i]!;
        if (k > 0 && t < ts[k - 1]!) sorted = false;
        const c = this.sensors.get(id);
        if (!c || !fresh(c)) {
          const first = stale.get(id);
          if (first === undefined || t < first) stale.set(id, t);
        } else if (c.assetId !== null && !staleAssets.has(c.assetId)) {
          const a = this.assets.get(c.assetId);
          if (!a || !fresh(a)) staleAssets.add(c.assetId);
        }
      }
    }
    if (stale.size > 0) await this.loadSensors(tenantId, stale, staleAssets, events, now, generation);
    await this.loadAssets(tenantId, staleAssets, now, generation);
    // In timestamp order across the tenant's sensors (stable for equal times), so each sensor
    // sees its readings in order and asset rules see their sensors interleaved as they happened.
    if (sorted) {
      for (let i = 0; i < n; i++) {
        const ctx = this.sensors.get(sensor[i]!);
        if (ctx) this.score(ctx, ts[i]!, value[i]!, events, true);
      }
      return;
    }
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => ts[a]! - ts[b]! || a - b);
    for (const i of order) {
      const ctx = this.sensors.get(sensor[i]!);
      if (ctx) this.score(ctx, ts[i]!, value[i]!, events, true);
    }
  }

  private async loadSensors(
    tenantId: string,
    stale: ReadonlyMap<string, number>,
    staleAssets: Set<string>,
    events: DetectionEvent[],
    now: number,
    generation: number,
  ): Promise<void> {
    const ids = [...stale.keys()];
    for (let i = 0; i < ids.length; i += 1000) {
      const { sensors, replays } = await loadContexts(
        { ...this.deps, options: this.opts },
        tenantId,
        ids.slice(i, i + 1000),
        stale,
        this.sensors,
        now,
        generation,
      );
      for (const ctx of sensors) {
        this.sensors.set(ctx.sensorId, ctx);
        if (ctx.assetId) staleAssets.add(ctx.assetId);
      }
      // Assets before the replay, so replayed readings reach the asset rules too.
      await this.loadAssets(tenantId, staleAssets, now, generation);
      for (const r of replays) {
        if (!r.emit) warm(r.ctx, r.ts, r.value);
        else for (let j = 0; j < r.ts.length; j++) this.score(r.ctx, r.ts[j]!, r.value[j]!, events, false);
      }
    }
  }

  private async loadAssets(
    tenantId: string,
    ids: Set<string>,
    now: number,
    generation: number,
  ): Promise<void> {
    for (const assetId of ids) {
      const previous = this.assets.get(assetId);
      this.assets.set(assetId, await loadAsset(this.deps.db, tenantId, assetId, now, generation, previous));
    }
    ids.clear();
  }

  /** Scores one reading of a loaded sensor, collecting what it produced. */
  private score(
    ctx: SensorContext,
    ts: number,
    value: number,
    events: DetectionEvent[],
    live: boolean,
  ): void {
    const out = this.out;
    const { detector } = ctx;
    detector.evaluate(ctx.state, ts, value, out);
    ctx.dirty = true;
    if (live) {
      this.stats.scored++;
      ctx.lastArrival = this.arrival;
    }
    for (const t of out.transitions) {
      events.push(conditionEvent(ctx, ts, value, t));
    }
    if (out.pointScore >= detector.config.threshold) {
      let top: number = D.ewma;
      for (const i of POINT_DETECTORS) if (out.scores[i]! > out.scores[top]!) top = i;
      events.push({
        tenantId: ctx.tenantId,
        sensorId: ctx.sensorId,
        assetId: ctx.assetId,
        ts,
        value,
        kind: 'point',
        detector: DETECTORS[top]!,
        ruleId: null,
        severity: null,
        score: out.pointScore,
        confidence: out.confidence,
        detectors: out.fired(0.5),
        explanation: { ...detector.explain(out, value) },
      });
    }
    if (out.late || !ctx.assetId) return;
    const asset = this.assets.get(ctx.assetId);
    if (!asset) return;
    const a = asset.detector.evaluate(asset.state, ctx.key, ts, value);
    for (const t of a.transitions) {
      events.push(conditionEvent(ctx, ts, value, t));
    }
    if (a.score >= detector.config.threshold) {
      events.push({
        tenantId: ctx.tenantId,
        sensorId: ctx.sensorId,
        assetId: ctx.assetId,
        ts,
        value,
        kind: 'point',
        detector: 'iforest-asset',
        ruleId: null,
        severity: null,
        score: a.score,
        confidence: 0.5,
        detectors: ['iforest-asset'],
        explanation: { observed: value, members: asset.detector.members, latest: [...asset.state.latest] },
      });
    }
  }

  /** Gaps: sensors silent for k × their expected interval, judged on the wall clock. */
  sweep(now: number): Promise<void> {
    return this.exclusive(() => this.sweepNow(now));
  }

  private async sweepNow(now: number): Promise<void> {
    const events: DetectionEvent[] = [];
    const flagged: SensorContext[] = [];
    for (const ctx of this.sensors.values()) {
      const hb = ctx.detector.config.heartbeat;
      // Silence is judged on arrivals, not on the readings' timestamps: a gateway uploading
      // buffered (old) readings is not silent.
      const silentFor = now - ctx.lastArrival;
      if (!heartbeatDue(ctx.state, hb, ctx.state.f[F.lastTs]! + silentFor)) continue;
      ctx.dirty = true;
      flagged.push(ctx);
      const expected = expectedInterval(ctx.state, hb);
      const last = ctx.state.f[F.lastTs]!;
      events.push({
        tenantId: ctx.tenantId,
        sensorId: ctx.sensorId,
        assetId: ctx.assetId,
        ts: Math.round(last + hb.k * expected),
        value: ctx.state.f[F.lastValue]!,
        kind: 'raised',
        detector: 'heartbeat',
        ruleId: null,
        severity: 'warning',
        score: 1,
        confidence: 1,
        detectors: ['heartbeat'],
        explanation: { lastReadingAt: last, expectedIntervalMs: expected, k: hb.k, silenceMs: silentFor },
      });
    }
    try {
      await this.publish(events);
    } catch (err) {
      // Not stored: raise them again on the next sweep.
      for (const ctx of flagged) ctx.state.f[F.gapActive] = 0;
      throw err;
    }
  }

  private async publish(events: readonly DetectionEvent[]): Promise<void> {
    if (events.length === 0) return;
    const createdAt = Date.now();
    const rows: AnomalyRow[] = events.map((e) => ({
      tenant_id: e.tenantId,
      sensor_id: e.sensorId,
      asset_id: e.assetId,
      ts: e.ts,
      value: e.value,
      kind: e.kind,
      detector: e.detector,
      rule_id: e.ruleId ?? '',
      severity: e.severity,
      score: e.score,
      confidence: e.confidence,
      detectors: JSON.stringify(e.detectors),
      explanation: JSON.stringify(e.explanation),
      created_at: createdAt,
    }));
    const stored = new Set<string>();
    const afterCommit: (() => void)[] = [];
    const keyOf = (e: DetectionEvent) => anomalyKey(e.sensorId, e.ts, e.kind, e.detector, e.ruleId ?? '');
    // Stores these rows and hands their new anomalies to the hooks, in one transaction.
    const store = (idx: readonly number[]) =>
      this.deps.db.transaction().execute(async (trx) => {
        const keys = new Set(
          await insertAnomalies(
            trx,
            idx.map((i) => rows[i]!),
          ),
        );
        const fresh = idx.map((i) => events[i]!).filter((e) => keys.has(keyOf(e)));
        const after: (() => void)[] = [];
        for (const hook of this.storedHooks) if (fresh.length > 0) after.push(await hook(trx, fresh));
        return { keys, after };
      });
    const keep = (r: { keys: Set<string>; after: (() => void)[] }) => {
      for (const k of r.keys) stored.add(k);
      afterCommit.push(...r.after);
    };
    try {
      keep(await store(rows.map((_, i) => i)));
    } catch (err) {
      // A sensor deleted meanwhile: store the others one by one (only that error is skipped).
      if (!isForeignKeyViolation(err)) throw err;
      for (let i = 0; i < rows.length; i++) {
        try {
          keep(await store([i]));
        } catch (e) {
          if (!isForeignKeyViolation(e)) throw e;
        }
      }
    }
    for (const run of afterCommit) {
      try {
        run();
      } catch (err) {
        this.deps.logger.warn({ err: (err as Error).message }, 'detection: after-commit hook failed');
      }
    }
    // Only what was stored now goes on: a replayed reading's anomaly stored before is not news.
    const fresh = events.filter((e) => stored.has(keyOf(e)));
    for (const e of fresh)
      if (e.kind === 'point') this.stats.anomalies++;
      else this.stats.transitions++;
    if (fresh.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(fresh);
      } catch (err) {
        this.deps.logger.warn({ err: (err as Error).message }, 'detection: listener failed');
      }
    }
  }

  /** Saves the state of every sensor scored since the last checkpoint. */
  checkpoint(): Promise<void> {
    return this.exclusive(() => this.checkpointNow());
  }

  private async checkpointNow(): Promise<void> {
    const dirty = [...this.sensors.values()].filter((c) => c.dirty);
    if (dirty.length === 0) return;
    for (const c of dirty) c.dirty = false;
    const rows = dirty.map((c) => ({
      tenantId: c.tenantId,
      sensorId: c.sensorId,
      digest: c.detector.config.digest,
      lastTs: Number.isFinite(c.state.f[F.lastTs]!) ? c.state.f[F.lastTs]! : 0,
      state: c.state.toBytes(),
    }));
    const now = Date.now();
    try {
      await saveCheckpoints(this.deps.db, rows, now);
    } catch (err) {
      if (!isForeignKeyViolation(err)) {
        for (const c of dirty) c.dirty = true;
        throw err;
      }
      for (const r of rows) {
        try {
          await saveCheckpoints(this.deps.db, [r], now);
        } catch (e) {
          if (!isForeignKeyViolation(e)) throw e;
          this.sensors.delete(r.sensorId); // the sensor was deleted
        }
      }
    }
    this.stats.checkpoints++;
  }
}

/** The event of a condition (rule, asset rule, flatline, gap) raised or cleared at a reading. */
function conditionEvent(ctx: SensorContext, ts: number, value: number, t: Transition): DetectionEvent {
  return {
    tenantId: ctx.tenantId,
    sensorId: ctx.sensorId,
    assetId: ctx.assetId,
    ts,
    value,
    kind: t.state,
    detector: t.detector,
    ruleId: t.ruleId,
    severity: t.severity,
    score: t.state === 'raised' ? 1 : 0,
    confidence: 1,
    detectors: [t.detector],
    explanation: { observed: value, ...t.detail },
  };
}
