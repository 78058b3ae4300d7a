import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScheduler } from '../src/jobs/jobs.js';
import { type RunningServer, startServer } from '../src/server.js';
import { createTestApp, createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { testConfig } from './helpers/env.js';
import { type Exposition, find, parseExposition, promtool, total } from './helpers/metrics.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe.each(DIALECTS)('/metrics on %s', (dialect) => {
  let t: TestApp;
  let f: TelemetryFixture;
  let receiver: http.Server;
  /** Status codes the webhook receiver answers with, in turn (then 200). */
  const answers: number[] = [];
  let text: string;
  let m: Exposition;

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      req.resume().on('end', () => {
        res.statusCode = answers.shift() ?? 200;
        res.end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    t = await createTestAppOn(dialect, { WEBHOOK_ALLOWED_PRIVATE: '127.0.0.1/32' });
    f = await seedTelemetry(t);
    const call = async (method: 'POST' | 'PUT', url: string, payload: object, headers = f.admin.auth) => {
      const res = await t.app.inject({ method, url, headers, payload });
      expect(res.statusCode, res.body).toBeLessThan(300);
      return res;
    };
    await call('POST', '/api/v1/notification-channels', {
      name: 'ops',
      type: 'webhook',
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
    });
    await call('PUT', `/api/v1/sensors/${f.ids.pB}/detectors`, {
      rules: [{ id: 'low-pressure', when: 'below', value: 2, clear: 2.3, severity: 'major' }],
    });
    // Backfilled readings: 30 normal, 2 below the rule (raises a major alarm), then clear (resolves it);
    // one reading for a sensor that does not exist.
    const t0 = Math.floor((Date.now() - 2 * 86_400_000) / MIN) * MIN;
    const values = [...Array(30).fill(3), 1.8, 1.7, 2.5];
    await call(
      'POST',
      '/api/v1/ingest',
      {
        readings: [
          ...values.map((value, i) => ({ sensor: 'b/pressure', ts: t0 + i * MIN, value })),
          { sensor: 'no/such-sensor', ts: t0, value: 1 },
        ],
      },
      f.apiKey,
    );
    // The same batch again: every reading a duplicate.
    await call(
      'POST',
      '/api/v1/ingest',
      { readings: values.slice(0, 5).map((value, i) => ({ sensor: 'b/pressure', ts: t0 + i * MIN, value })) },
      f.apiKey,
    );
    const influx = await t.app.inject({
      method: 'POST',
      url: '/api/v2/write?precision=ms',
      headers: { authorization: f.apiKey.authorization.replace('Bearer', 'Token') },
      payload: `water,sensor=a/pressure value=4.2 ${t0}\nwater,sensor=a/pressure value=4.3 ${t0 + MIN}`,
    });
    expect(influx.statusCode, influx.body).toBe(204);
    await t.services.detection!.flush();
    await t.services.alarms.settle();
    // The raise and the resolve notices: the first delivery fails (retried later), the second is sent.
    answers.push(500);
    await t.services.notifications.runOnce();
    expect((await createScheduler(t.services).runNow('job-runs.prune')).status).toBe('succeeded');
    // A route with a parameter, and URLs no route matches.
    const one = await t.app.inject({
      method: 'GET',
      url: `/api/v1/sensors/${f.ids.pA}`,
      headers: f.admin.auth,
    });
    expect(one.statusCode).toBe(200);
    await t.app.inject({ method: 'GET', url: `/api/v1/sensors/${f.ids.pA}/nope/${f.ids.pB}` });
    await t.app.inject({ method: 'GET', url: '/wp-login.php?x=1' });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    text = res.body;
    m = parseExposition(text);
  });
  afterAll(async () => {
    await t?.close();
    receiver?.close();
  });

  it('passes `promtool check metrics`', () => {
    const r = promtool(['check', 'metrics'], text);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('has the process metrics and every Vigil family with its type', () => {
    const expected: Record<string, string> = {
      process_cpu_seconds_total: 'counter',
      process_resident_memory_bytes: 'gauge',
      nodejs_eventloop_lag_p99_seconds: 'gauge',
      nodejs_heap_size_used_bytes: 'gauge',
      vigil_build_info: 'gauge',
      vigil_http_request_duration_seconds: 'histogram',
      vigil_ingest_readings_accepted_total: 'counter',
      vigil_ingest_readings_rejected_total: 'counter',
      vigil_ingest_readings_duplicate_total: 'counter',
      vigil_detection_readings_scored_total: 'counter',
      vigil_detection_anomalies_total: 'counter',
      vigil_detection_queue_readings: 'gauge',
      vigil_alarms_raised_total: 'counter',
      vigil_alarms_cleared_total: 'counter',
      vigil_alarms_open: 'gauge',
      vigil_notifications_sent_total: 'counter',
      vigil_notifications_retried_total: 'counter',
      vigil_notifications_failed_total: 'counter',
      vigil_ws_connections: 'gauge',
      vigil_ws_subscriptions: 'gauge',
      vigil_ws_messages_sent_total: 'counter',
      vigil_ws_messages_conflated_total: 'counter',
      vigil_ws_messages_dropped_total: 'counter',
      vigil_ws_disconnects_total: 'counter',
      vigil_db_query_duration_seconds: 'histogram',
      vigil_db_pool_max_connections: 'gauge',
      vigil_cache_requests_total: 'counter',
      vigil_job_runs_total: 'counter',
      vigil_job_last_success_timestamp_seconds: 'gauge',
      vigil_rate_limit_rejections_total: 'counter',
      vigil_guard_requests_blocked_total: 'counter',
      vigil_guard_ip_blocks_total: 'counter',
      vigil_data_dir_free_bytes: 'gauge',
    };
    if (dialect === 'postgres') {
      expected.vigil_db_pool_connections = 'gauge';
      expected.vigil_db_pool_waiting_queries = 'gauge';
    }
    for (const [name, type] of Object.entries(expected))
      expect([name, m.types.get(name)]).toEqual([name, type]);
    expect(find(m, 'vigil_build_info', { database: dialect })).toHaveLength(1);
  });

  it('counts what happened, with the expected labels', async () => {
    const delivered = (
      await t.services.database.db
        .selectFrom('notification_outbox')
        .select('id')
        .where('status', '=', 'delivered')
        .execute()
    ).length;
    expect(total(m, 'vigil_ingest_readings_accepted_total', { protocol: 'http' })).toBe(33);
    expect(total(m, 'vigil_ingest_readings_accepted_total', { protocol: 'influx' })).toBe(2);
    expect(total(m, 'vigil_ingest_readings_duplicate_total', { protocol: 'http' })).toBe(5);
    expect(find(m, 'vigil_ingest_readings_rejected_total').map((s) => [s.labels, s.value])).toEqual([
      [{ protocol: 'http', reason: 'UNKNOWN_SENSOR' }, 1],
    ]);
    expect(total(m, 'vigil_detection_readings_scored_total')).toBe(35);
    expect(total(m, 'vigil_detection_anomalies_total', { detector: 'threshold', kind: 'raised' })).toBe(1);
    expect(total(m, 'vigil_alarms_raised_total', { severity: 'major' })).toBe(1);
    expect(total(m, 'vigil_alarms_cleared_total', { severity: 'major' })).toBe(1);
    expect(find(m, 'vigil_alarms_open', { severity: 'critical', status: 'open' })).toHaveLength(1);
    expect(total(m, 'vigil_notifications_sent_total', { channel_type: 'webhook' })).toBe(delivered);
    expect(delivered).toBeGreaterThan(0);
    expect(total(m, 'vigil_notifications_retried_total', { channel_type: 'webhook' })).toBe(1);
    expect(total(m, 'vigil_job_runs_total', { job_name: 'job-runs.prune', status: 'succeeded' })).toBe(1);
    expect(total(m, 'vigil_db_query_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(10);
    expect(
      total(m, 'vigil_cache_requests_total', { cache: 'sensor_directory', result: 'miss' }),
    ).toBeGreaterThan(0);
    expect(
      total(m, 'vigil_cache_requests_total', { cache: 'sensor_directory', result: 'hit' }),
    ).toBeGreaterThan(0);
    expect(total(m, 'vigil_data_dir_free_bytes')).toBeGreaterThan(0);
    expect(total(m, 'vigil_db_pool_max_connections')).toBe(dialect === 'postgres' ? 10 : 1);
  });

  it('labels HTTP requests by route pattern, never by URL', () => {
    const routes = new Set(find(m, 'vigil_http_request_duration_seconds_count').map((s) => s.labels.route));
    expect(routes).toContain('/api/v1/sensors/:id');
    expect(routes).toContain('/api/v1/ingest');
    expect(routes).toContain('/api/v2/write');
    expect(routes).toContain('unmatched');
    expect([...routes].filter((r) => r?.includes('wp-login') || r?.includes('?'))).toEqual([]);
    expect(
      find(m, 'vigil_http_request_duration_seconds_count', {
        route: '/api/v1/sensors/:id',
        method: 'GET',
        status_code: '200',
      }),
    ).toHaveLength(1);
  });

  it('has no label value naming a sensor, device, tenant or anything per-entity', () => {
    const identifiers = [f.tenantId, ...Object.values(f.ids), 'a/pressure', 'b/pressure', 'no/such-sensor'];
    const offending = m.samples.flatMap((s) =>
      Object.entries(s.labels)
        .filter(([, v]) => UUID.test(v) || identifiers.some((id) => v.includes(id)))
        .map(([k, v]) => `${s.name}{${k}="${v}"}`),
    );
    expect(offending).toEqual([]);
    // Bounded label sets: no family has more than a few hundred series.
    const perFamily = new Map<string, number>();
    for (const s of m.samples) perFamily.set(s.name, (perFamily.get(s.name) ?? 0) + 1);
    expect([...perFamily].filter(([, n]) => n > 500)).toEqual([]);
  });
});

describe('access to /metrics', () => {
  const TOKEN = 'metrics-token-0123456789abcdefghij';
  let withToken: TestApp;
  let production: TestApp;
  let separate: TestApp;

  beforeAll(async () => {
    withToken = await createTestApp({
      METRICS_TOKEN: TOKEN,
      ENABLE_RATE_LIMIT: 'true',
      RATE_LIMIT_AUTH: '1/minute',
    });
    production = await createTestApp({ NODE_ENV: 'production' });
    separate = await createTestApp({ METRICS_ADDRESS: '127.0.0.1:0' });
  });
  afterAll(async () => {
    await Promise.all([withToken?.close(), production?.close(), separate?.close()]);
  });

  it('with METRICS_TOKEN wants exactly that bearer token', async () => {
    const get = (authorization?: string) =>
      withToken.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: authorization ? { authorization } : {},
      });
    for (const bad of [
      undefined,
      'Bearer wrong',
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      TOKEN,
      `Basic ${TOKEN}`,
    ]) {
      const res = await get(bad);
      expect(res.statusCode, String(bad)).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().code).toBe('UNAUTHENTICATED');
      expect(res.body).not.toContain('vigil_');
    }
    const ok = await get(`Bearer ${TOKEN}`);
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('vigil_build_info');
  });

  it('is not served in production without a token or address', async () => {
    expect(production.config.metrics.main).toBe('off');
    expect((await production.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
  });

  it('counts threat-guard blocks and rate-limit rejections by bounded reason and class', async () => {
    const attack = await withToken.app.inject({
      method: 'GET',
      url: `/api/v1/sensors?q=${encodeURIComponent("x' UNION SELECT password FROM users--")}`,
      remoteAddress: '203.0.113.9',
    });
    expect(attack.statusCode).toBe(403);
    const login = () =>
      withToken.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'nobody@example.com', password: 'not-the-password-1' },
        remoteAddress: '198.51.100.7',
      });
    expect((await login()).statusCode).toBe(401);
    expect((await login()).statusCode).toBe(429);
    const res = await withToken.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const m = parseExposition(res.body);
    expect(total(m, 'vigil_guard_requests_blocked_total', { reason: 'attack' })).toBe(1);
    expect(total(m, 'vigil_rate_limit_rejections_total', { class: 'auth' })).toBe(1);
    expect(find(m, 'vigil_http_request_duration_seconds_count', { status_code: '403' })).toHaveLength(1);
    expect(res.body).not.toMatch(/203\.0\.113\.9|198\.51\.100\.7|nobody/);
  });

  it('with METRICS_ADDRESS is not served on the main port', async () => {
    expect((await separate.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
  });
});

describe('METRICS_ADDRESS: a separate listener', () => {
  let server: RunningServer;

  beforeAll(async () => {
    const config = testConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      MQTT_ENABLED: 'false',
      METRICS_ADDRESS: '127.0.0.1:0',
    });
    server = await startServer(config, pino({ level: 'silent' }), { migrate: true, noSetupLink: true });
  });
  afterAll(async () => server?.shutdown('test done'));

  it('serves /metrics without a token there, and nothing else', async () => {
    expect(server.metricsPort).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${server.metricsPort}`;
    await fetch(`${server.url}/healthz`);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(promtool(['check', 'metrics'], body).status).toBe(0);
    expect(
      total(parseExposition(body), 'vigil_http_request_duration_seconds_count', { route: '/healthz' }),
    ).toBe(1);
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });
});
