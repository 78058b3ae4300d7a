import type { Selectable } from 'kysely';
import { sql } from 'kysely';
import type { Db, DbOrTrx } from '../db/database.js';
import { dialectOf } from '../db/dialect.js';
import type { AuditLogTable } from '../db/schema.js';
import { type AuditChain, GENESIS_HASH } from './audit.chain.js';
import type { AuditEntry, AuditEvent, AuditOutcome } from './audit.types.js';

/**
 * Appends one event to the chain. Must run inside a transaction: on PostgreSQL an advisory lock
 * serialises appenders across instances so two rows never claim the same predecessor; SQLite's
 * single writer does the same.
 */
export async function appendAudit(
  trx: DbOrTrx,
  chain: AuditChain,
  event: AuditEvent,
  now = Date.now(),
): Promise<number> {
  if (dialectOf(trx) === 'postgres') await sql`select pg_advisory_xact_lock(7150003)`.execute(trx);
  const last = await trx
    .selectFrom('audit_log')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const row = {
    seq: (last?.seq ?? 0) + 1,
    ts: now,
    tenant_id: event.tenantId ?? null,
    actor_type: event.actorType,
    actor_id: event.actorId ?? null,
    action: event.action,
    target_type: event.targetType ?? null,
    target_id: event.targetId ?? null,
    outcome: event.outcome,
    severity: event.severity ?? 'info',
    ip: event.ip ?? null,
    user_agent: event.userAgent?.slice(0, 512) ?? null,
    request_id: event.requestId ?? null,
    details: JSON.stringify(event.details ?? {}),
  };
  const prevHash = last?.hash ?? GENESIS_HASH;
  const hash = chain.hash(prevHash, row)!;
  await trx
    .insertInto('audit_log')
    .values({ ...row, key_id: chain.currentKeyId, prev_hash: prevHash, hash })
    .execute();
  return row.seq;
}

export interface AuditFilter {
  readonly tenantId?: string | undefined;
  readonly action?: string | undefined;
  readonly actorId?: string | undefined;
  readonly outcome?: AuditOutcome | undefined;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  /** Entries older than this seq (the previous page's last). */
  readonly beforeSeq?: number | undefined;
  readonly limit: number;
}

/** Newest first, keyset-paginated by seq. */
export async function listAudit(db: DbOrTrx, f: AuditFilter): Promise<AuditEntry[]> {
  let q = db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(f.limit);
  if (f.tenantId !== undefined) q = q.where('tenant_id', '=', f.tenantId);
  if (f.action) q = q.where('action', '=', f.action);
  if (f.actorId) q = q.where('actor_id', '=', f.actorId);
  if (f.outcome) q = q.where('outcome', '=', f.outcome);
  if (f.from !== undefined) q = q.where('ts', '>=', f.from);
  if (f.to !== undefined) q = q.where('ts', '<', f.to);
  if (f.beforeSeq !== undefined) q = q.where('seq', '<', f.beforeSeq);
  return (await q.execute()).map(toEntry);
}

function toEntry(r: Selectable<AuditLogTable>): AuditEntry {
  return {
    seq: Number(r.seq),
    ts: new Date(r.ts),
    tenantId: r.tenant_id,
    actorType: r.actor_type,
    actorId: r.actor_id,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    outcome: r.outcome,
    severity: r.severity,
    ip: r.ip,
    userAgent: r.user_agent,
    requestId: r.request_id,
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}

export type ChainVerdict =
  | { readonly ok: true; readonly rows: number; readonly head: { seq: number; hash: string } | null }
  | { readonly ok: false; readonly rows: number; readonly seq: number; readonly problem: string };

/** Walks the whole chain in order and reports the first row that is edited, missing or out of place. */
export async function verifyAuditChain(db: Db, chain: AuditChain, batch = 1000): Promise<ChainVerdict> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let rows = 0;
  for (;;) {
    const page = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(batch)
      .execute();
    if (page.length === 0)
      return { ok: true, rows, head: rows === 0 ? null : { seq: expectedSeq - 1, hash: prevHash } };
    for (const r of page) {
      const seq = Number(r.seq);
      if (seq !== expectedSeq) {
        return {
          ok: false,
          rows,
          seq: expectedSeq,
          problem: `row ${expectedSeq} is missing (next row is ${seq})`,
        };
      }
      if (r.prev_hash !== prevHash) {
        return {
          ok: false,
          rows,
          seq,
          problem: `row ${seq} does not follow row ${seq - 1} (previous hash differs)`,
        };
      }
      const expected = chain.hash(prevHash, { ...r, seq, ts: Number(r.ts) }, r.key_id);
      if (expected === undefined) {
        return {
          ok: false,
          rows,
          seq,
          problem: `row ${seq} was signed with key ${r.key_id}, which is not configured`,
        };
      }
      if (expected !== r.hash)
        return { ok: false, rows, seq, problem: `row ${seq} was altered after it was written` };
      prevHash = r.hash;
      expectedSeq++;
      rows++;
    }
  }
}

/** The newest row's position and hash: record it outside the database to detect later truncation. */
export async function auditHead(db: Db): Promise<{ seq: number; hash: string } | null> {
  const row = await db
    .selectFrom('audit_log')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { seq: Number(row.seq), hash: row.hash } : null;
}

/** Whether a checkpoint taken earlier is still in the chain (rows deleted from the end remove it). */
export async function checkpointPresent(db: Db, checkpoint: { seq: number; hash: string }): Promise<boolean> {
  const row = await db
    .selectFrom('audit_log')
    .select('hash')
    .where('seq', '=', checkpoint.seq)
    .executeTakeFirst();
  return row?.hash === checkpoint.hash;
}
