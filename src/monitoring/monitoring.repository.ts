import { sql } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import { PLATFORM_TENANT_ID } from '../tenants/platform-tenant.js';

/**
 * The installation-wide figures of the monitoring API and the self-monitor: every query spans
 * tenants (platform administrators only) and is bounded. The platform tenant is left out of the
 * customers' figures.
 */

const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const DAY = 86_400_000;

/** The notification outbox, all tenants: what waits, what is being retried, what failed for good. */
export async function outboxBacklog(db: DbOrTrx, failedSince: number) {
  const r = await db
    .selectFrom('notification_outbox')
    .select([
      sql<number>`sum(case when status = 'pending' then 1 else 0 end)`.as('pending'),
      sql<number>`sum(case when status = 'pending' and attempts > 0 then 1 else 0 end)`.as('retrying'),
      sql<number>`sum(case when status = 'failed' then 1 else 0 end)`.as('failed'),
      // A failed delivery's next_attempt_at is set (time of failure + backoff) when it gives up.
      sql<number>`sum(case when status = 'failed' and next_attempt_at >= ${failedSince} then 1 else 0 end)`.as(
        'failedRecently',
      ),
    ])
    .where('status', 'in', ['pending', 'failed'])
    .executeTakeFirst();
  return {
    pending: n(r?.pending),
    retrying: n(r?.retrying),
    failed: n(r?.failed),
    failedRecently: n(r?.failedRecently),
  };
}

/** Each job run since `since` (at most 100 jobs), with its newest `perJob` runs, newest first. */
export async function recentRunsByJob(
  db: DbOrTrx,
  since: number,
  perJob: number,
): Promise<Map<string, { status: string; startedAt: number; error: string | null }[]>> {
  const jobs = await db
    .selectFrom('job_runs')
    .select('job')
    .distinct()
    .where('started_at', '>=', since)
    .orderBy('job')
    .limit(100)
    .execute();
  const out = new Map<string, { status: string; startedAt: number; error: string | null }[]>();
  for (const { job } of jobs) {
    const rows = await db
      .selectFrom('job_runs')
      .select(['status', 'started_at', 'error'])
      .where('job', '=', job)
      .orderBy('id', 'desc')
      .limit(perJob)
      .execute();
    out.set(
      job,
      rows.map((r) => ({ status: r.status, startedAt: Number(r.started_at), error: r.error })),
    );
  }
  return out;
}

/** Open (or acknowledged) alarms of the customers' tenants, by severity. */
export async function openAlarmsBySeverity(db: DbOrTrx): Promise<{ severity: string; count: number }[]> {
  const rows = await db
    .selectFrom('alarms')
    .select((eb) => ['severity', eb.fn.countAll<number>().as('count')])
    .where('status', 'in', ['open', 'acknowledged'])
    .where('tenant_id', '!=', PLATFORM_TENANT_ID)
    .groupBy('severity')
    .execute();
  return rows.map((r) => ({ severity: r.severity, count: n(r.count) }));
}

/** Open (or acknowledged) platform alarms (self-monitoring). */
export async function openPlatformAlarms(db: DbOrTrx): Promise<number> {
  const r = await db
    .selectFrom('alarms')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('tenant_id', '=', PLATFORM_TENANT_ID)
    .where('status', 'in', ['open', 'acknowledged'])
    .executeTakeFirst();
  return n(r?.count);
}

/** Alarm statistics across the customers' tenants. */
export async function alarmStatistics(db: DbOrTrx, now: number) {
  const since = now - DAY;
  const customers = db.selectFrom('alarms').where('alarms.tenant_id', '!=', PLATFORM_TENANT_ID);
  const [bySeverity, counts, topKeys, topTenants] = await Promise.all([
    customers
      .select([
        'severity',
        sql<number>`sum(case when status = 'open' then 1 else 0 end)`.as('open'),
        sql<number>`sum(case when status = 'acknowledged' then 1 else 0 end)`.as('acknowledged'),
      ])
      .where('status', 'in', ['open', 'acknowledged'])
      .groupBy('severity')
      .execute(),
    customers
      .select([
        sql<number>`sum(case when created_at >= ${since} then 1 else 0 end)`.as('raised'),
        sql<number>`sum(case when resolved_at >= ${since} then 1 else 0 end)`.as('resolved'),
        sql<number>`sum(case when acknowledged_at >= ${since} then 1 else 0 end)`.as('acknowledged'),
        // Wall-clock times on both sides: created_at is when the alarm was raised, not the reading's time.
        sql<number>`avg(case when acknowledged_at >= ${since} then acknowledged_at - created_at end)`.as(
          'mtta',
        ),
        sql<number>`avg(case when resolved_at >= ${since} then resolved_at - raised_at end)`.as('mttr'),
        sql<number>`sum(case when flapping = 1 and status in ('open', 'acknowledged') then 1 else 0 end)`.as(
          'flapping',
        ),
      ])
      .where((eb) =>
        eb.or([
          eb('created_at', '>=', since),
          eb('resolved_at', '>=', since),
          eb('acknowledged_at', '>=', since),
          eb('status', 'in', ['open', 'acknowledged']),
        ]),
      )
      .executeTakeFirst(),
    customers
      .innerJoin('tenants', 'tenants.id', 'alarms.tenant_id')
      .select((eb) => [
        'alarms.tenant_id as tenantId',
        'tenants.slug as tenantSlug',
        'alarms.dedup_key as dedupKey',
        eb.fn.countAll<number>().as('alarms'),
        eb.fn.sum<number>('alarms.occurrences').as('occurrences'),
        eb.fn.max('alarms.title').as('title'),
      ])
      // updated_at: wall clock of the last change or repeat (last_seen_at is a reading time, maybe backfilled).
      .where('alarms.updated_at', '>=', since)
      .groupBy(['alarms.tenant_id', 'tenants.slug', 'alarms.dedup_key'])
      .orderBy(sql`sum(alarms.occurrences)`, 'desc')
      .orderBy(sql`count(*)`, 'desc')
      .limit(10)
      .execute(),
    customers
      .innerJoin('tenants', 'tenants.id', 'alarms.tenant_id')
      .select((eb) => [
        'alarms.tenant_id as tenantId',
        'tenants.slug as tenantSlug',
        eb.fn.countAll<number>().as('open'),
      ])
      .where('alarms.status', 'in', ['open', 'acknowledged'])
      .groupBy(['alarms.tenant_id', 'tenants.slug'])
      .orderBy(sql`count(*)`, 'desc')
      .limit(10)
      .execute(),
  ]);
  return {
    since,
    bySeverity: bySeverity.map((r) => ({
      severity: r.severity,
      open: n(r.open),
      acknowledged: n(r.acknowledged),
    })),
    raised: n(counts?.raised),
    resolved: n(counts?.resolved),
    acknowledged: n(counts?.acknowledged),
    flapping: n(counts?.flapping),
    mttaMs: counts?.mtta === null || counts?.mtta === undefined ? null : Math.round(Number(counts.mtta)),
    mttrMs: counts?.mttr === null || counts?.mttr === undefined ? null : Math.round(Number(counts.mttr)),
    topKeys: topKeys.map((r) => ({
      tenantId: r.tenantId,
      tenantSlug: r.tenantSlug,
      dedupKey: r.dedupKey,
      title: String(r.title ?? ''),
      alarms: n(r.alarms),
      occurrences: n(r.occurrences),
    })),
    topTenants: topTenants.map((r) => ({ tenantId: r.tenantId, tenantSlug: r.tenantSlug, open: n(r.open) })),
  };
}

/** Tenants, users (active: a login or a token refresh), devices. */
export async function businessCounts(db: DbOrTrx, now: number) {
  const [tenants, users, active, devices] = await Promise.all([
    db
      .selectFrom('tenants')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('id', '!=', PLATFORM_TENANT_ID)
      .executeTakeFirst(),
    db
      .selectFrom('users')
      .select([
        sql<number>`count(*)`.as('total'),
        sql<number>`sum(case when status = 'active' then 1 else 0 end)`.as('enabled'),
        sql<number>`sum(case when is_platform_admin = 1 then 1 else 0 end)`.as('platformAdmins'),
      ])
      .executeTakeFirst(),
    // Every login and every refresh (rotation) writes a refresh token: its creation is activity.
    db
      .selectFrom('refresh_tokens')
      .select([
        sql<number>`count(distinct case when created_at >= ${now - DAY} then user_id end)`.as('day'),
        sql<number>`count(distinct user_id)`.as('week'),
        sql<number>`count(distinct case when created_at >= ${now - DAY} then family_id end)`.as(
          'sessionsDay',
        ),
      ])
      .where('created_at', '>=', now - 7 * DAY)
      .executeTakeFirst(),
    db
      .selectFrom('devices')
      .select([
        sql<number>`count(*)`.as('total'),
        sql<number>`sum(case when online = 1 then 1 else 0 end)`.as('online'),
        sql<number>`sum(case when last_seen_at >= ${now - DAY} then 1 else 0 end)`.as('seenDay'),
        sql<number>`sum(case when status = 'quarantined' then 1 else 0 end)`.as('quarantined'),
      ])
      .executeTakeFirst(),
  ]);
  return {
    tenants: n(tenants?.count),
    users: {
      total: n(users?.total),
      enabled: n(users?.enabled),
      platformAdmins: n(users?.platformAdmins),
      active24h: n(active?.day),
      active7d: n(active?.week),
      sessions24h: n(active?.sessionsDay),
    },
    devices: {
      total: n(devices?.total),
      online: n(devices?.online),
      seen24h: n(devices?.seenDay),
      quarantined: n(devices?.quarantined),
    },
  };
}

/**
 * Readings per day (UTC, by the readings' own times) per tenant, estimated from the compressed
 * chunks' metadata (count and time span; readings taken as evenly spread over a chunk's span),
 * so no reading is decoded. Readings still in the reading log (not compacted yet, normally the
 * last few minutes) are counted apart: the log does not know tenants without decoding.
 */
export async function readingsPerDay(db: DbOrTrx, dayStarts: readonly number[]) {
  const from = dayStarts[0]!;
  const overlap = (d0: number, d1: number) =>
    sql<number>`sum(case when c.end_ts >= ${d0} and c.start_ts < ${d1} then
      (case when c.end_ts = c.start_ts then c.count * 1.0
            else c.count * 1.0 * ((case when c.end_ts < ${d1} then c.end_ts else ${d1} end)
                                - (case when c.start_ts > ${d0} then c.start_ts else ${d0} end)) / (c.end_ts - c.start_ts)
       end) else 0 end)`;
  const rows = await db
    .selectFrom('reading_chunks as c')
    .innerJoin('series as s', 's.id', 'c.series_id')
    .select((eb) => [
      's.tenant_id as tenantId',
      ...dayStarts.map((d0, i) => overlap(d0, d0 + DAY).as(`d${i}`)),
      eb.fn.countAll<number>().as('chunks'),
    ])
    .where('c.end_ts', '>=', from)
    .groupBy('s.tenant_id')
    .execute();
  const log = await db
    .selectFrom('reading_log')
    .select((eb) => [eb.fn.sum<number>('count').as('readings'), eb.fn.min('min_ts').as('oldest')])
    .executeTakeFirst();
  return {
    tenants: rows.map((r) => {
      const row = r as unknown as Record<string, unknown>;
      return {
        tenantId: r.tenantId,
        perDay: dayStarts.map((_, i) => Math.round(n(row[`d${i}`]))),
      };
    }),
    uncompacted: {
      readings: n(log?.readings),
      oldestTs: log?.oldest === null || log?.oldest === undefined ? null : Number(log.oldest),
    },
  };
}

export async function tenantSlugs(db: DbOrTrx, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('tenants')
    .select(['id', 'slug'])
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, r.slug]));
}

/** Failed logins (audit log) since `since`: how many, from how many addresses, the busiest ones. */
export async function loginFailures(db: DbOrTrx, since: number) {
  const base = db
    .selectFrom('audit_log')
    .where('action', '=', 'auth.login')
    .where('outcome', '=', 'failure')
    .where('ts', '>=', since);
  const [totals, topIps, reuse] = await Promise.all([
    base
      .select([sql<number>`count(*)`.as('count'), sql<number>`count(distinct ip)`.as('ips')])
      .executeTakeFirst(),
    base
      .select((eb) => ['ip', eb.fn.countAll<number>().as('count'), eb.fn.max('ts').as('last')])
      .where('ip', 'is not', null)
      .groupBy('ip')
      .orderBy(sql`count(*)`, 'desc')
      .limit(10)
      .execute(),
    // A refresh token presented again after rotation: a stolen token (its session was revoked).
    db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('action', '=', 'auth.refresh_token_reuse')
      .where('ts', '>=', since)
      .executeTakeFirst(),
  ]);
  return {
    count: n(totals?.count),
    distinctIps: n(totals?.ips),
    topIps: topIps.map((r) => ({ ip: r.ip ?? '', count: n(r.count), lastAt: Number(r.last) })),
    refreshTokenReuse: n(reuse?.count),
  };
}
