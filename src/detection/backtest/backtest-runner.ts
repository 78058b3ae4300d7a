import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../../db/database.js';
import { dialectOf } from '../../db/dialect.js';
import { AppError } from '../../http/errors/catalogue.js';
import type { RealtimeHub } from '../../realtime/hub.js';
import type { QueryService } from '../../telemetry/query/query.service.js';
import type { SeriesIds } from '../../telemetry/storage/series-ids.js';
import type { DetectorConfigDoc } from '../config/detector-config.schema.js';
import { type BacktestRow, backtest } from './backtest.js';
import { type BacktestParams, planAsset, planSensor } from './backtest-plan.js';
import {
  appendLog,
  type BacktestLogLine,
  type BacktestRun,
  claimRun,
  countActiveRuns,
  failAbandonedRuns,
  findBacktestRun,
  finishRun,
  insertBacktestRun,
  lastLogSeq,
  reportProgress,
  requestCancel,
} from './backtests.repository.js';
import { type Episode, EpisodeTracker, type PassSummary } from './episodes.js';

export interface BacktestRequest {
  readonly tenantId: string;
  readonly scope: 'sensor' | 'asset';
  readonly targetId: string;
  readonly from: number;
  readonly to: number;
  /**
   * A candidate document in place of the sensor's own (or the asset's); null scores with what is
   * configured now.
   */
  readonly config: DetectorConfigDoc | null;
  readonly threshold?: number;
  /** With a candidate: also score with the configured documents, to compare. */
  readonly compare: boolean;
  readonly createdBy: string | null;
}

export interface BacktestRunnerDeps {
  readonly db: Db;
  readonly queries: QueryService;
  readonly seriesIds: SeriesIds;
  readonly hub: RealtimeHub;
  readonly logger: Logger;
  readonly instanceId: string;
  readonly limits: {
    readonly concurrency: number;
    readonly perTenant: number;
    readonly maxRows: number;
  };
}

/** Episodes kept with a run (all are counted), and how many are written to its log. */
export const KEPT_EPISODES = 500;
const LOGGED_EPISODES = 20;
/** How long one slice of scoring holds the event loop before letting ingest and the API in. */
const SLICE_MS = 20;
/** How often a running run reports progress (and learns of a cancel). */
const PROGRESS_MS = 500;
/** How often this instance proves its runs are alive; a run silent 6 times as long was abandoned. */
const HEARTBEAT_MS = 10_000;
const ABANDONED_MS = 6 * HEARTBEAT_MS;

class Cancelled extends Error {}

const iso = (t: number) => new Date(t).toISOString();
const count = (n: number) => n.toLocaleString('en-GB');

/**
 * Runs backtests asked for over the API: the production detectors over a sensor's stored history,
 * online (each reading scored only with what came before it), with a configured or a candidate
 * detector document. Runs queue in the process that accepted them, at most `concurrency` at once,
 * each scoring in short slices so ingest and the API keep the event loop. Every log line is stored
 * (for late joiners) and published on the stream's `lab` channel, as are progress and the outcome.
 * A cancel is a flag in the database, so it reaches the run wherever it runs; a run whose instance
 * died is failed by whichever instance notices it first.
 */
export class BacktestRunner {
  private readonly queue: { id: string; tenantId: string }[] = [];
  private readonly active = new Map<string, { tenantId: string; done: Promise<void> }>();
  /** Runs of this process asked to stop: they stop at their next slice without a database round trip. */
  private readonly cancelled = new Set<string>();
  private readonly seq = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private stopping = false;

  constructor(private readonly deps: BacktestRunnerDeps) {
    this.timer = setInterval(() => {
      this.heartbeat().catch((err: Error) =>
        deps.logger.warn({ err: err.message }, 'backtests: heartbeat failed'),
      );
    }, HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Queues a run; refused with 429 when the tenant already has its limit queued or running. */
  async submit(req: BacktestRequest): Promise<BacktestRun> {
    if (this.stopping) throw new AppError('SERVICE_UNAVAILABLE', 'The server is shutting down');
    const { db, limits } = this.deps;
    const now = Date.now();
    await this.sweep(now);
    const id = randomUUID();
    await db.transaction().execute(async (trx) => {
      // Count and insert as one step per tenant, or parallel requests would all pass the count.
      // SQLite has one writer; on PostgreSQL the tenant's row is the lock.
      if (dialectOf(trx) === 'postgres')
        await trx.selectFrom('tenants').select('id').where('id', '=', req.tenantId).forUpdate().execute();
      if ((await countActiveRuns(trx, req.tenantId)) >= limits.perTenant)
        throw new AppError(
          'BACKTEST_LIMIT',
          `At most ${limits.perTenant} backtests may be queued or running at once; wait for one to finish or cancel one`,
          { headers: { 'retry-after': '10' }, fields: { limit: limits.perTenant } },
        );
      await insertBacktestRun(trx, {
        id,
        tenant_id: req.tenantId,
        scope: req.scope,
        target_id: req.targetId,
        status: 'queued',
        params: JSON.stringify({
          from: iso(req.from),
          to: iso(req.to),
          config: req.config,
          threshold: req.threshold ?? null,
          compare: req.compare && req.config !== null,
        }),
        rows_done: 0,
        rows_total: 0,
        cancel_requested: 0,
        instance_id: this.deps.instanceId,
        heartbeat_at: now,
        created_by: req.createdBy,
        created_at: now,
      });
    });
    // This instance holds the run from here: its log lines are numbered in memory.
    this.seq.set(id, 0);
    await this.log(req.tenantId, id, 'info', `Queued (${this.active.size} running on this instance)`);
    this.queue.push({ id, tenantId: req.tenantId });
    this.pump();
    return (await findBacktestRun(db, req.tenantId, id))!;
  }

  /**
   * Cancels a run of the tenant. A queued one ends here and now (the instance holding it skips it);
   * a running one is flagged and stops at its next slice, wherever it runs.
   */
  async cancel(tenantId: string, id: string): Promise<'cancelled' | 'stopping' | 'finished'> {
    const here = this.active.get(id)?.tenantId === tenantId;
    if (here) this.cancelled.add(id);
    let outcome = await requestCancel(this.deps.db, tenantId, id, Date.now());
    // Held here, it may have stopped on the flag before the row was flagged: the flag stopped it.
    if (
      here &&
      outcome === 'finished' &&
      (await findBacktestRun(this.deps.db, tenantId, id))?.status === 'cancelled'
    )
      outcome = 'stopping';
    if (outcome === 'cancelled') {
      await this.log(tenantId, id, 'warn', 'Cancelled before it started');
      this.publish(tenantId, 'backtest.status', { runId: id, status: 'cancelled' });
    }
    return outcome;
  }

  /** Runs in this process, queued or running (for tests and shutdown). */
  get busy(): number {
    return this.queue.length + this.active.size;
  }

  /** Stops taking runs; the ones in hand are failed as interrupted once their slice ends. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    const now = Date.now();
    for (const q of this.queue.splice(0)) {
      const error = 'interrupted: the server shut down before it started';
      const ended = await finishRun(this.deps.db, q.id, { status: 'failed', now, error }).catch(() => false);
      if (ended) await this.announceFailed(q.tenantId, q.id, error).catch(() => {});
    }
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  private pump(): void {
    while (!this.stopping && this.active.size < this.deps.limits.concurrency && this.queue.length > 0) {
      const next = this.queue.shift()!;
      const done = this.execute(next.id, next.tenantId)
        .catch((err: Error) =>
          this.deps.logger.error({ err: err.message, runId: next.id }, 'backtests: run failed to finish'),
        )
        .finally(() => {
          this.active.delete(next.id);
          this.cancelled.delete(next.id);
          this.seq.delete(next.id);
          this.pump();
        });
      this.active.set(next.id, { tenantId: next.tenantId, done });
    }
  }

  private async heartbeat(): Promise<void> {
    const { db } = this.deps;
    const now = Date.now();
    const mine = [...this.queue.map((q) => q.id), ...this.active.keys()];
    if (mine.length > 0)
      await db
        .updateTable('backtest_runs')
        .set({ heartbeat_at: now })
        .where('id', 'in', mine)
        .where('status', 'in', ['queued', 'running'])
        .execute();
    await this.sweep(now);
  }

  /** Fails the runs whose instance stopped reporting, and says so to whoever watches them. */
  private async sweep(now: number): Promise<void> {
    for (const r of await failAbandonedRuns(this.deps.db, now - ABANDONED_MS, now))
      await this.announceFailed(r.tenantId, r.id, 'interrupted: the instance running it stopped');
  }

  private async announceFailed(tenantId: string, id: string, error: string): Promise<void> {
    await this.log(tenantId, id, 'error', `Failed: ${error}`);
    this.publish(tenantId, 'backtest.status', { runId: id, status: 'failed', error });
  }

  private async log(tenantId: string, runId: string, level: BacktestLogLine['level'], message: string) {
    // A run held elsewhere (cancelled while queued, or swept from here) continues its stored log.
    const held = this.seq.get(runId);
    const seq = (held ?? (await lastLogSeq(this.deps.db, runId))) + 1;
    if (held !== undefined) this.seq.set(runId, seq);
    const line: BacktestLogLine = { seq, at: Date.now(), level, message };
    await appendLog(this.deps.db, runId, line);
    this.publish(tenantId, 'backtest.log', { runId, ...line });
  }

  private publish(tenantId: string, type: string, payload: Record<string, unknown>): void {
    this.deps.hub.publish({ tenantId, channel: 'lab', type, id: null, payload, at: Date.now() });
  }

  private async execute(id: string, tenantId: string): Promise<void> {
    const { db, instanceId } = this.deps;
    if (!(await claimRun(db, id, instanceId, Date.now()))) return;
    this.publish(tenantId, 'backtest.status', { runId: id, status: 'running' });
    const started = Date.now();
    try {
      const outcome = await this.score(id, tenantId);
      const now = Date.now();
      const summary = { ...outcome.summary, durationMs: now - started };
      if (
        await finishRun(db, id, {
          status: 'succeeded',
          now,
          summary,
          episodes: outcome.episodes,
          rowsDone: outcome.rows,
        })
      ) {
        await this.log(tenantId, id, 'info', outcome.closing(now - started));
        this.publish(tenantId, 'backtest.status', { runId: id, status: 'succeeded', summary });
      }
    } catch (err) {
      const cancelled = err instanceof Cancelled;
      const message = cancelled ? 'cancelled' : (err as Error).message;
      if (!cancelled) this.deps.logger.warn({ err: message, runId: id }, 'backtests: run failed');
      const status = cancelled ? 'cancelled' : 'failed';
      if (
        await finishRun(db, id, {
          status,
          now: Date.now(),
          ...(cancelled ? {} : { error: message }),
        })
      ) {
        await this.log(
          tenantId,
          id,
          cancelled ? 'warn' : 'error',
          cancelled ? 'Cancelled' : `Failed: ${message}`,
        );
        this.publish(tenantId, 'backtest.status', {
          runId: id,
          status,
          ...(cancelled ? {} : { error: message }),
        });
      }
    }
  }

  private async score(id: string, tenantId: string) {
    const { db, limits } = this.deps;
    const run = (await findBacktestRun(db, tenantId, id))!;
    const p = run.params as unknown as BacktestParams;
    const plan = await (run.scope === 'asset' ? planAsset : planSensor)(
      this.deps,
      tenantId,
      run.targetId,
      p,
      limits.maxRows,
    );
    await this.log(
      tenantId,
      id,
      'info',
      `Scoring ${plan.label} from ${p.from} to ${p.to} with ${plan.documents}, threshold ${plan.threshold}${
        plan.current ? '; comparing with the configured documents' : ''
      }`,
    );
    const { input } = plan;
    const ts = input.ts;
    const rows = ts.length;
    // An asset's rows hold several sensors' readings.
    const unit = input.columns.length > 1 ? 'rows' : 'readings';
    if (plan.rowsInWindow > rows)
      await this.log(
        tenantId,
        id,
        'warn',
        `The window holds ${count(plan.rowsInWindow)} rows; scoring the newest ${count(rows)} (BACKTEST_MAX_ROWS)`,
      );
    await this.log(
      tenantId,
      id,
      'info',
      `Read ${count(rows)} ${unit} (${iso(ts[0]!)} to ${iso(ts[rows - 1]!)})`,
    );

    const kept: Episode[] = [];
    let logged = 0;
    const pending: Episode[] = [];
    const tracker = new EpisodeTracker((e) => {
      if (kept.length < KEPT_EPISODES) kept.push(e);
      if (logged < LOGGED_EPISODES) {
        logged++;
        pending.push(e);
      }
    });
    const candidateRows = backtest(input, plan.scoring);
    const compare = plan.current ? new EpisodeTracker() : null;
    const currentRows = plan.current ? backtest(input, plan.current) : null;

    let r = 0;
    let lastReport = Date.now();
    let nextMilestone = 0.25;
    while (r < rows) {
      if (this.cancelled.has(id)) throw new Cancelled();
      const sliceEnd = Date.now() + SLICE_MS;
      while (r < rows && (r & 255 || Date.now() < sliceEnd)) {
        const row = candidateRows.next().value as BacktestRow;
        const value = plan.value(r);
        tracker.add(ts[r]!, value, row);
        if (currentRows) compare!.add(ts[r]!, value, currentRows.next().value as BacktestRow);
        r++;
      }
      if (r === rows) tracker.close();
      for (const e of pending.splice(0)) await this.log(tenantId, id, 'info', describe(e));
      if (r / rows >= nextMilestone && r < rows) {
        const s = tracker.summary();
        await this.log(
          tenantId,
          id,
          'info',
          `${Math.floor((100 * r) / rows)}%: ${count(r)} of ${count(rows)} ${unit}, ${s.episodes} anomaly episode${s.episodes === 1 ? '' : 's'} so far`,
        );
        while (nextMilestone <= r / rows) nextMilestone += 0.25;
      }
      const now = Date.now();
      if (now - lastReport >= PROGRESS_MS || r === rows) {
        lastReport = now;
        const { cancelRequested } = await reportProgress(db, id, { rowsDone: r, rowsTotal: rows, now });
        this.publish(tenantId, 'backtest.progress', { runId: id, rowsDone: r, rowsTotal: rows });
        if (cancelRequested || this.stopping) {
          if (this.stopping && !cancelRequested) throw new Error('interrupted: the server shut down');
          throw new Cancelled();
        }
      }
      // Let ingest, the API and the stream in between slices.
      await new Promise((resolve) => setImmediate(resolve));
    }
    compare?.close();

    const stored = await plan.storedAnomalies(ts[0]!, ts[rows - 1]!);
    const result: PassSummary = tracker.summary();
    const current = compare?.summary() ?? null;
    const summary = {
      rows,
      readingsInWindow: plan.rowsInWindow,
      from: iso(ts[0]!),
      to: iso(ts[rows - 1]!),
      threshold: plan.threshold,
      ...result,
      current,
      storedAnomalies: stored,
    };
    return {
      rows,
      summary,
      episodes: kept,
      closing: (ms: number) =>
        `Done in ${(ms / 1000).toFixed(1)} s: ${count(rows)} ${unit}, ${result.anomalyRows} anomalous, ${result.episodes} episode${result.episodes === 1 ? '' : 's'}${
          current
            ? ` (the configured documents: ${current.episodes} episode${current.episodes === 1 ? '' : 's'})`
            : ''
        }; the live pipeline stored ${stored} anomal${stored === 1 ? 'y' : 'ies'} in this window`,
    };
  }
}

/** One log line per episode; its explanation is kept with the run's episodes, not repeated here. */
function describe(e: Episode): string {
  const span = e.from === e.to ? iso(e.from) : `${iso(e.from)} to ${iso(e.to)}`;
  const value = Number.isNaN(e.peakValue) ? '' : ` at value ${e.peakValue}`;
  return `Anomaly ${span}: peak ${e.peakScore.toFixed(2)}${value} (${e.detectors.join(', ') || 'ensemble'})`;
}
