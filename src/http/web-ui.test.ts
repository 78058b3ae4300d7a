import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerErrorHandling } from './errors/error-handler.js';
import { securityHeadersPlugin, UI_CSP } from './security-headers.js';
import { IMMUTABLE, isClientRoute, webUiPlugin } from './web-ui.js';

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/index-AbC123.js"></script></head></html>';
const JS = `console.log(${JSON.stringify('x'.repeat(4000))});`;

describe('the web UI plugin', () => {
  let root: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'vigil-web-'));
    mkdirSync(path.join(root, 'assets'));
    mkdirSync(path.join(root, '.vite'));
    writeFileSync(path.join(root, 'index.html'), INDEX);
    writeFileSync(path.join(root, 'assets/index-AbC123.js'), JS);
    writeFileSync(path.join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(path.join(root, '.vite/manifest.json'), '{}');
    app = Fastify();
    registerErrorHandling(app, { exposeStacks: false });
    await app.register(securityHeadersPlugin, { production: false });
    app.get('/api/v1/thing', async () => ({ ok: true }));
    await app.register(webUiPlugin, { root });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(root, { recursive: true, force: true });
  });

  const html = { accept: 'text/html,application/xhtml+xml' };

  it('serves index.html at / and every client route, uncached, under the UI CSP', async () => {
    for (const url of ['/', '/alarms', '/sensors/8f1d4e7d?from=1', '/admin/users']) {
      const res = await app.inject({ method: 'GET', url, headers: html });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-security-policy']).toBe(UI_CSP);
      expect(res.body).toBe(INDEX);
    }
    expect((await app.inject({ method: 'HEAD', url: '/incidents', headers: html })).statusCode).toBe(200);
  });

  it("leaves the server's paths, non-HTML requests, other methods and missing files to the API's 404", async () => {
    for (const url of ['/api/v1/nothing', '/metrics', '/docs/json', '/healthz', '/readyz', '/openapi.json']) {
      const res = await app.inject({ method: 'GET', url, headers: html });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect(
      (await app.inject({ method: 'GET', url: '/alarms', headers: { accept: 'application/json' } }))
        .statusCode,
    ).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/alarms', headers: html })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/robots.txt', headers: html })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/.env', headers: html })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/.vite/manifest.json' })).statusCode).toBe(404);
    const missing = await app.inject({ method: 'GET', url: '/assets/index-Old999.js', headers: html });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await app.inject({ method: 'GET', url: '/api/v1/thing', headers: html })).json()).toEqual({
      ok: true,
    });
  });

  it('serves hashed assets for a year, immutable, compressed when the client accepts it', async () => {
    const plain = await app.inject({ method: 'GET', url: '/assets/index-AbC123.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe(IMMUTABLE);
    expect(plain.body).toBe(JS);
    const gz = await app.inject({
      method: 'GET',
      url: '/assets/index-AbC123.js',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toContain('accept-encoding');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(JS);
    const br = await app.inject({
      method: 'GET',
      url: '/assets/index-AbC123.js',
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(br.headers['content-encoding']).toBe('br');
    const icon = await app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.headers['cache-control']).toBe('public, max-age=3600');
  });

  it('tells client routes from server paths and files', () => {
    expect(isClientRoute('/')).toBe(true);
    expect(isClientRoute('/sensors/abc?from=2026-11-24T00:00:00.000Z')).toBe(true);
    expect(isClientRoute('/apiary')).toBe(true);
    expect(isClientRoute('/api')).toBe(false);
    expect(isClientRoute('/docs/static/index.html')).toBe(false);
    expect(isClientRoute('/assets/x')).toBe(false);
    expect(isClientRoute('/favicon.ico')).toBe(false);
  });
});
