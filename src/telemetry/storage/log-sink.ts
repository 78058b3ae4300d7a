import type { Db } from '../../db/database.js';
import type { CommitWork } from './group-commit.js';
import { encodeLogBlock } from './log-codec.js';

/** Everything one group commit writes, in one transaction. */
export interface GroupWrite {
  readonly now: number;
  readonly log: ReadonlyArray<{ count: number; minTs: number; maxTs: number; data: Buffer }>;
  readonly idempotency: ReadonlyArray<{ tenantId: string; key: string; response: string }>;
  readonly devicesSeen: readonly string[];
  readonly refused: ReadonlyArray<readonly [deviceId: string, count: number]>;
}

/** Where group commits go: the shared Kysely connection, or a SQLite writer thread. */
export interface LogSink {
  write(group: GroupWrite): Promise<void>;
  close(): Promise<void>;
}

export function summarise(works: readonly CommitWork[], now: number): GroupWrite {
  const refused = new Map<string, number>();
  for (const w of works) for (const [id, n] of w.refused) refused.set(id, (refused.get(id) ?? 0) + n);
  const log = [];
  for (const w of works) {
    const b = w.block;
    if (!b || b.count === 0) continue;
    let minTs = Number.POSITIVE_INFINITY;
    let maxTs = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < b.count; i++) {
      const t = b.ts[i]!;
      if (t < minTs) minTs = t;
      if (t > maxTs) maxTs = t;
    }
    log.push({ count: b.count, minTs, maxTs, data: encodeLogBlock(b) });
  }
  return {
    now,
    log,
    idempotency: works.flatMap((w) =>
      w.idempotency
        ? [{ tenantId: w.tenantId, key: w.idempotency.key, response: w.idempotency.response }]
        : [],
    ),
    devicesSeen: [...new Set(works.flatMap((w) => w.devicesSeen))],
    refused: [...refused],
  };
}

/** Group commits through Kysely (PostgreSQL, and in-memory SQLite). */
export class KyselyLogSink implements LogSink {
  constructor(private readonly db: Db) {}

  async write(g: GroupWrite): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < g.log.length; i += 200) {
        await trx
          .insertInto('reading_log')
          .values(
            g.log.slice(i, i + 200).map((l) => ({
              count: l.count,
              min_ts: l.minTs,
              max_ts: l.maxTs,
              data: l.data,
              created_at: g.now,
            })),
          )
          .execute();
      }
      if (g.idempotency.length > 0) {
        await trx
          .insertInto('ingest_requests')
          .values(
            g.idempotency.map((r) => ({
              tenant_id: r.tenantId,
              idempotency_key: r.key,
              response: r.response,
              created_at: g.now,
            })),
          )
          .onConflict((oc) => oc.columns(['tenant_id', 'idempotency_key']).doNothing())
          .execute();
      }
      if (g.devicesSeen.length > 0) {
        await trx
          .updateTable('devices')
          .set({ last_seen_at: g.now })
          .where('id', 'in', [...g.devicesSeen])
          .where((eb) => eb.or([eb('last_seen_at', 'is', null), eb('last_seen_at', '<', g.now)]))
          .execute();
      }
      for (const [id, n] of g.refused) {
        await trx
          .updateTable('devices')
          .set((eb) => ({ refused_count: eb('refused_count', '+', n) }))
          .where('id', '=', id)
          .execute();
      }
    });
  }

  async close(): Promise<void> {}
}
