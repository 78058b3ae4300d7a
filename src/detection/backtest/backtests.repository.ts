import type { Insertable, Selectable } from 'kysely';
import type { DbOrTrx } from '../../db/database.js';
import type { BacktestRunsTable } from '../../db/schema.js';

export type BacktestStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const ACTIVE_STATUSES: readonly BacktestStatus[] = ['queued', 'running'];

/** A backtest run as the API shows it (times in epoch ms). */
export interface BacktestRun {
  readonly id: string;
  readonly scope: 'sensor' | 'asset';
  readonly targetId: string;
  readonly status: BacktestStatus;
  readonly params: Record<string, unknown>;
  readonly summary: Record<string, unknown> | null;
  readonly episodes: unknown[] | null;
  readonly error: string | null;
  readonly rowsDone: number;
  readonly rowsTotal: number;
  readonly cancelRequested: boolean;
  readonly createdBy: string | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
}

export interface BacktestLogLine {
  readonly seq: number;
  readonly at: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}

const num = (v: number | null) => (v === null ? null : Number(v));

function toRun(r: Selectable<BacktestRunsTable>): BacktestRun {
  return {
    id: r.id,
    scope: r.scope,
    targetId: r.target_id,
    status: r.status as BacktestStatus,
    params: JSON.parse(r.params) as Record<string, unknown>,
    summary: r.summary === null ? null : (JSON.parse(r.summary) as Record<string, unknown>),
    episodes: r.episodes === null ? null : (JSON.parse(r.episodes) as unknown[]),
    error: r.error,
    rowsDone: Number(r.rows_done),
    rowsTotal: Number(r.rows_total),
    cancelRequested: Number(r.cancel_requested) === 1,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
  };
}

export async function insertBacktestRun(db: DbOrTrx, row: Insertable<BacktestRunsTable>): Promise<void> {
  await db.insertInto('backtest_runs').values(row).execute();
}

export async function findBacktestRun(
  db: DbOrTrx,
  tenantId: string,
  id: string,
): Promise<BacktestRun | undefined> {
  const r = await db
    .selectFrom('backtest_runs')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return r ? toRun(r) : undefined;
}

export async function listBacktestRuns(
  db: DbOrTrx,
  tenantId: string,
  filter: { targetId?: string; limit: number; before?: { at: number; id: string } },
): Promise<BacktestRun[]> {
  let q = db.selectFrom('backtest_runs').selectAll().where('tenant_id', '=', tenantId);
  if (filter.targetId) q = q.where('target_id', '=', filter.targetId);
  const b = filter.before;
  if (b)
    q = q.where((eb) =>
      eb.or([eb('created_at', '<', b.at), eb.and([eb('created_at', '=', b.at), eb('id', '<', b.id)])]),
    );
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(toRun);
}

/** Runs of the tenant that are queued or running (counted against its limit). */
export async function countActiveRuns(db: DbOrTrx, tenantId: string): Promise<number> {
  const r = await db
    .selectFrom('backtest_runs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('tenant_id', '=', tenantId)
    .where('status', 'in', ACTIVE_STATUSES)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Claims a queued run for this instance; false when it was cancelled (or claimed) meanwhile. */
export async function claimRun(db: DbOrTrx, id: string, instanceId: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('backtest_runs')
    .set({ status: 'running', instance_id: instanceId, heartbeat_at: now, started_at: now })
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .where('cancel_requested', '=', 0)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Records progress and proves the run is alive; answers whether it should stop (someone asked
 * it to, or it is no longer running: swept as abandoned while this instance was stalled).
 */
export async function reportProgress(
  db: DbOrTrx,
  id: string,
  progress: { rowsDone: number; rowsTotal: number; now: number },
): Promise<{ cancelRequested: boolean }> {
  await db
    .updateTable('backtest_runs')
    .set({ rows_done: progress.rowsDone, rows_total: progress.rowsTotal, heartbeat_at: progress.now })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .execute();
  const r = await db
    .selectFrom('backtest_runs')
    .select(['cancel_requested', 'status'])
    .where('id', '=', id)
    .executeTakeFirst();
  return { cancelRequested: r === undefined || Number(r.cancel_requested) === 1 || r.status !== 'running' };
}

/** Ends a run (only one still queued or running: a finished run keeps its outcome). */
export async function finishRun(
  db: DbOrTrx,
  id: string,
  end: {
    status: 'succeeded' | 'failed' | 'cancelled';
    now: number;
    summary?: unknown;
    episodes?: unknown;
    error?: string;
    rowsDone?: number;
  },
): Promise<boolean> {
  const r = await db
    .updateTable('backtest_runs')
    .set({
      status: end.status,
      finished_at: end.now,
      heartbeat_at: end.now,
      summary: end.summary === undefined ? null : JSON.stringify(end.summary),
      episodes: end.episodes === undefined ? null : JSON.stringify(end.episodes),
      error: end.error ?? null,
      ...(end.rowsDone === undefined ? {} : { rows_done: end.rowsDone }),
      ...(end.status === 'cancelled' ? { cancel_requested: 1 } : {}),
    })
    .where('id', '=', id)
    .where('status', 'in', ACTIVE_STATUSES)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Asks a run to stop. A queued one is cancelled at once (no instance holds it yet); a running one
 * stops at its next slice, wherever it runs. Answers the run's status after the request.
 */
export async function requestCancel(
  db: DbOrTrx,
  tenantId: string,
  id: string,
  now: number,
): Promise<'cancelled' | 'stopping' | 'finished'> {
  const queued = await db
    .updateTable('backtest_runs')
    .set({ status: 'cancelled', cancel_requested: 1, finished_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  if (Number(queued.numUpdatedRows) === 1) return 'cancelled';
  const running = await db
    .updateTable('backtest_runs')
    .set({ cancel_requested: 1 })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(running.numUpdatedRows) === 1 ? 'stopping' : 'finished';
}

/**
 * Runs whose instance stopped reporting (it crashed or was killed) are failed, so they neither
 * hang in the list nor count against the tenant's limit forever: running ones, and queued ones
 * (the queue lives in the instance's memory; a live instance refreshes both every 10 s).
 * Answers the runs failed, with their tenants.
 */
export async function failAbandonedRuns(
  db: DbOrTrx,
  staleBefore: number,
  now: number,
): Promise<{ id: string; tenantId: string }[]> {
  const stale = await db
    .selectFrom('backtest_runs')
    .select(['id', 'tenant_id'])
    .where('status', 'in', ACTIVE_STATUSES)
    .where('heartbeat_at', '<', staleBefore)
    .execute();
  const failed: { id: string; tenantId: string }[] = [];
  for (const { id, tenant_id } of stale) {
    const r = await db
      .updateTable('backtest_runs')
      .set({ status: 'failed', finished_at: now, error: 'interrupted: the instance running it stopped' })
      .where('id', '=', id)
      .where('status', 'in', ACTIVE_STATUSES)
      .where('heartbeat_at', '<', staleBefore)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) failed.push({ id, tenantId: tenant_id });
  }
  return failed;
}

export async function appendLog(db: DbOrTrx, runId: string, line: BacktestLogLine): Promise<void> {
  await db
    .insertInto('backtest_log')
    .values({ run_id: runId, seq: line.seq, at: line.at, level: line.level, message: line.message })
    .execute();
}

export async function lastLogSeq(db: DbOrTrx, runId: string): Promise<number> {
  const r = await db
    .selectFrom('backtest_log')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('run_id', '=', runId)
    .executeTakeFirst();
  return Number(r?.seq ?? 0);
}

export async function readLog(
  db: DbOrTrx,
  runId: string,
  afterSeq: number,
  limit: number,
): Promise<BacktestLogLine[]> {
  const rows = await db
    .selectFrom('backtest_log')
    .select(['seq', 'at', 'level', 'message'])
    .where('run_id', '=', runId)
    .where('seq', '>', afterSeq)
    .orderBy('seq', 'asc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    at: Number(r.at),
    level: r.level as BacktestLogLine['level'],
    message: r.message,
  }));
}
