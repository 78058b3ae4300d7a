import { recordAuditIn } from '../../audit/audit.service.js';
import type { JobDefinition } from '../../jobs/job.js';
import { listTenants } from '../../tenants/tenants.repository.js';
import type { DetectorConfigDoc } from '../config/detector-config.schema.js';
import { effectiveConfig } from '../config/effective-config.js';
import type { ModelScope } from './models.repository.js';
import { trainModel } from './training.service.js';

/** Most targets one scheduled run retrains (the rest wait for the next run). */
const MAX_TARGETS_PER_RUN = 5000;

/** The sensors and assets of a tenant whose effective configuration enables the Isolation Forest. */
async function targetsOf(
  db: Parameters<JobDefinition['handler']>[0]['services']['database']['db'],
  tenantId: string,
): Promise<{ scope: ModelScope; targetId: string }[]> {
  const rows = await db
    .selectFrom('detector_configs')
    .select(['scope', 'target_id', 'version', 'document'])
    .where('tenant_id', '=', tenantId)
    .orderBy('version', 'asc')
    .execute();
  const latest = new Map<string, DetectorConfigDoc | null>();
  for (const r of rows)
    latest.set(
      `${r.scope}:${r.target_id}`,
      r.document === null ? null : (JSON.parse(r.document) as DetectorConfigDoc),
    );
  const out: { scope: ModelScope; targetId: string }[] = [];
  for (const [key, doc] of latest) {
    const [scope, id] = key.split(':') as [string, string];
    if (scope === 'asset' && doc?.isolationForest?.enabled) out.push({ scope: 'asset', targetId: id });
  }
  const types = [...latest]
    .filter(([k]) => k.startsWith('sensor_type:'))
    .map(([k]) => k.slice('sensor_type:'.length));
  const sensors = [...latest]
    .filter(([k]) => k.startsWith('sensor:'))
    .map(([k]) => k.slice('sensor:'.length));
  if (types.length === 0 && sensors.length === 0) return leastRecentlyTrainedFirst(db, tenantId, out);
  const candidates = await db
    .selectFrom('sensors')
    .select(['id', 'type_id'])
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'active')
    .where((eb) => {
      const parts = [];
      if (types.length > 0) parts.push(eb('type_id', 'in', types));
      if (sensors.length > 0) parts.push(eb('id', 'in', sensors));
      return eb.or(parts);
    })
    .execute();
  for (const s of candidates) {
    const cfg = effectiveConfig(latest.get(`sensor_type:${s.type_id}`), latest.get(`sensor:${s.id}`));
    if (cfg.isolationForest.enabled) out.push({ scope: 'sensor', targetId: s.id });
  }
  return leastRecentlyTrainedFirst(db, tenantId, out);
}

/** Never-trained targets first, then the longest untrained: a run cut short at its cap starves nobody. */
async function leastRecentlyTrainedFirst(
  db: Parameters<typeof targetsOf>[0],
  tenantId: string,
  targets: { scope: ModelScope; targetId: string }[],
): Promise<{ scope: ModelScope; targetId: string }[]> {
  const runs = await db
    .selectFrom('training_runs')
    .select((eb) => ['target_id', eb.fn.max('started_at').as('last')])
    .where('tenant_id', '=', tenantId)
    .groupBy('target_id')
    .execute();
  const last = new Map(runs.map((r) => [r.target_id, Number(r.last)]));
  return targets.sort((a, b) => (last.get(a.targetId) ?? -1) - (last.get(b.targetId) ?? -1));
}

/**
 * Scheduled retraining (ENABLE_AUTO_RETRAINING, RETRAINING_SCHEDULE): every sensor and asset whose
 * detectors enable the Isolation Forest gets a new version trained on its recent window; each is
 * activated only if it is not worse on the held-out window than the active one.
 */
export function retrainJob(schedule: string): JobDefinition {
  return {
    name: 'detection.retrain',
    description: 'Retrain Isolation Forest models; activate those not worse on a held-out window',
    schedule,
    timeoutMs: 2 * 3600_000,
    retries: 1,
    backoffMs: 5 * 60_000,
    async handler({ services, scheduledFor, log, signal }) {
      const { db } = services.database;
      const counts: Record<string, number> = {};
      let done = 0;
      let after: string | undefined;
      for (;;) {
        const tenants = await listTenants(db, { afterSlug: after, limit: 100 });
        for (const tenant of tenants) {
          for (const t of await targetsOf(db, tenant.id)) {
            if (signal.aborted || done >= MAX_TARGETS_PER_RUN) break;
            const r = await trainModel(
              {
                db,
                queries: services.telemetry.queries,
                seriesIds: services.telemetry.seriesIds,
                onActivated: (id) => services.detection?.invalidate(id),
                audit: (trx, m) =>
                  recordAuditIn(services, trx, {
                    action: 'model.activate',
                    outcome: 'success',
                    actorType: 'system',
                    tenantId: tenant.id,
                    targetType: 'model',
                    targetId: m.id,
                    details: {
                      scope: m.scope,
                      targetId: m.targetId,
                      version: m.version,
                      trigger: 'schedule',
                    },
                  }),
              },
              {
                tenantId: tenant.id,
                ...t,
                trigger: 'schedule',
                createdBy: null,
                now: scheduledFor.getTime(),
              },
            );
            counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
            done++;
          }
        }
        if (tenants.length < 100) break;
        after = tenants[tenants.length - 1]!.slug;
      }
      log.info({ trained: done, ...counts }, 'models retrained');
      if ((counts.failed ?? 0) > 0 && (counts.failed ?? 0) === done)
        throw new Error(`all ${done} training runs failed`);
    },
  };
}
