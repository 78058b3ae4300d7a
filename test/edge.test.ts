import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { testConfig, testKey } from './helpers/env.js';
import { PASSWORD, seedUser } from './helpers/identity.js';
import { observatoryScore } from './helpers/observatory.js';

const UI = 'https://control.example.com';
const PAGE = '<!doctype html><html><head><script src="/assets/app.js"></script></head><body></body></html>';

/** A page standing in for the web UI (same origin scripts only), served as HTML. */
const withPage = (app: FastifyInstance) =>
  app.get('/', { config: { auth: 'public' } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(PAGE),
  );

describe('security headers and the Observatory score', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Production behind a TLS-terminating proxy that Vigil trusts.
    t = await createTestApp(
      {
        NODE_ENV: 'production',
        SECRET_KEY: testKey(),
        ENCRYPTION_KEY: testKey(),
        TRUST_PROXY: 'true',
        REQUIRE_HTTPS: 'true',
        CORS_ORIGINS: UI,
      },
      { beforeReady: withPage },
    );
  });
  afterAll(() => t.close());
  const https = { 'x-forwarded-proto': 'https', host: 'vigil.example.com' };

  it('sends the full set on data, errors and HTML, and no-store on data', async () => {
    const data = await t.app.inject({ method: 'GET', url: '/healthz', headers: https });
    const error = await t.app.inject({ method: 'GET', url: '/api/v1/nothing', headers: https });
    const page = await t.app.inject({ method: 'GET', url: '/', headers: { ...https, accept: 'text/html' } });
    for (const res of [data, error, page]) {
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        'strict-transport-security': 'max-age=63072000; includeSubDomains',
      });
      expect(res.headers['permissions-policy']).toMatch(/camera=\(\)/);
      expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'.*frame-ancestors 'none'/);
      expect(res.headers['content-security-policy']).not.toMatch(/unsafe-(inline|eval)/);
    }
    expect(data.headers['cache-control']).toBe('no-store');
    expect(error.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
  });

  it('scores at least 100 (A+) under the Observatory rules, on the UI page and on a login that sets cookies', async () => {
    const u = await seedUser(t.services, { tenant: `obs-${randomBytes(3).toString('hex')}`, role: 'owner' });
    const page = await t.app.inject({ method: 'GET', url: '/', headers: { ...https, accept: 'text/html' } });
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: https,
      payload: { email: u.email, password: PASSWORD, session: 'cookie' },
    });
    expect(login.statusCode).toBe(200);
    expect(login.headers['set-cookie']).toBeDefined();
    // Over plain HTTP the browser is sent to https://, same host.
    const http = await t.app.inject({
      method: 'GET',
      url: '/',
      headers: { 'x-forwarded-proto': 'http', host: 'vigil.example.com', accept: 'text/html' },
    });
    expect(http.statusCode).toBe(301);
    expect(http.headers.location).toBe('https://vigil.example.com/');
    // Never cached: a redirect built from the Host header must not be served to others.
    expect(http.headers['cache-control']).toBe('no-store');
    const redirect = { status: http.statusCode, location: http.headers.location };
    for (const [res, html] of [
      [page, page.body],
      [login, undefined],
    ] as const) {
      const result = observatoryScore({
        headers: res.headers,
        html,
        http: redirect,
        host: 'vigil.example.com',
      });
      expect(result.modifiers.filter((m) => m.modifier < 0)).toEqual([]);
      expect(result.score).toBeGreaterThanOrEqual(100);
      expect(result.grade).toBe('A+');
    }
    // The scorer can fail: a bare response scores F.
    expect(observatoryScore({ headers: {}, http: { status: 200 }, host: 'x' }).grade).toBe('F');
  });

  it('refuses plain-HTTP API calls with a clear error, lets health probes through, and ignores X-Forwarded-Proto from untrusted proxies', async () => {
    const api = await t.app.inject({
      method: 'GET',
      url: '/api/v1/tenant',
      headers: { 'x-forwarded-proto': 'http', host: 'vigil.example.com' },
    });
    expect(api.statusCode).toBe(403);
    expect(api.json()).toMatchObject({
      code: 'HTTPS_REQUIRED',
      url: 'https://vigil.example.com/api/v1/tenant',
    });
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const untrusting = await createTestApp({
      NODE_ENV: 'production',
      SECRET_KEY: testKey(),
      ENCRYPTION_KEY: testKey(),
      REQUIRE_HTTPS: 'true',
    });
    try {
      const spoofed = await untrusting.app.inject({
        method: 'GET',
        url: '/api/v1/tenant',
        headers: { 'x-forwarded-proto': 'https' },
      });
      expect(spoofed.json().code).toBe('HTTPS_REQUIRED');
    } finally {
      await untrusting.close();
    }
  });

  it('CORS: allow-listed origins only, never with *, null and unknown origins get nothing', async () => {
    const from = (origin: string) =>
      t.app.inject({ method: 'GET', url: '/healthz', headers: { ...https, origin } });
    const ok = await from(UI);
    expect(ok.headers).toMatchObject({
      'access-control-allow-origin': UI,
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    });
    expect(ok.headers['access-control-expose-headers']).toMatch(/ratelimit-remaining/);
    for (const origin of [
      'https://evil.example.com',
      'null',
      `${UI}.evil.com`,
      'http://control.example.com',
    ]) {
      const res = await from(origin);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    }
    const preflight = (origin: string) =>
      t.app.inject({
        method: 'OPTIONS',
        url: '/api/v1/ingest',
        headers: {
          ...https,
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
    const allowed = await preflight(UI);
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers).toMatchObject({
      'access-control-allow-origin': UI,
      'access-control-max-age': '600',
    });
    expect(allowed.headers['access-control-allow-headers']).toMatch(/authorization/);
    const refused = await preflight('https://evil.example.com');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    expect(() => testConfig({ CORS_ORIGINS: '*' })).toThrow(/"\*" is not allowed/);
  });
});

describe('request limits and load shedding', () => {
  let t: TestApp;
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  beforeAll(async () => {
    t = await createTestApp(
      {
        MAX_URL_BYTES: '512',
        JSON_MAX_DEPTH: '8',
        MAX_HEADER_BYTES: '2048',
        HEADERS_TIMEOUT_MS: '1000',
        SHED_MAX_IN_FLIGHT: '1',
      },
      {
        beforeReady: (app) =>
          app.get('/test/slow', { config: { auth: 'public' } }, async () => {
            await gate;
            return { ok: true };
          }),
      },
    );
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => t.close());
  const port = () => (t.app.server.address() as net.AddressInfo).port;
  /** Raw bytes to the listening server; resolves with what it answered before closing. */
  const raw = (bytes: string) =>
    new Promise<string>((resolve) => {
      const s = net.connect(port(), '127.0.0.1', () => s.write(bytes));
      let out = '';
      s.on('data', (d) => {
        out += d.toString();
      });
      s.on('close', () => resolve(out));
      s.on('error', () => resolve(out));
    });

  it('414 for a long URL, 400 for JSON nested too deep (before parsing), each as problem+json', async () => {
    const long = await t.app.inject({ method: 'GET', url: `/api/v1/tenant?x=${'a'.repeat(600)}` });
    expect(long.statusCode).toBe(414);
    expect(long.json()).toMatchObject({ code: 'URI_TOO_LONG', limit: 512 });
    const deep = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: `{"email":${'['.repeat(20)}${']'.repeat(20)}}`,
    });
    expect(deep.statusCode).toBe(400);
    expect(deep.json()).toMatchObject({ code: 'MALFORMED_BODY', limit: 8 });
    expect(deep.json().detail).toMatch(/nested deeper than 8 levels/);
    // Brackets inside strings do not count.
    const text = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email: '[[[[[[[[[[[[[[[[[[[[', password: 'x' }),
    });
    expect(text.json().code).not.toBe('MALFORMED_BODY');
  });

  it('431 for oversized headers and 408 for headers that do not arrive in time, over a real socket', async () => {
    const big = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(4096)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(big).toMatch(/application\/problem\+json/);
    expect(JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4))).toMatchObject({
      code: 'HEADERS_TOO_LARGE',
      status: 431,
    });
    // Half a request, then silence: the server gives up once HEADERS_TIMEOUT_MS has passed.
    const slow = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    expect(slow).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(slow.slice(slow.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'REQUEST_TIMEOUT' });
  });

  it('sheds load past the in-flight bound with 503 + Retry-After, never the health probes, and recovers', async () => {
    const first = t.app.inject({ method: 'GET', url: '/test/slow' });
    // Wait (bounded) until the slow request is in progress.
    let shed = await t.app.inject({ method: 'GET', url: '/api/v1/tenant' });
    for (let i = 0; i < 100 && shed.statusCode !== 503; i++) {
      await new Promise((r) => setTimeout(r, 10));
      shed = await t.app.inject({ method: 'GET', url: '/api/v1/tenant' });
    }
    expect(shed.statusCode).toBe(503);
    expect(shed.headers['retry-after']).toBe('2');
    expect(shed.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', overload: 'requests in progress' });
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    release();
    expect((await first).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/tenant' })).statusCode).toBe(401);
  });
});
