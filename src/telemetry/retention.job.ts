import { sql } from 'kysely';
import { dialectOf } from '../db/dialect.js';
import type { JobDefinition } from '../jobs/job.js';
import { listTenants } from '../tenants/tenants.repository.js';
import { COMPACTION_LOCK } from './storage/compactor.js';

const DAY_MS = 86_400_000;
/** Idempotency-Key answers are kept this long (retries come within minutes). */
const IDEMPOTENCY_TTL_MS = DAY_MS;

/**
 * Per-tenant reading retention: deletes the chunks of each tenant's sensors whose newest reading
 * is past the tenant's retention (its `retentionDays` setting, or RETENTION_DAYS). Whole chunks:
 * a chunk straddling the cut-off goes when its last reading expires, so data lives at most one
 * chunk span longer. Also forgets Idempotency-Key answers older than a day.
 */
export function retentionJob(defaultDays: number): JobDefinition {
  return {
    name: 'telemetry.retention',
    description: `Delete readings past each tenant's retention (default ${defaultDays} days)`,
    schedule: '0 41 2 * * *',
    timeoutMs: 30 * 60_000,
    retries: 2,
    backoffMs: 60_000,
    async handler({ services, scheduledFor, log }) {
      const { db } = services.database;
      const now = scheduledFor.getTime();
      let deleted = 0;
      let after: string | undefined;
      for (;;) {
        const tenants = await listTenants(db, { afterSlug: after, limit: 100 });
        for (const tenant of tenants) {
          const cutoff = now - (tenant.settings.retentionDays ?? defaultDays) * DAY_MS;
          // Chunks are rewritten by compaction: never both at once in this process.
          const result = await services.telemetry.runExclusive(() =>
            db.transaction().execute(async (trx) => {
              // Other instances' compactors (PostgreSQL) are kept out by the same lock.
              if (dialectOf(trx) === 'postgres')
                await sql`select pg_advisory_xact_lock(${COMPACTION_LOCK})`.execute(trx);
              return trx
                .deleteFrom('reading_chunks')
                .where('end_ts', '<', cutoff)
                .where('series_id', 'in', (eb) =>
                  eb.selectFrom('series').select('id').where('tenant_id', '=', tenant.id),
                )
                .executeTakeFirst();
            }),
          );
          deleted += Number(result.numDeletedRows);
        }
        if (tenants.length < 100) break;
        after = tenants[tenants.length - 1]!.slug;
      }
      const forgotten = await db
        .deleteFrom('ingest_requests')
        .where('created_at', '<', now - IDEMPOTENCY_TTL_MS)
        .executeTakeFirst();
      log.info(
        { chunksDeleted: deleted, idempotencyKeysForgotten: Number(forgotten.numDeletedRows) },
        'retention applied',
      );
    },
  };
}
