import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, loggerOptions, redactUrl } from '../src/http/logger.js';
import { createTestApp } from './helpers/app.js';
import { tempDir, testConfig } from './helpers/env.js';
import { seedUser } from './helpers/identity.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, stream };
}

describe('logs', () => {
  it('redact credentials wherever they appear', async () => {
    const { lines, stream } = capture();
    const config = testConfig({ LOG_LEVEL: 'info' });
    const logger = pino(loggerOptions(config), stream);
    const t = await createTestApp(
      { LOG_LEVEL: 'info' },
      {
        logger,
        beforeReady: (app) =>
          app.post('/test/login', async (req) => {
            req.log.info({ headers: req.headers, body: req.body }, 'debugging a login');
            return { ok: true };
          }),
      },
    );
    try {
      await t.app.inject({
        method: 'POST',
        url: '/test/login?token=url-secret-1',
        headers: { authorization: 'Bearer header-secret-2', cookie: 'sid=cookie-secret-3' },
        payload: {
          email: 'a@example.com',
          password: 'body-secret-4',
          refreshToken: 'body-secret-5',
          user: { profile: { password: 'deep-secret-6' } },
        },
      });
    } finally {
      await t.close();
    }
    const text = lines.join('\n');
    for (const secret of [
      'url-secret-1',
      'header-secret-2',
      'cookie-secret-3',
      'body-secret-4',
      'body-secret-5',
      'deep-secret-6',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[Redacted]');
    expect(text).toContain('a@example.com');
    const completed = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request completed');
    expect(completed).toMatchObject({
      requestId: expect.any(String),
      res: { statusCode: 200 },
      req: { method: 'POST' },
    });
  });

  it('never logs passwords or tokens through a whole session', async () => {
    const { lines, stream } = capture();
    const logger = pino(loggerOptions(testConfig({ LOG_LEVEL: 'trace' })), stream);
    const t = await createTestApp({ LOG_LEVEL: 'trace' }, { logger });
    try {
      const { email, password } = await seedUser(t.services, { tenant: 'acme', role: 'owner' });
      const login = (
        await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } })
      ).json();
      const refreshed = (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refreshToken: login.refreshToken },
        })
      ).json();
      const auth = { authorization: `Bearer ${refreshed.accessToken}` };
      const key = (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/api-keys',
          headers: auth,
          payload: { name: 'k', permissions: ['tenant:read'] },
        })
      ).json().key;
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/tenant',
        headers: { authorization: `Bearer ${key}` },
      });
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/tenant',
        headers: { authorization: 'Bearer vgl_wrong-key' },
      });
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email, password: 'Wrong-Password-77' },
      });
      const text = lines.join('\n');
      expect(lines.length).toBeGreaterThan(10);
      for (const secret of [
        password,
        'Wrong-Password-77',
        login.accessToken,
        login.refreshToken,
        refreshed.refreshToken,
        key,
        'vgl_wrong-key',
      ]) {
        expect(text).not.toContain(secret);
      }
    } finally {
      await t.close();
    }
  });

  it('redacts secret query parameters in URLs', () => {
    expect(redactUrl('/ws?tenant=1&access_token=abc&x=2')).toBe('/ws?tenant=1&access_token=[Redacted]&x=2');
    expect(redactUrl('/a?api_key=k#f')).toBe('/a?api_key=[Redacted]#f');
    // InfluxDB v1 credentials, also when the name is percent-encoded.
    expect(redactUrl('/write?db=x&p=vgl_secret')).toBe('/write?db=x&p=[Redacted]');
    expect(redactUrl('/write?db=x&%70=vgl_secret')).toBe('/write?db=x&%70=[Redacted]');
  });

  it('also writes to a rotated LOG_FILE', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'logs', 'vigil.log');
    const config = testConfig({ LOG_LEVEL: 'info', LOG_FILE: file, LOG_FILE_SIZE: '1k' });
    const logger = createLogger(config);
    // ~20 KB of lines against a 1 KB limit: the sink must roll over to further files.
    for (let i = 0; i < 200; i++)
      logger.info({ marker: `file-sink-check-${i}`, pad: 'x'.repeat(40) }, 'hello file');
    logger.flush();
    // The file sink runs in a worker thread and rolls over only after a write has drained, so
    // wait (bounded in count) for both the last line and the roll-over file to appear.
    const logDir = path.dirname(file);
    const read = () =>
      existsSync(logDir) ? readdirSync(logDir).map((f) => readFileSync(path.join(logDir, f), 'utf8')) : [];
    const settled = () => {
      const contents = read();
      return contents.length > 1 && contents.join('').includes('file-sink-check-199');
    };
    for (let i = 0; i < 200 && !settled(); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const files = readdirSync(logDir);
    expect(read().join('')).toContain('file-sink-check-199');
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) expect(f).toMatch(/^vigil\.(.+\.)?\d+\.log$/);
  });
});
