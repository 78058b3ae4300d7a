import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../src/db/errors.js';
import { parseNative } from '../src/telemetry/formats/native.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { type Relay, relayedPostgres } from './helpers/relay.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

describe('ingestion while PostgreSQL is unreachable', () => {
  let t: TestApp;
  let f: TelemetryFixture;
  let dropDb: () => Promise<void>;
  let relay: Relay;
  const ts = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

  beforeAll(async () => {
    const pg = await relayedPostgres();
    relay = pg.relay;
    dropDb = pg.drop;
    t = await createTestApp({ DATABASE_URL: pg.url, DATABASE_CONNECT_TIMEOUT_MS: '500' });
    f = await seedTelemetry(t);
  });
  afterAll(async () => {
    await t.close();
    await relay.down();
    await dropDb();
  });

  const stored = async () =>
    (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/sensors/${f.ids.pA}/readings?from=${ts - 2000}&to=${ts + 60_000}`,
        headers: f.admin.auth,
      })
    ).json().items;

  it('answers 503 with Retry-After and acknowledges nothing; the retry after recovery is stored once', async () => {
    const batch = { readings: [{ sensor: 'a/pressure', ts, value: 1.5 }] };
    // Warm the registry cache and watermarks, so the commit is the first thing to hit the database.
    const warm = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: f.deviceA,
      payload: { readings: [{ sensor: 'a/pressure', ts: ts - 1000, value: 1 }] },
    });
    expect(warm.statusCode).toBe(200);

    await relay.down();
    // Through the service: the commit itself fails, as unavailable, and the caller sees it.
    const source = { kind: 'device' as const, tenantId: f.tenantId, deviceId: f.ids.deviceA };
    const err = await t.services.telemetry.ingest
      .ingest(source, parseNative(batch, Date.now()), { receivedAt: Date.now() })
      .catch((e: unknown) => e);
    expect(isDatabaseUnavailable(err)).toBe(true);
    // Through HTTP: 503 problem+json with Retry-After.
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: f.deviceA,
      payload: batch,
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.json().code).toBe('DEPENDENCY_UNAVAILABLE');

    await relay.up();
    expect(await stored()).toHaveLength(1);
    // The retry is new (nothing was stored), not a duplicate; a second retry is.
    const retry = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: f.deviceA,
      payload: batch,
    });
    expect(retry.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: f.deviceA,
      payload: batch,
    });
    expect(again.json()).toEqual({ accepted: 0, duplicates: 1, rejected: [] });
    expect(await stored()).toHaveLength(2);
  });
});
