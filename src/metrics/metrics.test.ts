import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ConfigError, loadConfig } from '../config/config.js';
import { AppError } from '../http/errors/catalogue.js';
import type { ParsedBatch } from '../telemetry/formats/batch.js';
import { Cached } from './collectors.js';
import { countIngested, countIngestFailure, rejectionReason } from './ingest-metrics.js';
import { Metrics } from './metrics.js';
import { bearerMatches } from './metrics.routes.js';

const key = () => randomBytes(32).toString('base64url');
const KEYS = { SECRET_KEY: key(), ENCRYPTION_KEY: key() };
const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: '/nonexistent/vigil', ...KEYS, ...env });

describe('metrics configuration', () => {
  it('is open on the main port in development, off in production, token or listener when set', () => {
    expect(load({}).config.metrics).toEqual({ main: 'open', token: undefined, address: undefined });
    const prod = load({ NODE_ENV: 'production', RATE_LIMIT_OFF_IN_PRODUCTION: 'true' });
    expect(prod.config.metrics.main).toBe('off');
    expect(prod.notices.join('\n')).toMatch(/\/metrics is not served/);
    const token = 'x'.repeat(32);
    expect(load({ NODE_ENV: 'production', METRICS_TOKEN: token }).config.metrics).toMatchObject({
      main: 'token',
      token,
    });
    expect(load({ METRICS_ADDRESS: '10.0.0.5:9464' }).config.metrics).toEqual({
      main: 'off',
      token: undefined,
      address: { host: '10.0.0.5', port: 9464 },
    });
    expect(load({ METRICS_ADDRESS: ':9464' }).config.metrics.address).toEqual({
      host: '0.0.0.0',
      port: 9464,
    });
    expect(load({ METRICS_ADDRESS: '[::1]:9464' }).config.metrics.address).toEqual({
      host: '::1',
      port: 9464,
    });
  });

  it('fails fast on a short token, a bad address or the main port, listing each', () => {
    const problems = (env: Record<string, string>) => {
      try {
        load(env);
      } catch (err) {
        return (err as ConfigError).problems;
      }
      return [];
    };
    expect(problems({ METRICS_TOKEN: 'short', METRICS_ADDRESS: 'localhost' })).toEqual([
      expect.stringMatching(/^METRICS_TOKEN: must be 24–512/),
      expect.stringMatching(/^METRICS_ADDRESS: must be host:port/),
    ]);
    expect(problems({ METRICS_ADDRESS: '127.0.0.1:70000' })).toEqual([
      expect.stringMatching(/^METRICS_ADDRESS: must be host:port/),
    ]);
    expect(problems({ METRICS_ADDRESS: '127.0.0.1:8080' })).toEqual([
      expect.stringMatching(/^METRICS_ADDRESS: port 8080 is the main HTTP port/),
    ]);
    expect(problems({ METRICS_TOKEN: `${'a'.repeat(30)} b` })).toHaveLength(1);
  });
});

describe('bearerMatches', () => {
  const expected = createHash('sha256').update('the-right-token').digest();
  it('accepts exactly Bearer <token>', () => {
    expect(bearerMatches('Bearer the-right-token', expected)).toBe(true);
    expect(bearerMatches('bearer the-right-token', expected)).toBe(true);
    for (const bad of [
      undefined,
      '',
      'the-right-token',
      'Bearer the-right-tokenx',
      'Bearer the-right',
      'Basic the-right-token',
      'Bearer  ',
    ])
      expect(bearerMatches(bad, expected), String(bad)).toBe(false);
  });
});

describe('ingest accounting', () => {
  const batch = (count: number, rejected = 0) =>
    ({
      count,
      rejected: Array.from({ length: rejected }, (_, index) => ({ index, code: 'NOT_NUMERIC', detail: '' })),
    }) as unknown as ParsedBatch;
  const values = async (metrics: Metrics, name: string) =>
    (await metrics.registry.getSingleMetric(name)!.get()).values.map((v) => [v.labels, v.value]);

  it('counts per batch by protocol and bounded reason', async () => {
    const metrics = new Metrics({ version: 't', database: 'sqlite' });
    countIngested(metrics, 'mqtt', {
      accepted: 7,
      duplicates: 2,
      rejected: [
        { index: 1, code: 'UNKNOWN_SENSOR', detail: '' },
        { index: 2, code: 'UNKNOWN_SENSOR', detail: '' },
        { index: 3, code: 'SOMETHING_NEW' as 'DUPLICATE', detail: '' },
      ],
    });
    countIngestFailure(metrics, 'http', batch(10, 2), new AppError('RATE_LIMITED'));
    countIngestFailure(
      metrics,
      'influx',
      batch(0, 1),
      new AppError('UNPROCESSABLE', 'none', {
        fields: { rejected: [{ index: 0, code: 'TIMESTAMP_TOO_OLD', detail: '' }] },
      }),
    );
    countIngestFailure(
      metrics,
      'http',
      batch(3),
      Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    );
    countIngestFailure(metrics, 'http', batch(1), new Error('bug'));
    expect(await values(metrics, 'vigil_ingest_readings_accepted_total')).toEqual([
      [{ protocol: 'http' }, 0],
      [{ protocol: 'influx' }, 0],
      [{ protocol: 'mqtt' }, 7],
    ]);
    expect(await values(metrics, 'vigil_ingest_readings_duplicate_total')).toEqual([
      [{ protocol: 'mqtt' }, 2],
    ]);
    expect(await values(metrics, 'vigil_ingest_readings_rejected_total')).toEqual([
      [{ protocol: 'mqtt', reason: 'UNKNOWN_SENSOR' }, 2],
      [{ protocol: 'mqtt', reason: 'OTHER' }, 1],
      [{ protocol: 'http', reason: 'RATE_LIMITED' }, 12],
      [{ protocol: 'influx', reason: 'TIMESTAMP_TOO_OLD' }, 1],
      [{ protocol: 'http', reason: 'DEPENDENCY_UNAVAILABLE' }, 3],
      [{ protocol: 'http', reason: 'INTERNAL' }, 1],
    ]);
    expect(rejectionReason('constructor')).toBe('OTHER');
    expect(rejectionReason('NOT_OWNED')).toBe('NOT_OWNED');
  });
});

describe('Cached', () => {
  it('shares one load between concurrent readers and reloads only after its TTL', async () => {
    let now = 0;
    let loads = 0;
    const cached = new Cached(
      5000,
      async () => ++loads,
      () => now,
    );
    expect(await Promise.all([cached.get(), cached.get(), cached.get()])).toEqual([1, 1, 1]);
    now = 4999;
    expect(await cached.get()).toBe(1);
    now = 5000;
    expect(await cached.get()).toBe(2);
    expect(loads).toBe(2);
  });

  it('does not keep a failure', async () => {
    let fail = true;
    const cached = new Cached(5000, async () => {
      if (fail) throw new Error('down');
      return 'up';
    });
    await expect(cached.get()).rejects.toThrow('down');
    fail = false;
    expect(await cached.get()).toBe('up');
  });
});
