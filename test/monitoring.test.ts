import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAlarm } from '../src/alarms/alarms.repository.js';
import { SelfMonitor } from '../src/monitoring/self-monitor.js';
import { REPEAT_MS } from '../src/monitoring/self-monitor.rules.js';
import { insertSecurityEvents } from '../src/security/security.repository.js';
import { PLATFORM_TENANT_ID } from '../src/tenants/platform-tenant.js';
import { createTenant, createUserInTenant } from '../src/users/users.service.js';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { loginAs, PASSWORD, type Session, seedUser } from './helpers/identity.js';
import { Relay } from './helpers/relay.js';
import { seedTelemetry } from './helpers/telemetry.js';

const DAY = 86_400_000;
const MONITORING = ['health', 'metrics-summary', 'security', 'alarms', 'business', 'jobs'].map(
  (p) => `/api/v1/monitoring/${p}`,
);
const PLATFORM = ['/api/v1/monitoring/platform/alarms', '/api/v1/monitoring/platform/notification-channels'];
const SYSTEM = { actorType: 'system' as const, actorId: null, ip: null, userAgent: null, requestId: null };

async function insertRuns(t: TestApp, job: string, statuses: readonly string[]): Promise<void> {
  const base = Date.now() - statuses.length * 60_000;
  for (const [i, status] of statuses.entries()) {
    await t.services.database.db
      .insertInto('job_runs')
      .values({
        job,
        scheduled_for: base + i * 60_000 + Math.floor(Math.random() * 1000),
        instance_id: 'test',
        status: status as 'failed',
        attempts: 1,
        started_at: base + i * 60_000,
        lease_until: base + i * 60_000 + 1000,
        finished_at: base + i * 60_000 + 10,
        duration_ms: 10,
        error: status === 'succeeded' ? null : 'boom',
      })
      .execute();
  }
}

describe.each(DIALECTS)('monitoring API on %s', (dialect) => {
  let t: TestApp;
  let root: Session;
  let tenantAdmin: Session;
  let viewer: Session;
  let tenantId: string;
  const yesterday = Math.floor(Date.now() / DAY) * DAY - DAY;

  beforeAll(async () => {
    // Without detection, so the alarm figures are exactly the ones made here.
    t = await createTestAppOn(dialect, { DETECTION_ENABLED: 'false' });
    root = await loginAs(
      t.app,
      (await seedUser(t.services, { tenant: 'ops', role: 'owner', platformAdmin: true })).email,
    );
    const f = await seedTelemetry(t, 'water');
    tenantAdmin = f.admin;
    tenantId = f.tenantId;
    viewer = await loginAs(t.app, (await seedUser(t.services, { tenant: 'water', role: 'viewer' })).email);
    // 40 readings yesterday (compacted into chunks), 3 more now (still in the reading log), 2 refused.
    const readings = Array.from({ length: 40 }, (_, i) => ({
      sensor: 'a/pressure',
      ts: yesterday + 3_600_000 + i * 1_800_000,
      value: 3 + (i % 5) / 10,
    }));
    const ingest = (payload: object) =>
      t.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: f.apiKey, payload });
    expect((await ingest({ readings })).statusCode).toBe(200);
    await t.services.telemetry.compactAll();
    const now = Date.now();
    const fresh = [0, 1, 2].map((i) => ({ sensor: 'b/pressure', ts: now - 10_000 + i * 1000, value: 4 }));
    const bad = [
      { sensor: 'no/such', ts: now, value: 1 },
      { sensor: 'a/flow', ts: now, value: 'x' },
    ];
    expect((await ingest({ readings: [...fresh, ...bad] })).statusCode).toBe(200);
    // An alarm acknowledged a minute after it was raised, a flagged request, a failed login, job runs.
    const { alarm } = await upsertAlarm(
      t.services.database.db,
      {
        tenantId,
        dedupKey: 'sensor:x:threshold:high',
        sensorId: null,
        assetId: null,
        detector: 'threshold',
        ruleId: 'high',
        severity: 'major',
        title: 'Rule high',
        at: now,
        value: 9,
        details: {},
      },
      now - 60_000,
    );
    const ack = await t.app.inject({
      method: 'POST',
      url: `/api/v1/alarms/${alarm.id}/acknowledge`,
      headers: tenantAdmin.auth,
      payload: {},
    });
    expect(ack.statusCode).toBe(200);
    await insertSecurityEvents(t.services.database.db, [
      {
        tenant_id: null,
        kind: 'flagged',
        ip: '203.0.113.9',
        score: 6,
        categories: 'sqli',
        rule: 'sqli-union',
        method: 'GET',
        path: '/api/v1/sensors',
        user_agent: 'sqlmap',
        request_id: null,
        created_at: now,
      },
    ]);
    const failed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'nobody@example.com', password: 'wrong-password-123' },
    });
    expect(failed.statusCode).toBe(401);
    await insertRuns(t, 'telemetry.retention', ['succeeded', 'failed']);
  });
  afterAll(() => t.close());

  const get = (url: string, s?: Session) =>
    t.app.inject({ method: 'GET', url, ...(s ? { headers: s.auth } : {}) });

  it('answers every endpoint to a platform admin', async () => {
    const health = await get('/api/v1/monitoring/health', root);
    expect(health.statusCode).toBe(200);
    const h = health.json();
    expect(h).toMatchObject({
      status: 'ok',
      version: expect.any(String),
      dependencies: {
        database: { status: 'ok', latencyMs: expect.any(Number), error: null },
        redis: { status: 'off' },
        smtp: { status: 'off' },
        mqtt: { status: 'off' },
      },
      cpu: { processPercent: expect.any(Number), cores: expect.any(Number) },
      memory: { rssBytes: expect.any(Number), heapUsedBytes: expect.any(Number) },
      eventLoop: { p50Ms: expect.any(Number), p99Ms: expect.any(Number), maxMs: expect.any(Number) },
      selfMonitor: { enabled: true, intervalS: 30, openPlatformAlarms: 0 },
    });
    if (dialect === 'sqlite') {
      expect(h.disk).toMatchObject({ totalBytes: expect.any(Number), freeBytes: expect.any(Number) });
      expect(h.disk.usedPercent).toBeGreaterThanOrEqual(0);
    } else expect(h.disk).toBeNull();

    const summary = (await get('/api/v1/monitoring/metrics-summary', root)).json();
    expect(summary.ingest.sinceStart).toMatchObject({ accepted: 43, rejected: 2, failed: 0 });
    expect(summary.ingest.lastMinute).toMatchObject({ accepted: 43, rejected: 2 });
    expect(summary.ingest.lastHour.rejectedPercent).toBeCloseTo(4.4, 1);
    expect(summary.detection).toMatchObject({ enabled: false, queued: 0 });
    expect(summary.alarms).toMatchObject({
      openBySeverity: { critical: 0, major: 1, minor: 0, warning: 0, info: 0 },
      openPlatform: 0,
    });
    expect(summary.notifications.outbox).toEqual({ pending: 0, retrying: 0, failed: 0, failedLastHour: 0 });

    const security = (await get('/api/v1/monitoring/security', root)).json();
    expect(security.events.byKind).toContainEqual({ key: 'flagged', count: 1 });
    expect(security.events.recent[0]).toMatchObject({ ip: '203.0.113.9', categories: ['sqli'] });
    expect(security.blockedIps).toEqual({ total: 0, items: [] });
    expect(security.logins).toMatchObject({ failures: 1, distinctIps: 1, refreshTokenReuse: 0 });

    const alarms = (await get('/api/v1/monitoring/alarms', root)).json();
    expect(alarms).toMatchObject({
      open: { major: 0 },
      acknowledged: { major: 1 },
      last24h: { raised: 1, acknowledged: 1, resolved: 0 },
      meanTimeToResolveS: null,
      noisiestKeys: [{ tenantSlug: 'water', dedupKey: 'sensor:x:threshold:high', alarms: 1, occurrences: 1 }],
      tenantsWithMostOpen: [{ tenantSlug: 'water', open: 1 }],
    });
    expect(alarms.meanTimeToAcknowledgeS).toBeGreaterThanOrEqual(60);

    const business = (await get('/api/v1/monitoring/business', root)).json();
    expect(business).toMatchObject({
      tenants: 2, // ops and water; the platform tenant is not counted
      users: { total: 3, platformAdmins: 1, active24h: 3, active7d: 3 },
      devices: { total: 2, online: 0, quarantined: 0 },
    });
    const water = business.readings.tenants.find((x: { tenantSlug: string }) => x.tenantSlug === 'water');
    expect(business.readings.days).toHaveLength(7);
    expect(water.perDay[5]).toBe(40);
    expect(water.total).toBe(40);
    expect(business.readings.uncompacted.readings).toBe(3);

    const jobs = (await get('/api/v1/monitoring/jobs?limit=1', root)).json();
    expect(jobs.items).toHaveLength(1);
    expect(jobs.items[0]).toMatchObject({ job: 'telemetry.retention', status: 'failed' });
    expect(jobs.jobs).toEqual([
      {
        job: 'telemetry.retention',
        lastStatus: 'failed',
        lastRunAt: expect.any(String),
        consecutiveFailures: 1,
      },
    ]);
    const next = (await get(`/api/v1/monitoring/jobs?limit=1&cursor=${jobs.nextCursor}`, root)).json();
    expect(next.items[0].status).toBe('succeeded');
    const filtered = (await get('/api/v1/monitoring/jobs?status=succeeded', root)).json();
    expect(filtered.items.map((r: { status: string }) => r.status)).toEqual(['succeeded']);
    expect((await get('/api/v1/monitoring/jobs?status=bogus', root)).statusCode).toBe(400);
  });

  it('refuses tenant admins and viewers (403) and anonymous callers (401)', async () => {
    for (const url of [...MONITORING, ...PLATFORM]) {
      expect((await get(url, tenantAdmin)).statusCode, url).toBe(403);
      expect((await get(url, viewer)).statusCode, url).toBe(403);
      expect((await get(url)).statusCode, url).toBe(401);
      expect((await get(url, root)).statusCode, url).toBe(200);
    }
  });

  it('keeps the platform tenant out of every tenant’s reach', async () => {
    const { db } = t.services.database;
    // Reserved: no tenant can take its slug, nobody can be made a member.
    const create = await t.app.inject({
      method: 'POST',
      url: '/api/v1/admin/tenants',
      headers: root.auth,
      payload: { slug: 'platform', name: 'Mine' },
    });
    expect(create.statusCode).toBe(400);
    expect(create.json().errors[0].pointer).toBe('/body/slug');
    await expect(
      db
        .transaction()
        .execute((trx) =>
          createUserInTenant(
            t.services,
            trx,
            { email: 'sneaky@example.com', password: PASSWORD, tenantId: PLATFORM_TENANT_ID, role: 'owner' },
            SYSTEM,
          ),
        ),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      db
        .transaction()
        .execute((trx) => createTenant(t.services, trx, { slug: 'platform', name: 'x' }, SYSTEM)),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const tenants = (await get('/api/v1/admin/tenants', root)).json();
    expect(tenants.items.map((x: { slug: string }) => x.slug)).toEqual(['ops', 'water']);

    // A platform alarm: platform admins see it under /monitoring/platform, tenants never.
    const { alarm } = await upsertAlarm(
      db,
      {
        tenantId: PLATFORM_TENANT_ID,
        dedupKey: `platform:test:${randomUUID()}`,
        sensorId: null,
        assetId: null,
        detector: 'self-monitor',
        ruleId: 'test',
        severity: 'major',
        title: 'Test',
        at: Date.now(),
        value: null,
        details: {},
      },
      Date.now(),
    );
    for (const s of [tenantAdmin, root]) {
      const own = (await get('/api/v1/alarms', s)).json();
      expect(own.items.map((a: { id: string }) => a.id)).not.toContain(alarm.id);
      expect((await get(`/api/v1/alarms/${alarm.id}`, s)).statusCode).toBe(404);
    }
    const list = (await get('/api/v1/monitoring/platform/alarms', root)).json();
    expect(list.items.map((a: { id: string }) => a.id)).toContain(alarm.id);
    expect((await get(`/api/v1/monitoring/platform/alarms/${alarm.id}`, tenantAdmin)).statusCode).toBe(403);
    // The tenant's own alarm is not reachable through the platform routes either.
    const theirs = (await get('/api/v1/alarms', tenantAdmin)).json().items[0].id;
    expect((await get(`/api/v1/monitoring/platform/alarms/${theirs}`, root)).statusCode).toBe(404);

    const ack = await t.app.inject({
      method: 'POST',
      url: `/api/v1/monitoring/platform/alarms/${alarm.id}/acknowledge`,
      headers: root.auth,
      payload: { comment: 'looking' },
    });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({ status: 'acknowledged' });
    const resolve = await t.app.inject({
      method: 'POST',
      url: `/api/v1/monitoring/platform/alarms/${alarm.id}/resolve`,
      headers: root.auth,
      payload: { comment: 'done' },
    });
    expect(resolve.json()).toMatchObject({ status: 'resolved', resolution: 'manual' });
    // Audited under the admin's own user, in the platform tenant.
    const audit = await db
      .selectFrom('audit_log')
      .select(['tenant_id', 'actor_id'])
      .where('action', '=', 'alarm.resolve')
      .where('target_id', '=', alarm.id)
      .executeTakeFirstOrThrow();
    expect(audit.tenant_id).toBe(PLATFORM_TENANT_ID);
    expect(audit.actor_id).not.toBeNull();
  });
});

describe.each(DIALECTS)('self-monitoring on %s', (dialect) => {
  let t: TestApp;
  let root: Session;
  let tenantOwner: Session;
  let relay: Relay;
  // The monitor's clock: in the past, so the alarms it raises fall in the alarm list's default window.
  let now = Date.now() - 2 * 3_600_000;
  let monitor: SelfMonitor;
  const KEY = 'platform:dependency:redis';

  beforeAll(async () => {
    // Redis through a relay the test cuts and restores.
    relay = new Relay({ host: '127.0.0.1', port: 6379 });
    await relay.up();
    t = await createTestAppOn(dialect, {
      REDIS_URL: `redis://127.0.0.1:${relay.port}`,
      READINESS_TIMEOUT_MS: '300',
      SELF_MONITOR_JOB_FAILURES: '3',
    });
    root = await loginAs(
      t.app,
      (await seedUser(t.services, { tenant: 'ops', role: 'owner', platformAdmin: true })).email,
    );
    tenantOwner = await loginAs(
      t.app,
      (await seedUser(t.services, { tenant: 'water', role: 'owner' })).email,
    );
    // A channel of the platform tenant (what platform admins set up), stored directly: its URL need not resolve.
    await t.services.database.db
      .insertInto('notification_channels')
      .values({
        id: randomUUID(),
        tenant_id: PLATFORM_TENANT_ID,
        name: 'Platform on call',
        type: 'webhook',
        url: 'https://hooks.example.com/platform',
        secret: 'x',
        min_severity: 'warning',
        enabled: 1,
        created_by: null,
        created_at: Date.now(),
      })
      .execute();
    monitor = new SelfMonitor(t.services, { clock: () => now });
  });
  afterAll(async () => {
    await monitor.stop();
    await t.close();
    await relay.down();
  });

  const platformAlarm = async (key: string) => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/monitoring/platform/alarms',
      headers: root.auth,
    });
    expect(res.statusCode).toBe(200);
    return res
      .json()
      .items.find(
        (a: { dedupKey: string; status: string }) =>
          a.dedupKey === key && (a.status === 'open' || a.status === 'acknowledged'),
      );
  };
  const decisionOf = (r: Awaited<ReturnType<SelfMonitor['runOnce']>>, key: string) =>
    r.conditions.find((c) => c.key === key)?.decision;
  const deliveries = async (alarmId: string) =>
    (
      await t.services.database.db
        .selectFrom('notification_outbox')
        .select('event')
        .where('tenant_id', '=', PLATFORM_TENANT_ID)
        .where('alarm_id', '=', alarmId)
        .orderBy('id')
        .execute()
    ).map((d) => d.event);

  it('raises a platform alarm when Redis goes away, deduplicates it, and resolves it when Redis is back', async () => {
    const first = await monitor.runOnce();
    expect(first.databaseDown).toBe(false);
    expect(first.conditions.find((c) => c.key === KEY)).toMatchObject({ severity: null, decision: 'keep' });
    expect(await platformAlarm(KEY)).toBeUndefined();

    await relay.down();
    const down = await monitor.runOnce();
    expect(decisionOf(down, KEY)).toBe('raise');
    const raised = await platformAlarm(KEY);
    expect(raised).toMatchObject({
      status: 'open',
      severity: 'major',
      detector: 'self-monitor',
      title: 'Redis unreachable',
      occurrences: 1,
      details: { dependency: 'redis', error: expect.any(String) },
    });

    // Still down a moment later: the open alarm stands as it is (nothing repeated, nobody renotified).
    expect(decisionOf(await monitor.runOnce(), KEY)).toBe('keep');
    expect((await platformAlarm(KEY)).occurrences).toBe(1);
    // Still down REPEAT_MS later: repeated on the same alarm (deduplicated).
    now += REPEAT_MS;
    expect(decisionOf(await monitor.runOnce(), KEY)).toBe('raise');
    const repeated = await platformAlarm(KEY);
    expect(repeated).toMatchObject({ id: raised.id, status: 'open', occurrences: 2 });
    // Tenants never see it.
    const theirs = await t.app.inject({ method: 'GET', url: '/api/v1/alarms', headers: tenantOwner.auth });
    expect(theirs.json().items).toEqual([]);

    await relay.up();
    const redis = t.services.redis!;
    if (redis.status !== 'ready') await once(redis, 'ready', { signal: AbortSignal.timeout(15_000) });
    now += 30_000;
    expect(decisionOf(await monitor.runOnce(), KEY)).toBe('clear');
    expect(await platformAlarm(KEY)).toBeUndefined();
    const detail = await t.app.inject({
      method: 'GET',
      url: `/api/v1/monitoring/platform/alarms/${raised.id}`,
      headers: root.auth,
    });
    expect(detail.json().alarm).toMatchObject({ status: 'resolved', resolution: 'cleared', flapping: false });
    expect(detail.json().history.map((h: { kind: string }) => h.kind)).toEqual([
      'raised',
      'repeated',
      'resolved',
    ]);
    // Notified to the platform tenant's channel like any alarm: raised, then resolved.
    expect(await deliveries(raised.id)).toEqual(['raised', 'resolved']);
    expect(decisionOf(await monitor.runOnce(), KEY)).toBe('keep');
  });

  it('raises an alarm for a job failing repeatedly and resolves it after a successful run', async () => {
    const key = 'platform:job:audit.checkpoint';
    await insertRuns(t, 'audit.checkpoint', ['succeeded', 'failed', 'failed']);
    expect(decisionOf(await monitor.runOnce(), key)).toBe('keep');
    await insertRuns(t, 'audit.checkpoint', ['timed_out']);
    expect(decisionOf(await monitor.runOnce(), key)).toBe('raise');
    const alarm = await platformAlarm(key);
    expect(alarm).toMatchObject({
      severity: 'major',
      title: 'Job audit.checkpoint failing repeatedly',
      details: { job: 'audit.checkpoint', consecutiveFailures: 3, lastStatus: 'timed_out' },
    });
    const jobs = await t.app.inject({ method: 'GET', url: '/api/v1/monitoring/jobs', headers: root.auth });
    expect(jobs.json().jobs).toContainEqual(
      expect.objectContaining({ job: 'audit.checkpoint', consecutiveFailures: 3 }),
    );
    const health = await t.app.inject({
      method: 'GET',
      url: '/api/v1/monitoring/health',
      headers: root.auth,
    });
    expect(health.json().selfMonitor.openPlatformAlarms).toBe(1);

    await insertRuns(t, 'audit.checkpoint', ['succeeded']);
    now += 30_000;
    expect(decisionOf(await monitor.runOnce(), key)).toBe('clear');
    expect(await platformAlarm(key)).toBeUndefined();
    expect(await deliveries(alarm.id)).toEqual(['raised', 'resolved']);
  });

  it('records a database outage once the database answers again', async () => {
    // Simulated: the check fails once (the database itself stays up so the test can read the result).
    const services = t.services as { database: { ping: () => Promise<void> } };
    const ping = services.database.ping;
    services.database.ping = () => Promise.reject(new Error('connection refused'));
    try {
      const down = await monitor.runOnce();
      expect(down.databaseDown).toBe(true);
    } finally {
      services.database.ping = ping;
    }
    now += 30_000;
    await monitor.runOnce();
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/monitoring/platform/alarms?status=resolved',
      headers: root.auth,
    });
    const outage = res
      .json()
      .items.find((a: { dedupKey: string }) => a.dedupKey === 'platform:dependency:database');
    expect(outage).toMatchObject({ severity: 'critical', status: 'resolved', details: { failedChecks: 1 } });
  });
});
