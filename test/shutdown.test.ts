import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { startServer } from '../src/server.js';
import { closeServices, createServices } from '../src/services.js';
import { tempDir, testConfig, testKey } from './helpers/env.js';

describe('graceful shutdown', () => {
  it('completes an in-flight request, then stops accepting and closes', async () => {
    let entered!: () => void;
    const handlerEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const config = testConfig({ HOST: '127.0.0.1', PORT: '0' });
    const server = await startServer(config, pino({ level: 'silent' }), {
      beforeListen: (app) => {
        app.get('/test/slow', async () => {
          entered();
          await gate;
          return { done: true };
        });
      },
    });

    const inFlight = fetch(`${server.url}/test/slow`);
    await handlerEntered;
    let finished = false;
    const shutdown = server.shutdown('test').then((result) => {
      finished = true;
      return result;
    });

    // While the request is held, new connections are refused (bounded retries while the listener closes)…
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) {
      refused = await fetch(`${server.url}/healthz`, { headers: { connection: 'close' } }).then(
        () => false,
        () => true,
      );
    }
    expect(refused).toBe(true);
    // …and the shutdown is still waiting for it.
    expect(finished).toBe(false);
    release();

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    expect(await shutdown).toEqual({ forced: false });
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    // The database was closed as part of the shutdown.
    await expect(server.services.database.ping()).rejects.toThrow();
  });

  it('answers 503 problem+json (readiness included) while draining so load balancers stop sending traffic', async () => {
    const services = createServices(testConfig(), pino({ level: 'silent' }));
    const app = await buildApp(services, { isShuttingDown: () => true });
    try {
      for (const url of ['/readyz', '/healthz', '/nope']) {
        const res = await app.inject({ method: 'GET', url });
        expect(res.statusCode).toBe(503);
        expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
        expect(res.headers.connection).toBe('close');
        expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', detail: 'Shutting down' });
      }
    } finally {
      await app.close();
      await closeServices(services);
    }
  });

  it('`vigil serve` exits 0 on SIGTERM after draining', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
      env: {
        ...process.env,
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: '0',
        MQTT_PORT: '0',
        DATA_DIR: tempDir(),
        SECRET_KEY: testKey(),
        ENCRYPTION_KEY: testKey(),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Record<string, unknown>[] = [];
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // One reader for the whole run, so no line is lost between phases.
    const reader = createInterface({ input: child.stdout! });
    const closed = new Promise<void>((resolve) => reader.once('close', () => resolve()));
    const listening = new Promise<string>((resolve) => {
      reader.on('line', (line) => {
        const entry = line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : { text: line };
        lines.push(entry);
        if (entry.msg === 'vigil listening') resolve(entry.url as string);
      });
    });
    const url = await listening;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    await closed;
    expect(await exited).toBe(0);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'shutdown complete']));
    // An empty database gets a one-time setup link, never a default account: in a 0600 file, not the log.
    const notice = lines.find((l) => typeof l.file === 'string' && String(l.msg).startsWith('no users yet'));
    expect(notice).toBeDefined();
    const file = String(notice!.file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const link = readFileSync(file, 'utf8').trim();
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/setup#token=vot_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(lines)).not.toContain(link.split('#token=')[1]);
  });
});
