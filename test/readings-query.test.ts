import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { loginAs, seedUser } from './helpers/identity.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe.each(DIALECTS)('reading queries on %s', (dialect) => {
  let t: TestApp;
  let f: TelemetryFixture;
  // An hour-aligned start two days ago: 120 readings a minute apart, split between chunks and log.
  const start = Math.floor((Date.now() - 2 * 24 * HOUR) / HOUR) * HOUR;
  const iso = (ms: number) => new Date(ms).toISOString();

  const ingest = async (readings: { sensor: string; ts: number; value: number }[]) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: f.apiKey,
      payload: { readings },
    });
    expect(res.statusCode).toBe(200);
    return res.json();
  };
  const get = async (url: string) => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: f.apiKey });
    return res;
  };

  beforeAll(async () => {
    // Small chunks, so the data spans several chunks plus the log.
    t = await createTestAppOn(dialect, { STORAGE_CHUNK_READINGS: '32' });
    f = await seedTelemetry(t);
    const minutes = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => ({
        sensor: 'a/pressure',
        ts: start + (from + i) * MIN,
        value: from + i,
      }));
    await ingest(minutes(0, 50));
    await t.services.telemetry.compactAll();
    await ingest(minutes(50, 100));
    await t.services.telemetry.compactAll();
    await ingest(minutes(100, 120)); // stays in the log
  });
  afterAll(() => t.close());

  it('raw range: time order, cursor pages forward and backward, nothing missed or repeated', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(
        `/sensors/${f.ids.pA}/readings?from=${start}&to=${start + 120 * MIN}&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.statusCode).toBe(200);
      const body = res.json();
      seen.push(...body.items.map((r: { value: number }) => r.value));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 120 }, (_, i) => i));

    const desc = (
      await get(`/sensors/${f.ids.pA}/readings?from=${start}&to=${start + 120 * MIN}&order=desc&limit=3`)
    ).json();
    expect(desc.items.map((r: { value: number }) => r.value)).toEqual([119, 118, 117]);
    const next = (
      await get(
        `/sensors/${f.ids.pA}/readings?from=${start}&to=${start + 120 * MIN}&order=desc&limit=3&cursor=${desc.nextCursor}`,
      )
    ).json();
    expect(next.items.map((r: { value: number }) => r.value)).toEqual([116, 115, 114]);
    expect(desc.items[0]).toEqual({ ts: iso(start + 119 * MIN), value: 119, quality: 'suspect' });
  });

  it('raw range: validation, unknown sensor, another tenant’s sensor', async () => {
    expect((await get(`/sensors/${f.ids.pA}/readings?from=yesterday`)).statusCode).toBe(400);
    expect((await get(`/sensors/${f.ids.pA}/readings?from=${start}&to=${start - 1}`)).statusCode).toBe(400);
    expect((await get(`/sensors/${f.ids.pA}/readings?cursor=nonsense`)).statusCode).toBe(400);
    expect((await get('/sensors/00000000-0000-4000-8000-000000000000/readings')).statusCode).toBe(404);
    const other = await seedTelemetry(t, `other-q-${dialect}`);
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/sensors/${f.ids.pA}/readings`,
      headers: other.apiKey,
    });
    expect(res.statusCode).toBe(404);
  });

  it('aggregates in buckets with empty buckets marked', async () => {
    const res = await get(
      `/sensors/${f.ids.pA}/aggregates?bucket=1h&from=${iso(start - HOUR)}&to=${iso(start + 3 * HOUR)}`,
    );
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.buckets).toHaveLength(4);
    expect(body.buckets[0]).toEqual({
      ts: iso(start - HOUR),
      empty: true,
      count: 0,
      min: null,
      max: null,
      avg: null,
      first: null,
      last: null,
    });
    expect(body.buckets[1]).toEqual({
      ts: iso(start),
      empty: false,
      count: 60,
      min: 0,
      max: 59,
      avg: 29.5,
      first: 0,
      last: 59,
    });
    expect(body.buckets[2]).toMatchObject({ count: 60, min: 60, max: 119, first: 60, last: 119 });
    expect(body.buckets[3]).toMatchObject({ empty: true, count: 0 });

    const minutes = (
      await get(`/sensors/${f.ids.pA}/aggregates?bucket=1m&from=${start}&to=${start + 5 * MIN}`)
    ).json();
    expect(minutes.buckets.map((b: { count: number }) => b.count)).toEqual([1, 1, 1, 1, 1]);
    const day = (
      await get(`/sensors/${f.ids.pA}/aggregates?bucket=1d&from=${start}&to=${start + 120 * MIN}`)
    ).json();
    expect(day.buckets.reduce((a: number, b: { count: number }) => a + b.count, 0)).toBe(120);
    expect(
      (await get(`/sensors/${f.ids.pA}/aggregates?bucket=1m&from=${start - 30 * 24 * HOUR}&to=${start}`))
        .statusCode,
    ).toBe(400);
    expect((await get(`/sensors/${f.ids.pA}/aggregates?bucket=2m`)).statusCode).toBe(400);
  });

  it('latest of many sensors at once, by id or key, with unknown references listed', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/readings/latest',
      headers: f.apiKey,
      payload: { sensors: [f.ids.pA, 'a/flow', 'no/such'] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      items: [
        { sensor: f.ids.pA, key: 'a/pressure', ts: iso(start + 119 * MIN), value: 119, quality: 'suspect' },
        { sensor: f.ids.fA, key: 'a/flow', ts: null, value: null, quality: null },
      ],
      unknown: ['no/such'],
    });
    const viaGet = (await get('/readings/latest?sensors=a/pressure')).json();
    expect(viaGet.items[0]).toMatchObject({ key: 'a/pressure', value: 119 });
  });

  it('the cache serves repeats and is kept correct by ingestion (late data, new data, after compaction)', async () => {
    const stats = t.services.telemetry.cache.stats;
    const agg = async () =>
      (await get(`/sensors/${f.ids.pA}/aggregates?bucket=1h&from=${start}&to=${start + 2 * HOUR}`)).json()
        .buckets[0];
    const latest = async () => (await get('/readings/latest?sensors=a/pressure')).json().items[0];
    await agg();
    await latest();
    const hits = stats.hits;
    expect((await agg()).count).toBe(60);
    expect((await latest()).value).toBe(119);
    expect(stats.hits).toBe(hits + 2);

    // A late reading inside the first hour (already compacted): the cached aggregate must not be served.
    await ingest([{ sensor: 'a/pressure', ts: start + 30 * MIN + 1, value: 1000 }]);
    expect(await agg()).toMatchObject({ count: 61, max: 1000 });
    // A new newest reading: latest moves.
    await ingest([{ sensor: 'a/pressure', ts: start + 121 * MIN, value: 121 }]);
    expect((await latest()).value).toBe(121);
    await t.services.telemetry.compactAll();
    expect(await agg()).toMatchObject({ count: 61, max: 1000 });
    expect((await latest()).value).toBe(121);
    // Late data merged into the middle of compacted chunks is read back in order.
    const items = (
      await get(`/sensors/${f.ids.pA}/readings?from=${start + 30 * MIN}&to=${start + 31 * MIN}`)
    ).json().items;
    expect(items.map((r: { value: number }) => r.value)).toEqual([30, 1000, 31]);
  });

  it('CSV export streams the range', async () => {
    const res = await get(`/sensors/${f.ids.pA}/readings?format=csv&from=${start}&to=${start + 2 * MIN}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="a_pressure.csv"/);
    expect(res.body).toBe(
      `ts,value,quality\n${iso(start)},0,good\n${iso(start + MIN)},1,good\n${iso(start + 2 * MIN)},2,good\n`,
    );
  });

  it('needs telemetry:read', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/sensors/${f.ids.pA}/readings`,
      headers: f.deviceA,
    });
    expect(res.statusCode).toBe(403);
  });

  it('retention deletes chunks past the tenant’s retention; deleting a sensor deletes its readings', async () => {
    const { db } = t.services.database;
    const chunks = async (sensorId: string) =>
      Number(
        (
          await db
            .selectFrom('reading_chunks')
            .innerJoin('series', 'series.id', 'reading_chunks.series_id')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('series.sensor_id', '=', sensorId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const u = await seedUser(t.services, { tenant: 'water', role: 'owner' });
    const owner = await loginAs(t.app, u.email);
    const now = Date.now();
    await ingest([
      { sensor: 'b/pressure', ts: now - 10 * 24 * HOUR, value: 1 },
      { sensor: 'b/pressure', ts: now - HOUR, value: 2 },
    ]);
    await t.services.telemetry.compactAll();
    const patch = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/tenant',
      headers: owner.auth,
      payload: { settings: { retentionDays: 5 } },
    });
    expect(patch.statusCode).toBe(200);
    expect(patch.json().settings).toEqual({ requireMfaForAdmins: false, retentionDays: 5 });
    const { retentionJob } = await import('../src/telemetry/retention.job.js');
    const job = retentionJob(365);
    const { default: pino } = await import('pino');
    await job.handler({
      services: t.services,
      scheduledFor: new Date(now),
      attempt: 1,
      signal: new AbortController().signal,
      log: pino({ level: 'silent' }),
    });
    // Everything is younger than 5 days, or shares a chunk with a younger reading: all kept.
    expect(await chunks(f.ids.pA)).toBeGreaterThan(0);
    const bOld = (await get(`/sensors/${f.ids.pB}/readings?from=${now - 11 * 24 * HOUR}&to=${now}`)).json()
      .items;
    expect(bOld).toHaveLength(2);

    const strict = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/tenant',
      headers: owner.auth,
      payload: { settings: { retentionDays: 1 } },
    });
    expect(strict.statusCode).toBe(200);
    await job.handler({
      services: t.services,
      scheduledFor: new Date(now),
      attempt: 1,
      signal: new AbortController().signal,
      log: pino({ level: 'silent' }),
    });
    expect(await chunks(f.ids.pA)).toBe(0);
    expect(await chunks(f.ids.pB)).toBe(1);

    await ingest([{ sensor: 'a/flow', ts: now - HOUR, value: 7 }]);
    await t.services.telemetry.compactAll();
    await ingest([{ sensor: 'a/flow', ts: now - MIN, value: 8 }]);
    expect(await chunks(f.ids.fA)).toBe(1);
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/sensors/${f.ids.fA}`,
      headers: f.admin.auth,
    });
    expect(del.statusCode).toBe(204);
    expect(await chunks(f.ids.fA)).toBe(0);
    const series = await db.selectFrom('series').select('id').where('sensor_id', '=', f.ids.fA).execute();
    expect(series).toEqual([]);
    // Its reading still in the log is dropped by the next compaction, not resurrected.
    const results = await t.services.telemetry.compactAll();
    expect(results.reduce((a, r) => a + r.dropped, 0)).toBe(1);
  });
});
