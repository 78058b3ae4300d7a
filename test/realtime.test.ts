import { once } from 'node:events';
import { type AddressInfo, createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { DetectionEvent } from '../src/detection/pipeline/detection-event.js';
import { createReplicaPair, createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { REDIS_URL } from './helpers/env.js';
import { loginAs, seedUser } from './helpers/identity.js';
import { authed, Client, connect, listen } from './helpers/stream-client.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;

const bearer = (h: { authorization: string }) => h.authorization.replace(/^Bearer /, '');

const point = (tenantId: string, sensorId: string, ts: number): DetectionEvent => ({
  tenantId,
  sensorId,
  assetId: null,
  ts,
  value: 9,
  kind: 'raised',
  detector: 'threshold',
  ruleId: `r-${ts}`,
  severity: 'major',
  score: 1,
  confidence: 1,
  detectors: ['threshold'],
  explanation: {},
});

describe('the live stream (WebSocket)', () => {
  let t: TestApp;
  let f: TelemetryFixture;
  let other: TelemetryFixture;
  let url: string;
  let origin: string;
  let next = Math.floor((Date.now() - 86_400_000) / MIN) * MIN;
  const slot = () => (next -= 10 * MIN);

  beforeAll(async () => {
    t = await createTestAppOn('sqlite', {
      CORS_ORIGINS: 'https://ops.example.com',
      STREAM_AUTH_TIMEOUT_S: '1',
      STREAM_IDLE_TIMEOUT_S: '1',
      STREAM_QUEUE_MAX: '10',
      WS_MAX_CONNECTIONS_PER_USER: '3',
      WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '3',
    });
    f = await seedTelemetry(t);
    other = await seedTelemetry(t, 'other');
    url = await listen(t);
    origin = `http://${new URL(url).host}`;
  });
  afterAll(async () => t?.close());

  it('refuses a credential in the URL and a foreign Origin; accepts its own origin and listed ones', async () => {
    expect(await connect(`${url}?token=${f.admin.accessToken}`)).toBe(400);
    expect(await connect(`${url}?access_token=x`)).toBe(400);
    expect(await connect(url, { origin: 'https://evil.example.com' })).toBe(403);
    for (const ok of ['https://ops.example.com', origin]) {
      const c = await connect(url, { origin: ok });
      expect(c).toBeInstanceOf(Client);
      (c as Client).close();
    }
  });

  it('authenticates with the first message: a bad token, another first message or none close with 4401', async () => {
    const bad = (await connect(url)) as Client;
    bad.send({ type: 'auth', token: 'not-a-token' });
    expect((await bad.closed).code).toBe(4401);
    const early = (await connect(url)) as Client;
    early.send({ type: 'subscribe', channel: 'alarms' });
    expect((await early.closed).code).toBe(4401);
    const silent = (await connect(url)) as Client;
    expect((await silent.closed).code).toBe(4401);
    const good = await authed(url, f.admin.accessToken);
    expect(good.messages[0]).toMatchObject({ type: 'ready', payload: { tenantId: f.tenantId } });
    good.close();
  });

  it('authorises every subscription by permission and tenant', async () => {
    const reader = await authed(url, bearer(f.readOnlyKey));
    reader.send({ type: 'subscribe', channel: 'alarms', ref: 'a' });
    expect(await reader.next((m) => m.type === 'error' && m.payload.ref === 'a')).toMatchObject({
      channel: 'alarms',
      payload: { code: 'FORBIDDEN' },
    });
    reader.send({ type: 'subscribe', channel: 'readings', sensorIds: [other.ids.pA], ref: 'b' });
    expect(await reader.next((m) => m.payload.ref === 'b')).toMatchObject({
      type: 'error',
      payload: { code: 'NOT_FOUND', sensorIds: [other.ids.pA] },
    });
    reader.send({ type: 'subscribe', channel: 'readings', sensorIds: [f.ids.pA], ref: 'c' });
    expect(await reader.next((m) => m.payload.ref === 'c')).toMatchObject({ type: 'subscribed' });
    reader.close();
    const admin = await authed(url, f.admin.accessToken);
    admin.send({ type: 'subscribe', channel: 'system', ref: 's' });
    expect(await admin.next((m) => m.payload.ref === 's')).toMatchObject({
      type: 'error',
      payload: { code: 'FORBIDDEN' },
    });
    admin.send({ type: 'subscribe', channel: 'bogus' });
    expect(await admin.next((m) => m.payload.code === 'VALIDATION_FAILED')).toMatchObject({
      payload: { pointer: '/channel' },
    });
    admin.close();
  });

  it("streams its tenant's alarm events live, with their event ids, and never another tenant's", async () => {
    const a = await authed(url, f.admin.accessToken);
    const b = await authed(url, other.admin.accessToken);
    for (const c of [a, b]) {
      c.send({ type: 'subscribe', channel: 'alarms', ref: 'al' });
      await c.next((m) => m.type === 'subscribed');
    }
    await t.services.alarms.apply([point(f.tenantId, f.ids.pA, slot())]);
    const raised = await a.next((m) => m.type === 'alarm.raised', 'alarm.raised');
    expect(raised).toMatchObject({ channel: 'alarms', payload: { sensorId: f.ids.pA, severity: 'major' } });
    expect(raised.id).toMatch(/^\d+$/);
    await t.services.alarms.apply([point(other.tenantId, other.ids.pA, slot())]);
    await b.next((m) => m.type === 'alarm.raised');
    expect(b.messages.filter((m) => m.type.startsWith('alarm.')).map((m) => m.payload.sensorId)).toEqual([
      other.ids.pA,
    ]);
    a.close();
    b.close();
  });

  it('conflates readings to the newest per sensor, at the rate the subscription asked for', async () => {
    const c = await authed(url, f.admin.accessToken);
    c.send({ type: 'subscribe', channel: 'readings', sensorIds: [f.ids.pA], maxRatePerS: 2 });
    await c.next((m) => m.type === 'subscribed');
    // The relay publishes only when this test says (its 250 ms timer would cut the batches apart).
    t.services.relay.stop();
    const t0 = Date.now() - MIN;
    for (const batch of [0, 1]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/ingest',
        headers: f.apiKey,
        payload: {
          readings: [0, 1, 2].map((i) => ({
            sensor: 'a/pressure',
            ts: t0 + (batch * 3 + i) * 1000,
            value: 4 + i,
          })),
        },
      });
      expect(res.statusCode).toBe(200);
    }
    const conflatedBefore = t.services.relay.stats.conflated;
    t.services.relay.flush();
    t.services.relay.start();
    const m = await c.next((x) => x.type === 'readings', 'readings');
    expect(m.payload.readings).toEqual([[f.ids.pA, t0 + 5000, 6]]);
    expect(conflatedBefore).toBeGreaterThanOrEqual(5);
    c.close();
  });

  it('disconnects a slow consumer with 4008 without dropping an alarm event; it resumes from its last event id', async () => {
    const c = await authed(url, f.admin.accessToken);
    c.send({ type: 'subscribe', channel: 'alarms' });
    await c.next((m) => m.type === 'subscribed');
    await t.services.alarms.apply([point(f.tenantId, f.ids.fA, slot())]);
    const last = await c.next((m) => m.type === 'alarm.raised');
    // The client stops reading; big messages fill the socket, then its queue.
    c.socket.pause();
    for (let i = 0; i < 60 && c.ws.readyState === WebSocket.OPEN; i++) {
      t.services.hub.publish({
        tenantId: f.tenantId,
        channel: 'alarms',
        type: 'alarm.test',
        id: null,
        payload: { blob: 'x'.repeat(256 * 1024) },
        at: Date.now(),
      });
      await new Promise((r) => setImmediate(r));
    }
    // Meanwhile, two more alarms.
    const missed = [slot(), slot()];
    await t.services.alarms.apply(missed.map((ts) => point(f.tenantId, f.ids.pB, ts)));
    c.socket.resume();
    expect((await c.closed).code).toBe(4008);
    expect(t.app.stream.stats.slowConsumers).toBeGreaterThan(0);

    const again = await authed(url, f.admin.accessToken);
    again.send({ type: 'subscribe', channel: 'alarms', since: last.id });
    const sub = await again.next((m) => m.type === 'subscribed');
    expect(sub.payload).toMatchObject({ complete: true });
    const replayed = again.messages.filter(
      (m) => m.type === 'alarm.raised' && m.payload.sensorId === f.ids.pB,
    );
    expect(replayed).toHaveLength(2);
    expect(replayed.every((m) => BigInt(m.id!) > BigInt(last.id!))).toBe(true);
    again.close();
  });

  it('streams incident changes live and replays them from an event id', async () => {
    const c = await authed(url, f.admin.accessToken);
    c.send({ type: 'subscribe', channel: 'incidents' });
    await c.next((m) => m.type === 'subscribed');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: f.admin.auth,
      payload: { title: 'Burst main', alarmIds: [] },
    });
    expect(res.statusCode, res.body).toBe(201);
    const live = await c.next((m) => m.type === 'incident.opened', 'incident.opened');
    expect(live.payload).toMatchObject({ incidentId: res.json().id, title: 'Burst main', status: 'open' });
    c.close();
    const again = await authed(url, f.admin.accessToken);
    again.send({ type: 'subscribe', channel: 'incidents', since: String(BigInt(live.id!) - 1n) });
    const replayed = await again.next((m) => m.type === 'incident.opened', 'replayed incident.opened');
    expect(replayed).toMatchObject({ id: live.id, payload: { ...live.payload, replayed: true } });
    again.close();
  });

  it('drops a client that does not answer pings, and closes an idle one with 4000', async () => {
    const idle = await authed(url, f.admin.accessToken);
    await new Promise((r) => setTimeout(r, 1100));
    t.app.stream.heartbeat();
    expect((await idle.closed).code).toBe(4000);

    const alive = await authed(url, f.admin.accessToken);
    const dead = await authed(url, f.admin.accessToken);
    for (const c of [alive, dead]) {
      c.send({ type: 'subscribe', channel: 'alarms' });
      await c.next((m) => m.type === 'subscribed');
    }
    dead.socket.pause();
    t.app.stream.heartbeat(); // ping both
    // The live client answers (its pong arrives before its reply to this ping message).
    alive.send({ type: 'ping', ref: 'hb' });
    await alive.next((m) => m.type === 'pong' && m.payload.ref === 'hb');
    t.app.stream.heartbeat(); // the one that did not answer is terminated
    alive.send({ type: 'ping', ref: 'hb2' });
    await alive.next((m) => m.type === 'pong' && m.payload.ref === 'hb2');
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    alive.close();
    dead.socket.resume();
    expect((await dead.closed).code).toBe(1006);
  });

  it('closes the connections of a session that ended (logout everywhere) with 4401', async () => {
    const u = await seedUser(t.services, { tenant: 'water', role: 'viewer' });
    const session = await loginAs(t.app, u.email);
    const c = await authed(url, session.accessToken);
    c.send({ type: 'subscribe', channel: 'alarms' });
    await c.next((m) => m.type === 'subscribed');
    expect(await t.app.stream.checkSessions()).toBe(0);
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout-all',
      headers: session.auth,
    });
    expect(out.statusCode, out.body).toBeLessThan(300);
    expect(await t.app.stream.checkSessions()).toBe(1);
    expect((await c.closed).code).toBe(4401);
  });

  it('streams system status to platform admins only', async () => {
    const u = await seedUser(t.services, { tenant: 'ops', role: 'admin', platformAdmin: true });
    const session = await loginAs(t.app, u.email);
    const c = await authed(url, session.accessToken);
    c.send({ type: 'subscribe', channel: 'system' });
    await c.next((m) => m.type === 'subscribed');
    t.app.stream.publishStatus();
    expect(await c.next((m) => m.type === 'system.status', 'system.status')).toMatchObject({
      channel: 'system',
      payload: { streamConnections: expect.any(Number), instanceId: expect.any(String) },
    });
    c.close();
  });

  it('limits connections per user (4429) and subscriptions per connection', async () => {
    const key = bearer(f.apiKey);
    const open = [await authed(url, key), await authed(url, key), await authed(url, key)];
    const fourth = (await connect(url)) as Client;
    fourth.send({ type: 'auth', token: key });
    expect((await fourth.closed).code).toBe(4429);
    for (const o of open) o.close();
    const c = await authed(url, f.admin.accessToken);
    c.send({ type: 'subscribe', channel: 'readings', sensorIds: [f.ids.pA, f.ids.fA] });
    await c.next((m) => m.type === 'subscribed');
    c.send({ type: 'subscribe', channel: 'alarms', ref: 'x' });
    expect((await c.next((m) => m.payload.ref === 'x')).type).toBe('subscribed');
    c.send({ type: 'subscribe', channel: 'incidents', ref: 'z' });
    expect(await c.next((m) => m.payload.ref === 'z')).toMatchObject({
      type: 'error',
      payload: { code: 'LIMIT' },
    });
    c.send({ type: 'subscribe', channel: 'readings', sensorIds: [f.ids.pB], ref: 'y' });
    expect(await c.next((m) => m.payload.ref === 'y')).toMatchObject({
      type: 'error',
      payload: { code: 'LIMIT' },
    });
    c.close();
  });

  it('answers a WebSocket upgrade to any other path with 404 instead of leaving it open', async () => {
    expect(await connect(url.replace('/api/v1/stream', '/api/v1/elsewhere'))).toBe(404);
  });
});

describe('fan-out across instances through Redis', () => {
  let one: TestApp;
  let two: TestApp;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ one, two, close } = await createReplicaPair({ WS_MAX_CONNECTIONS_PER_USER: '2' }));
  });
  afterAll(async () => close?.());

  it('an alarm raised and a reading ingested on one instance reach a client connected to the other', async () => {
    const f = await seedTelemetry(one);
    const url = await listen(two);
    const c = await authed(url, f.admin.accessToken);
    c.send({ type: 'subscribe', channel: 'alarms' });
    c.send({ type: 'subscribe', channel: 'readings', sensorIds: [f.ids.pA], maxRatePerS: 10 });
    await c.next((m) => m.type === 'subscribed' && m.channel === 'readings');
    await one.services.alarms.apply([point(f.tenantId, f.ids.pA, Date.now() - MIN)]);
    expect(await c.next((m) => m.type === 'alarm.raised', 'alarm from the other instance')).toMatchObject({
      payload: { sensorId: f.ids.pA },
    });
    // The watch reaches the first instance through Redis too; ingest there until a reading arrives.
    let value = 1;
    for (let i = 0; i < 40 && !c.messages.some((m) => m.type === 'readings'); i++) {
      const res = await one.app.inject({
        method: 'POST',
        url: '/api/v1/ingest',
        headers: f.apiKey,
        payload: { readings: [{ sensor: 'a/pressure', ts: Date.now() - 1000, value: value++ }] },
      });
      expect(res.statusCode).toBe(200);
      one.services.relay.flush();
      await new Promise((r) => setTimeout(r, 100));
    }
    const readings = await c.next((m) => m.type === 'readings', 'readings from the other instance');
    expect((readings.payload.readings as unknown[][])[0]![0]).toBe(f.ids.pA);
    expect(two.services.hub.stats.fromRedis).toBeGreaterThan(0);
    c.close();
    await once(c.ws, 'close');
  });

  it('does not count a client that left while its token was being checked (PostgreSQL: a real wait)', async () => {
    const f = await seedTelemetry(one, 'quick');
    const url = await listen(one);
    // More than WS_MAX_CONNECTIONS_PER_USER (10) clients that leave right after sending their token.
    for (let i = 0; i < 15; i++) {
      const quick = (await connect(url)) as Client;
      quick.send({ type: 'auth', token: f.admin.accessToken });
      quick.ws.terminate();
    }
    await new Promise((r) => setTimeout(r, 500));
    const after = await authed(url, f.admin.accessToken);
    expect(after.messages[0]!.type).toBe('ready');
    after.close();
  });

  it("limits a user's connections across instances, and frees the slot when one closes", async () => {
    const f = await seedTelemetry(one, 'slots');
    // Both instances listen already (the tests above).
    const urlOf = (t: TestApp) =>
      `ws://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/v1/stream`;
    const urlOne = urlOf(one);
    const urlTwo = urlOf(two);
    const a = await authed(urlOne, f.admin.accessToken);
    const b = await authed(urlOne, f.admin.accessToken);
    const third = await connect(urlTwo);
    if (typeof third === 'number') throw new Error(`refused: ${third}`);
    third.send({ type: 'auth', token: f.admin.accessToken });
    expect(await third.closed).toEqual({
      code: 4429,
      reason: 'too many live-stream connections for this user',
    });
    // Another user is not affected.
    const other = await seedUser(one.services, { tenant: 'slots', role: 'viewer' });
    const o = await authed(urlTwo, (await loginAs(one.app, other.email)).accessToken);
    a.close();
    await a.closed;
    let admitted: Client | undefined;
    for (let i = 0; i < 50 && !admitted; i++) {
      const c = await connect(urlTwo);
      if (typeof c === 'number') throw new Error(`refused: ${c}`);
      c.send({ type: 'auth', token: f.admin.accessToken });
      const first = await Promise.race([
        c.next((m) => m.type === 'ready').then(() => 'ready'),
        c.closed.then(() => 'closed'),
      ]);
      if (first === 'ready') admitted = c;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(admitted).toBeDefined();
    for (const c of [b, o, admitted!]) c.close();
  });
});

describe('the live stream against abuse', () => {
  let t: TestApp;
  let url: string;
  let f: TelemetryFixture;

  beforeAll(async () => {
    t = await createTestAppOn('sqlite', {
      ENABLE_RATE_LIMIT: 'true',
      // Room for the set-up's own sign-ins from loopback (counted in the shared Redis across runs).
      RATE_LIMIT_AUTH: '20/minute',
      // Generous for the fixture's own set-up requests.
      RATE_LIMIT_DEFAULT: '10000/minute',
      STREAM_MAX_CLIENT_MESSAGES_PER_S: '5',
      // The test's connections come from loopback: it plays the proxy that forwards clients.
      TRUST_PROXY: 'loopback',
      // Upgrade checks then wait on Redis: a real window for a client to reset the connection.
      REDIS_URL,
    });
    f = await seedTelemetry(t);
    url = await listen(t);
  });
  afterAll(async () => t?.close());

  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  // Counters and blocks live in the shared Redis: fresh addresses for each run (benchmark range).
  const fresh = () => `198.18.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}`;
  const [guesser, neighbour, blocked, unblocked] = [fresh(), fresh(), fresh(), fresh()];

  it('closes a client that floods it with messages (4429), and keeps one within the rate', async () => {
    const calm = await authed(url, f.admin.accessToken);
    const flood = await authed(url, f.admin.accessToken);
    for (let i = 0; i < 40; i++) flood.send({ type: 'ping', ref: String(i) });
    const closed = await flood.closed;
    expect(closed).toEqual({ code: 4429, reason: 'too many messages: at most 5 a second' });
    calm.send({ type: 'ping', ref: 'still-here' });
    await calm.next((m) => m.type === 'pong' && m.payload.ref === 'still-here', 'pong');
    calm.close();
  });

  it('limits failed authentications per address (the forwarded one) at the login rate', async () => {
    for (let i = 0; i < 20; i++) {
      const c = await connect(url, from(guesser));
      if (typeof c === 'number') throw new Error(`refused: ${c}`);
      c.send({ type: 'auth', token: 'not-a-token' });
      expect((await c.closed).code).toBe(4401);
    }
    // Spent: the next upgrade from that address is refused. HTTP sign-ins from it are counted
    // apart (an office's logins through one NAT must not lock its streams out, nor the reverse).
    expect(await connect(url, from(guesser))).toBe(429);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: from(guesser),
      remoteAddress: '127.0.0.1',
      payload: { email: 'nobody@example.com', password: 'x' },
    });
    expect(login.statusCode).toBe(401);
    // Another client behind the same proxy is not affected.
    const other = await connect(url, from(neighbour));
    expect(typeof other).not.toBe('number');
    (other as Client).close();
  });

  it('survives clients that reset the connection in the middle of the upgrade', async () => {
    const { port } = new URL(url.replace('ws:', 'http:'));
    for (let i = 0; i < 30; i++) {
      const socket = createConnection({ host: '127.0.0.1', port: Number(port) });
      await once(socket, 'connect');
      socket.write(
        'GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Key: ${Buffer.from(String(i).padStart(16, '0')).toString('base64')}\r\n` +
          `Sec-WebSocket-Version: 13\r\nX-Forwarded-For: 192.0.2.${i}\r\n\r\n`,
      );
      socket.resetAndDestroy();
    }
    // Still serving.
    const c = await authed(url, f.admin.accessToken);
    c.close();
  });

  it('refuses a blocked address at the upgrade', async () => {
    await t.services.guard.blocks.block(blocked, 'test', Date.now());
    expect(await connect(url, from(blocked))).toBe(403);
    const ok = await connect(url, from(unblocked));
    expect(typeof ok).not.toBe('number');
    (ok as Client).close();
  });
});

describe.each(DIALECTS)('resuming alarms after events committed out of id order, on %s', (dialect) => {
  let t: TestApp;
  let f: TelemetryFixture;
  let url: string;

  beforeAll(async () => {
    t = await createTestAppOn(dialect);
    f = await seedTelemetry(t);
    url = await listen(t);
  });
  afterAll(async () => t?.close());

  it('replays the events written just before the resume point on PostgreSQL (none are missed), only later ones on SQLite', async () => {
    const c = await authed(url, f.admin.accessToken);
    c.send({ type: 'subscribe', channel: 'alarms' });
    await c.next((m) => m.type === 'subscribed');
    const ts = Math.floor((Date.now() - 3_600_000) / MIN) * MIN;
    await t.services.alarms.apply([point(f.tenantId, f.ids.pA, ts)]);
    const first = await c.next((m) => m.type === 'alarm.raised' && m.payload.sensorId === f.ids.pA);
    await t.services.alarms.apply([point(f.tenantId, f.ids.pB, ts)]);
    const second = await c.next((m) => m.type === 'alarm.raised' && m.payload.sensorId === f.ids.pB);
    c.close();
    expect(BigInt(second.id!)).toBeGreaterThan(BigInt(first.id!));

    // The client's last event is the second; on PostgreSQL the first could have committed after it.
    const again = await authed(url, f.admin.accessToken);
    again.send({ type: 'subscribe', channel: 'alarms', since: second.id! });
    const sub = await again.next((m) => m.type === 'subscribed');
    const replayed = again.messages.filter((m) => m.type.startsWith('alarm.'));
    if (dialect === 'postgres') {
      expect(sub.payload).toMatchObject({ replayed: 1, complete: true });
      expect(replayed).toHaveLength(1);
      expect(replayed[0]).toMatchObject({ id: first.id, payload: { sensorId: f.ids.pA, replayed: true } });
    } else {
      expect(sub.payload).toMatchObject({ replayed: 0, complete: true });
      expect(replayed).toEqual([]);
    }
    again.close();
  });
});
