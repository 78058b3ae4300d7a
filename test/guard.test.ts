import { randomBytes, randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { REDIS_URL, tempDir, testConfig, testKey } from './helpers/env.js';
import { loginAs, seedUser } from './helpers/identity.js';
import { countryDatabase } from './helpers/mmdb.js';

const someIp = () => `198.51.${randomInt(256)}.${randomInt(1, 255)}`;
const until = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
};

describe('threat guard', () => {
  let t: TestApp;
  let admin: { authorization: string };
  let root: { authorization: string };
  let tenantId: string;
  const allowed = someIp();
  const denied = someIp();

  beforeAll(async () => {
    t = await createTestApp({ GUARD_ALLOW: `${allowed}/32`, GUARD_DENY: denied });
    const tenant = `g-${randomBytes(3).toString('hex')}`;
    const owner = await seedUser(t.services, { tenant, role: 'owner' });
    tenantId = owner.tenant.id;
    admin = (await loginAs(t.app, owner.email)).auth;
    const p = await seedUser(t.services, { tenant: 'ops', role: 'owner', platformAdmin: true });
    root = (await loginAs(t.app, p.email)).auth;
  });
  afterAll(() => t.close());

  const get = (url: string, ip: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers, remoteAddress: ip });
  const events = async (query: string, auth = root) =>
    (
      await t.app.inject({ method: 'GET', url: `/api/v1/admin/security/events?${query}`, headers: auth })
    ).json().items as { kind: string; ip: string; categories: string[]; tenantId: string | null }[];

  it('lets legitimate free text through, in any language, with quotes and symbols', async () => {
    const ip = someIp();
    const names = [
      "O'Brien's pump station — check valve & flow < 2 m³/h; see ticket #4711",
      'Druckabfall in Zone Nord: Pumpe 2 läuft (50 % offen) — bitte prüfen!',
      "Station d'épuration « l'usine » : fuite détectée près de l'école",
      'Насосная станция №3: давление > 4 бар, проверить задвижку',
      'محطة الضخ الشمالية: تسرب بالقرب من المدرسة',
      '北区泵站：压力下降，请检查阀门 (DN150)',
      'ポンプ場 3：振動が増加 — 来週ベアリング交換',
      'Select pump 3 from the list, or drop the pressure by 1 bar and update the log',
    ];
    for (const [i, name] of names.entries()) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/sites',
        headers: admin,
        payload: { key: `site-${i}`, name, kind: 'zone' },
        remoteAddress: ip,
      });
      expect(res.statusCode, name).toBe(201);
    }
    expect(await events(`ip=${ip}`)).toEqual([]);
  });

  it('blocks an attack, records the event, blocks the IP (audited), and a flagged request passes but is recorded', async () => {
    const ip = someIp();
    const attack = await get(
      `/api/v1/sensors?q=${encodeURIComponent("x' UNION SELECT password FROM users--")}`,
      ip,
      admin,
    );
    expect(attack.statusCode).toBe(403);
    expect(attack.json()).toMatchObject({ code: 'REQUEST_BLOCKED' });
    await until(async () => (await get('/api/v1/tenant', ip, admin)).statusCode === 403);
    const after = await get('/api/v1/tenant', ip, admin);
    expect(after.statusCode).toBe(403);
    expect(Number(after.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get('/healthz', ip)).statusCode).toBe(200);
    await t.services.guard.flush();
    expect(await events(`ip=${ip}`)).toMatchObject([{ kind: 'blocked', categories: ['sqli'] }]);
    const audit = await t.app.inject({
      method: 'GET',
      url: '/api/v1/admin/audit?action=security.block',
      headers: root,
    });
    expect(audit.json().items.some((e: { targetId: string }) => e.targetId === ip)).toBe(true);

    // A lone HTML tag scores 0.85: recorded, not refused.
    const other = someIp();
    const flagged = await get(`/api/v1/sensors?q=${encodeURIComponent('<b>bold</b>')}`, other, admin);
    expect(flagged.statusCode).toBe(200);
    await t.services.guard.flush();
    // Flagged events carry the tenant of the authenticated request, so its admins see them.
    expect(await events(`ip=${other}`)).toMatchObject([{ kind: 'flagged', categories: ['xss'], tenantId }]);
  });

  it('blocks an IPv6 attacker’s whole /64, not just the one address', async () => {
    const net64 = `2001:db8:${randomInt(0xffff).toString(16)}:7`;
    expect(
      (await get(`/x?q=${encodeURIComponent('<script>alert(1)</script>')}`, `${net64}::1`)).statusCode,
    ).toBe(403);
    await until(async () => (await get('/healthz-not', `${net64}::2`)).statusCode === 403);
    expect((await get('/api/v1/tenant', `${net64}:abcd::9`, admin)).json().code).toBe('REQUEST_BLOCKED');
    expect((await get('/api/v1/tenant', '2001:db8:ffff:ffff::1', admin)).statusCode).toBe(200);
    const lift = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/admin/security/blocks/${encodeURIComponent(`${net64}::1`)}`,
      headers: root,
    });
    expect(lift.statusCode).toBe(204);
  });

  it('scores JSON bodies too, but never password fields', async () => {
    const ip = someIp();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/sites',
      headers: admin,
      payload: { key: 'evil', name: '<script>alert(document.cookie)</script>', kind: 'zone' },
      remoteAddress: ip,
    });
    expect(res.statusCode).toBe(403);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'nobody@example.com', password: "x' OR '1'='1' --" },
      remoteAddress: someIp(),
    });
    expect(login.statusCode).toBe(401);
  });

  it('escalates a borderline request from an IP that misbehaved (404 bursts, failed logins)', async () => {
    const calm = someIp();
    const noisy = someIp();
    const borderline = `/api/v1/sensors?q=${encodeURIComponent('<b>x</b>')}`;
    expect((await get(borderline, calm, admin)).statusCode).toBe(200);
    for (let i = 0; i < 10; i++) await get(`/no/such/${i}`, noisy);
    for (let i = 0; i < 3; i++)
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'someone@example.com', password: 'wrong-password-1' },
        remoteAddress: noisy,
      });
    expect(t.services.guard.behaviour.risk(noisy)).toBeGreaterThan(0.5);
    expect((await get(borderline, noisy, admin)).statusCode).toBe(403);
  });

  it('allow lists win; deny lists refuse; administrators add and remove rules (audited)', async () => {
    const attack = `/api/v1/sensors?q=${encodeURIComponent('../../../../etc/passwd')}`;
    expect((await get(attack, allowed, admin)).statusCode).toBe(200);
    expect((await get('/api/v1/tenant', denied, admin)).json().code).toBe('REQUEST_BLOCKED');
    expect((await get('/healthz', denied)).statusCode).toBe(200);

    const office = someIp();
    const add = (kind: string, cidr: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/admin/security/rules',
        headers: root,
        payload: { kind, cidr, reason: 'test' },
      });
    const block = await add('block', `${office.split('.').slice(0, 3).join('.')}.0/24`);
    expect(block.statusCode).toBe(201);
    expect((await get('/api/v1/tenant', office, admin)).statusCode).toBe(403);
    const allow = await add('allow', `${office}/32`);
    expect(allow.statusCode).toBe(201);
    // The allow entry is more specific and wins over the range's block, and over attacks.
    expect((await get('/api/v1/tenant', office, admin)).statusCode).toBe(200);
    expect((await get(attack, office, admin)).statusCode).toBe(200);
    expect((await add('allow', 'not-an-ip')).statusCode).toBe(400);
    expect((await add('allow', `${office}/32`)).statusCode).toBe(409);
    const listed = await t.app.inject({ method: 'GET', url: '/api/v1/admin/security/blocks', headers: root });
    expect(
      listed
        .json()
        .rules.map((r: { kind: string }) => r.kind)
        .sort(),
    ).toEqual(['allow', 'block']);
    for (const r of [block, allow]) {
      const del = await t.app.inject({
        method: 'DELETE',
        url: `/api/v1/admin/security/rules/${r.json().id}`,
        headers: root,
      });
      expect(del.statusCode).toBe(204);
    }
    expect((await get('/api/v1/tenant', office, admin)).statusCode).toBe(200);
    const audit = await t.app.inject({ method: 'GET', url: '/api/v1/admin/audit?limit=100', headers: root });
    const actions = audit.json().items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'security.block.add',
        'security.allow.add',
        'security.block.remove',
        'security.allow.remove',
      ]),
    );
    // Tenant admins cannot manage rules.
    expect((await add.call(null, 'block', '192.0.2.1')).statusCode).toBe(201);
    const denyTenant = await t.app.inject({
      method: 'POST',
      url: '/api/v1/admin/security/rules',
      headers: admin,
      payload: { kind: 'block', cidr: '192.0.2.2', reason: 'x' },
    });
    expect(denyTenant.statusCode).toBe(403);
  });

  it('lifts a block on request (audited); tenant admins see only their tenant’s events', async () => {
    const ip = someIp();
    expect(
      (await get(`/api/v1/tenant?q=${encodeURIComponent('<script>x</script>')}`, ip, admin)).statusCode,
    ).toBe(403);
    await until(async () => (await get('/api/v1/tenant', ip, admin)).statusCode === 403);
    const lift = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/admin/security/blocks/${ip}`,
      headers: root,
    });
    expect(lift.statusCode).toBe(204);
    expect((await get('/api/v1/tenant', ip, admin)).statusCode).toBe(200);
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/api/v1/admin/security/blocks/${ip}`, headers: root }))
        .statusCode,
    ).toBe(404);
    await t.services.guard.flush();
    const mine = await t.app.inject({
      method: 'GET',
      url: '/api/v1/security/events?limit=100',
      headers: admin,
    });
    expect(mine.statusCode).toBe(200);
    for (const e of mine.json().items) expect(e.tenantId).toBe(tenantId);
    const summary = await t.app.inject({
      method: 'GET',
      url: '/api/v1/admin/security/summary',
      headers: root,
    });
    expect(summary.json().byKind.length).toBeGreaterThan(0);
  });
});

describe('threat guard blocks shared through Redis', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
  });

  it('an IP blocked by one instance is refused by the other', async () => {
    const secrets = { SECRET_KEY: testKey(), ENCRYPTION_KEY: testKey(), REDIS_URL };
    const a = await createTestApp(secrets);
    const b = await createTestApp(secrets);
    apps.push(a, b);
    const ip = someIp();
    const attack = await a.app.inject({
      method: 'GET',
      url: '/x?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E',
      remoteAddress: ip,
    });
    expect(attack.statusCode).toBe(403);
    await until(
      async () =>
        (await b.app.inject({ method: 'GET', url: '/nowhere', remoteAddress: ip })).statusCode === 403,
    );
    expect((await b.app.inject({ method: 'GET', url: '/nowhere', remoteAddress: ip })).json().code).toBe(
      'REQUEST_BLOCKED',
    );
    await a.services.guard.blocks.unblock(ip);
  });
});

describe('threat guard with an IP reputation service', () => {
  let t: TestApp;
  let stub: http.Server;
  const asked: { ip: string | null; key: string | undefined }[] = [];
  const abuser = someIp();
  const clean = someIp();

  beforeAll(async () => {
    // An AbuseIPDB-compatible stub on loopback.
    stub = http.createServer((req, res) => {
      const ip = new URL(req.url ?? '/', 'http://x').searchParams.get('ipAddress');
      asked.push({ ip, key: req.headers.key as string | undefined });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { ipAddress: ip, abuseConfidenceScore: ip === abuser ? 100 : 0 } }));
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    const { port } = stub.address() as AddressInfo;
    t = await createTestApp({
      GUARD_REPUTATION_URL: `http://127.0.0.1:${port}/api/v2/check`,
      GUARD_REPUTATION_KEY: 'test-key',
    });
  });
  afterAll(async () => {
    await t.close();
    stub.close();
  });

  it('raises a borderline request from a known abuser to a block; the same request from a clean IP passes; answers are cached', async () => {
    const borderline = `/nowhere?q=${encodeURIComponent('<b>x</b>')}`;
    const send = (ip: string) => t.app.inject({ method: 'GET', url: borderline, remoteAddress: ip });
    // The first suspicious request from an address starts the lookup; it is not kept waiting.
    expect((await send(abuser)).statusCode).toBe(404);
    expect((await send(clean)).statusCode).toBe(404);
    await Promise.all([abuser, clean].map((ip) => t.services.guard.reputation!.settled(ip)));
    expect((await send(abuser)).statusCode).toBe(403);
    expect((await send(clean)).statusCode).toBe(404);
    expect(asked).toEqual([
      { ip: abuser, key: 'test-key' },
      { ip: clean, key: 'test-key' },
    ]);
  });

  it('needs a key with the URL, at configuration', () => {
    expect(() => testConfig({ GUARD_REPUTATION_URL: 'https://api.abuseipdb.com/api/v2/check' })).toThrow(
      /GUARD_REPUTATION_KEY: is required/,
    );
  });
});

describe('threat guard with GeoIP country risk', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A MaxMind-format country database written for this test.
    const file = path.join(tempDir(), 'countries.mmdb');
    writeFileSync(file, countryDatabase({ '198.51.100.0/24': 'XA', '203.0.113.0/24': 'XB' }));
    t = await createTestApp({ GUARD_GEOIP_DB: file, GUARD_COUNTRY_RISK: 'XA=1' });
  });
  afterAll(() => t.close());

  it('raises a borderline request from a risky country to a block, not one from elsewhere, and never a clean one', async () => {
    const borderline = `/nowhere?q=${encodeURIComponent('<b>x</b>')}`;
    const send = (url: string, ip: string) => t.app.inject({ method: 'GET', url, remoteAddress: ip });
    expect(t.services.guard.countries!.country('198.51.100.20')).toBe('XA');
    expect((await send('/nowhere', '198.51.100.20')).statusCode).toBe(404);
    expect((await send(borderline, '203.0.113.20')).statusCode).toBe(404);
    expect((await send(borderline, '198.51.100.21')).statusCode).toBe(403);
  });

  it('checks its settings at configuration', () => {
    expect(() => testConfig({ GUARD_GEOIP_DB: '/nonexistent.mmdb' })).toThrow(
      /GUARD_GEOIP_DB: file not found/,
    );
    expect(() => testConfig({ GUARD_COUNTRY_RISK: 'XA=1' })).toThrow(
      /GUARD_COUNTRY_RISK: needs GUARD_GEOIP_DB/,
    );
    expect(() => testConfig({ GUARD_COUNTRY_RISK: 'XA=2' })).toThrow(/"XA=2" is not ISO=risk/);
  });
});
