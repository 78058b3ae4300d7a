import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

describe.each(DIALECTS)('ingestion on %s', (dialect) => {
  let t: TestApp;
  let f: TelemetryFixture;
  // Each test writes its own minute range, so tests do not see each other's readings as duplicates.
  let base = Math.floor((Date.now() - 2 * DAY) / MIN) * MIN;
  const slot = () => {
    base += 10 * MIN;
    return base;
  };
  beforeAll(async () => {
    t = await createTestAppOn(dialect, { INGEST_MAX_READINGS: '50', INGEST_MAX_BYTES: '8192' });
    f = await seedTelemetry(t);
  });
  afterAll(() => t.close());

  const post = (
    headers: Record<string, string>,
    payload: unknown,
    contentType = 'application/json',
    url = '/api/v1/ingest',
    extra: Record<string, string> = {},
  ) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { ...headers, 'content-type': contentType, ...extra },
      payload: typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload),
    });
  const readings = async (sensor: string, from: number, to: number) => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/sensors/${sensor}/readings?from=${from}&to=${to}&limit=10000`,
      headers: f.admin.auth,
    });
    expect(res.statusCode).toBe(200);
    return res.json().items as { ts: string; value: number; quality: string }[];
  };
  const iso = (ms: number) => new Date(ms).toISOString();

  describe('formats', () => {
    it('native JSON: ids or keys, RFC 3339 or epoch ms, quality; stored and answered with counts', async () => {
      const t0 = slot();
      const res = await post(f.deviceA, {
        readings: [
          { sensor: 'a/pressure', ts: t0, value: 3.2 },
          { sensor: f.ids.pA, ts: iso(t0 + MIN), value: 3.1, quality: 'uncertain' },
          { sensor: 'a/flow', ts: t0, value: 17 },
        ],
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
      expect(await readings(f.ids.pA, t0, t0 + 5 * MIN)).toEqual([
        { ts: iso(t0), value: 3.2, quality: 'good' },
        { ts: iso(t0 + MIN), value: 3.1, quality: 'uncertain' },
      ]);
    });

    it('a fractional millisecond timestamp is stored at its millisecond (not a 500 on PostgreSQL)', async () => {
      const t0 = slot();
      const res = await post(f.deviceA, { readings: [{ sensor: 'a/pressure', ts: t0 + 0.6, value: 1.5 }] });
      expect(res.statusCode, res.body).toBe(200);
      expect(await readings(f.ids.pA, t0, t0 + MIN)).toEqual([
        { ts: iso(t0 + 1), value: 1.5, quality: 'good' },
      ]);
    });

    it('SenML: base name, time and value resolve to the sensor key, time and value', async () => {
      const t0 = slot();
      const res = await post(
        f.deviceA,
        [
          { bn: 'a/', bt: t0 / 1000, bv: 1, n: 'pressure', v: 2.5 },
          { n: 'pressure', t: 60, v: 2.0 },
          { n: 'flow', t: 0, v: 9 },
          { n: 'flow', t: 60, vs: 'text' },
        ],
        'application/senml+json',
      );
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        accepted: 3,
        duplicates: 0,
        rejected: [{ index: 3, code: 'NOT_NUMERIC' }],
      });
      expect(await readings(f.ids.pA, t0, t0 + 5 * MIN)).toEqual([
        { ts: iso(t0), value: 3.5, quality: 'good' },
        { ts: iso(t0 + MIN), value: 3, quality: 'good' },
      ]);
    });

    it('line protocol on /api/v1/ingest with a precision', async () => {
      const t0 = slot();
      const body = `a,sensor=a/pressure value=4.25 ${t0}\na,sensor=a/pressure value=4.5 ${t0 + MIN}\n`;
      const res = await post(f.deviceA, body, 'text/plain; charset=utf-8', '/api/v1/ingest?precision=ms');
      expect(res.json()).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
      expect((await readings(f.ids.pA, t0, t0 + 5 * MIN)).map((r) => r.value)).toEqual([4.25, 4.5]);
    });

    it('InfluxDB v1 /write and v2 /api/v2/write, with Token, Basic, the p parameter and gzip', async () => {
      const t0 = slot();
      const key = f.apiKey.authorization.replace('Bearer ', '');
      const lp = (i: number) => `a,sensor=a/flow value=${i} ${(t0 + i * MIN) * 1e6}`;
      const v1 = await post({}, lp(0), 'text/plain', `/write?db=vigil&u=telegraf&p=${key}`);
      expect(v1.statusCode).toBe(204);
      const basic = `Basic ${Buffer.from(`telegraf:${key}`).toString('base64')}`;
      const v1Basic = await post(
        { authorization: basic },
        lp(1),
        'application/octet-stream',
        '/write?db=vigil&precision=ns',
      );
      expect(v1Basic.statusCode).toBe(204);
      const v2 = await post(
        { authorization: `Token ${key}` },
        gzipSync(lp(2)),
        'text/plain',
        '/api/v2/write?org=o&bucket=b',
        {
          'content-encoding': 'gzip',
        },
      );
      expect(v2.statusCode).toBe(204);
      const seconds = await post(
        { authorization: `Token ${key}` },
        `a,sensor=a/flow value=3 ${(t0 + 3 * MIN) / 1000}`,
        'text/plain',
        '/api/v2/write?precision=s',
      );
      expect(seconds.statusCode).toBe(204);
      expect((await readings(f.ids.fA, t0, t0 + 5 * MIN)).map((r) => r.value)).toEqual([0, 1, 2, 3]);
      expect((await t.app.inject({ method: 'GET', url: '/ping' })).statusCode).toBe(204);
    });

    it('Influx endpoints answer 200 with the per-item report when some points are refused, 401 without credentials', async () => {
      const t0 = slot();
      const res = await post(
        f.apiKey,
        `a,sensor=a/flow value=1 ${t0 * 1e6}\nnope value=1 ${t0 * 1e6}`,
        'text/plain',
        '/api/v2/write',
      );
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ accepted: 1, rejected: [{ index: 1, code: 'UNKNOWN_SENSOR' }] });
      expect((await post({}, 'a value=1', 'text/plain', '/write')).statusCode).toBe(401);
    });

    it.each([
      ['malformed JSON with its position', 'application/json', '{"readings": [1,', /line 1, column \d+/],
      ['JSON without readings', 'application/json', '{"values": []}', /readings/],
      ['SenML that is not an array', 'application/senml+json', '{"n": "x"}', /array/],
      ['a broken line-protocol line, named', 'text/plain', 'a,sensor=x value=1\nbroken', /line 2/],
    ])('400 for %s', async (_name, type, body, detail) => {
      const res = await post(f.deviceA, body, type);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.json().detail + JSON.stringify(res.json().errors ?? [])).toMatch(detail);
    });

    it('rejects pathological line protocol quickly: huge numbers, over-long keys', async () => {
      // A quadratic number pattern spends noticeably long here; the linear one does not.
      const huge = await post(f.apiKey, `m,sensor=a/flow value=${'1'.repeat(6000)}x`, 'text/plain');
      expect(huge.statusCode).toBe(400);
      const long = await post(
        f.apiKey,
        `m,sensor=${'k'.repeat(200)} value=1\nm,sensor=a/flow value=2`,
        'text/plain',
      );
      expect(long.json()).toMatchObject({ accepted: 1, rejected: [{ index: 0, code: 'MISSING_SENSOR' }] });
    });

    it('415 for another content type or encoding; 413 past the reading or byte limit', async () => {
      expect((await post(f.deviceA, '<readings/>', 'application/xml')).statusCode).toBe(415);
      const enc = await post(f.deviceA, { readings: [] }, 'application/json', '/api/v1/ingest', {
        'content-encoding': 'br',
      });
      expect(enc.statusCode).toBe(415);
      const t0 = slot();
      const many = Array.from({ length: 51 }, (_, i) => ({ sensor: 'a/flow', ts: t0 + i, value: i }));
      const tooMany = await post(f.deviceA, { readings: many });
      expect(tooMany.statusCode).toBe(413);
      expect(tooMany.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limit: 50, received: 51 });
      const big = await post(f.deviceA, {
        readings: [{ sensor: 'a/flow', ts: t0, value: 1, pad: 'x'.repeat(9000) }],
      });
      expect(big.statusCode).toBe(413);
      // A gzip bomb is measured after decompression.
      const bomb = gzipSync(`${'#'.repeat(100_000)}\n`);
      expect(bomb.length).toBeLessThan(8192);
      expect(
        (await post(f.apiKey, bomb, 'text/plain', '/api/v2/write', { 'content-encoding': 'gzip' }))
          .statusCode,
      ).toBe(413);
      expect(await readings(f.ids.fA, t0, t0 + MIN)).toEqual([]);
    });
  });

  describe('validation per item', () => {
    it('refuses each bad item with its code and index, accepts the rest (partial acceptance)', async () => {
      const t0 = slot();
      const now = Date.now();
      const items = {
        readings: [
          { sensor: 'a/pressure', ts: t0, value: 1 },
          { ts: t0, value: 1 },
          { sensor: 'a/pressure', ts: t0 + 1, value: '1' },
          { sensor: 'a/pressure', ts: t0 + 2, value: 'INFINITY' },
          { sensor: 'a/pressure', ts: 'yesterday', value: 1 },
          { sensor: 'a/pressure', ts: t0 + 3, value: 1, quality: 'great' },
          { sensor: 'a/pressure', ts: now - 31 * DAY, value: 1 },
          { sensor: 'a/pressure', ts: now + 10 * MIN, value: 1 },
          { sensor: 'no/such', ts: t0, value: 1 },
          { sensor: 'b/pressure', ts: t0, value: 1 },
          { sensor: 'a/pressure', ts: t0 + 4, value: 99 },
        ],
      };
      // 1e999 parses to Infinity; JSON.stringify would have sent null.
      const res = await post(f.deviceA, JSON.stringify(items).replace('"INFINITY"', '1e999'));
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.accepted).toBe(2);
      expect(body.rejected.map((r: { index: number; code: string }) => [r.index, r.code])).toEqual([
        [1, 'MISSING_SENSOR'],
        [2, 'NOT_NUMERIC'],
        [3, 'NOT_FINITE'],
        [4, 'INVALID_TIMESTAMP'],
        [5, 'INVALID_QUALITY'],
        [6, 'TIMESTAMP_TOO_OLD'],
        [7, 'TIMESTAMP_IN_FUTURE'],
        [8, 'UNKNOWN_SENSOR'],
        [9, 'NOT_OWNED'],
      ]);
      for (const r of body.rejected) expect(r.detail).toEqual(expect.any(String));
      // Out of the type's valid range (0–16 bar): kept, marked suspect.
      expect(await readings(f.ids.pA, t0, t0 + 10)).toEqual([
        { ts: iso(t0), value: 1, quality: 'good' },
        { ts: iso(t0 + 4), value: 99, quality: 'suspect' },
      ]);
    });

    it('accepts backfill within the limit and refuses it beyond', async () => {
      const now = Date.now();
      const res = await post(f.apiKey, {
        readings: [
          { sensor: 'b/pressure', ts: now - 29 * DAY, value: 5 },
          { sensor: 'b/pressure', ts: now - 30 * DAY - MIN, value: 5 },
        ],
      });
      expect(res.json()).toMatchObject({ accepted: 1, rejected: [{ index: 1, code: 'TIMESTAMP_TOO_OLD' }] });
      expect(await readings(f.ids.pB, now - 29 * DAY, now - 29 * DAY + 1)).toHaveLength(1);
    });

    it('422 with every refusal when nothing is acceptable; nothing stored', async () => {
      const t0 = slot();
      const res = await post(f.deviceA, {
        readings: [
          { sensor: 'b/pressure', ts: t0, value: 1 },
          { sensor: 'x', ts: t0, value: 1 },
        ],
      });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({
        code: 'UNPROCESSABLE',
        accepted: 0,
        rejected: [
          { index: 0, code: 'NOT_OWNED' },
          { index: 1, code: 'UNKNOWN_SENSOR' },
        ],
      });
      expect(await readings(f.ids.pB, t0, t0 + MIN)).toEqual([]);
    });
  });

  describe('sources', () => {
    it('an API key with telemetry:write writes any sensor of its tenant; one without is refused', async () => {
      const t0 = slot();
      const ok = await post(f.apiKey, {
        readings: [
          { sensor: 'a/pressure', ts: t0, value: 1 },
          { sensor: 'b/pressure', ts: t0, value: 2 },
        ],
      });
      expect(ok.json()).toMatchObject({ accepted: 2 });
      const denied = await post(f.readOnlyKey, {
        readings: [{ sensor: 'a/pressure', ts: t0 + 1, value: 1 }],
      });
      expect(denied.statusCode).toBe(403);
      expect((await post({}, { readings: [] })).statusCode).toBe(401);
    });

    it('another tenant’s sensors are unknown, even by id', async () => {
      const other = await seedTelemetry(t, `other-${dialect}`);
      const res = await post(other.apiKey, {
        readings: [
          { sensor: f.ids.pA, ts: slot(), value: 1 },
          { sensor: 'a/pressure', ts: slot(), value: 1 },
        ],
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ accepted: 1, rejected: [{ index: 0, code: 'UNKNOWN_SENSOR' }] });
    });

    it('marks the device seen; a quarantined device is refused per item and counted, then released', async () => {
      const t0 = slot();
      const device = async () =>
        (
          await t.app.inject({
            method: 'GET',
            url: `/api/v1/devices/${f.ids.deviceB}`,
            headers: f.admin.auth,
          })
        ).json();
      await post(f.deviceB, { readings: [{ sensor: 'b/pressure', ts: t0, value: 1 }] });
      expect(Date.parse((await device()).lastSeenAt)).toBeGreaterThan(Date.now() - MIN);
      const q = await t.app.inject({
        method: 'POST',
        url: `/api/v1/devices/${f.ids.deviceB}/quarantine`,
        headers: f.admin.auth,
        payload: { reason: 'firmware sends garbage' },
      });
      expect(q.statusCode).toBe(200);
      const refused = await post(f.deviceB, {
        readings: [
          { sensor: 'b/pressure', ts: t0 + 1, value: 1 },
          { sensor: 'b/pressure', ts: t0 + 2, value: 1 },
        ],
      });
      expect(refused.statusCode).toBe(422);
      expect(refused.json().rejected.map((r: { code: string }) => r.code)).toEqual([
        'DEVICE_QUARANTINED',
        'DEVICE_QUARANTINED',
      ]);
      // Through an API key too: the device's data is refused whoever sends it.
      const viaKey = await post(f.apiKey, {
        readings: [
          { sensor: 'b/pressure', ts: t0 + 3, value: 1 },
          { sensor: 'a/pressure', ts: t0 + 3, value: 1 },
        ],
      });
      expect(viaKey.json()).toMatchObject({
        accepted: 1,
        rejected: [{ index: 0, code: 'DEVICE_QUARANTINED' }],
      });
      expect((await device()).refusedCount).toBe(3);
      await t.app.inject({
        method: 'POST',
        url: `/api/v1/devices/${f.ids.deviceB}/release`,
        headers: f.admin.auth,
        payload: {},
      });
      expect(
        (await post(f.deviceB, { readings: [{ sensor: 'b/pressure', ts: t0 + 4, value: 1 }] })).json(),
      ).toMatchObject({ accepted: 1 });
    });
  });

  describe('duplicates and idempotency', () => {
    it('a resent batch is counted as duplicates, stored once — before and after compaction', async () => {
      const t0 = slot();
      const batch = { readings: [0, 1, 2].map((i) => ({ sensor: 'a/flow', ts: t0 + i * MIN, value: i })) };
      expect((await post(f.deviceA, batch)).json()).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
      expect((await post(f.deviceA, batch)).json()).toEqual({ accepted: 0, duplicates: 3, rejected: [] });
      await t.services.telemetry.compactAll();
      const mixed = { readings: [...batch.readings, { sensor: 'a/flow', ts: t0 + 3 * MIN, value: 3 }] };
      expect((await post(f.deviceA, mixed)).json()).toEqual({ accepted: 1, duplicates: 3, rejected: [] });
      // The same timestamp twice in one batch: the first wins.
      const twice = {
        readings: [
          { sensor: 'a/flow', ts: t0 + 4 * MIN, value: 4 },
          { sensor: 'a/flow', ts: t0 + 4 * MIN, value: 40 },
        ],
      };
      expect((await post(f.deviceA, twice)).json()).toEqual({ accepted: 1, duplicates: 1, rejected: [] });
      expect((await readings(f.ids.fA, t0, t0 + 5 * MIN)).map((r) => r.value)).toEqual([0, 1, 2, 3, 4]);
    });

    it('readings arriving out of order are new once and duplicates after, also across compaction', async () => {
      // As through a shared MQTT subscription: a device's messages overtake each other.
      const t0 = slot();
      const at = (...mins: number[]) => ({
        readings: mins.map((m) => ({ sensor: 'a/flow', ts: t0 + m * MIN, value: m })),
      });
      const answer = async (...mins: number[]) => {
        const { accepted, duplicates } = (await post(f.deviceA, at(...mins))).json();
        return [accepted, duplicates];
      };
      expect(await answer(0)).toEqual([1, 0]);
      expect(await answer(5)).toEqual([1, 0]);
      expect(await answer(2)).toEqual([1, 0]);
      expect(await answer(2)).toEqual([0, 1]);
      expect(await answer(5)).toEqual([0, 1]);
      expect(await answer(0)).toEqual([0, 1]);
      expect(await answer(1, 2, 6)).toEqual([2, 1]);
      await t.services.telemetry.compactAll();
      expect(await answer(1, 3)).toEqual([1, 1]);
      expect((await readings(f.ids.fA, t0, t0 + 7 * MIN)).map((r) => r.value)).toEqual([0, 1, 2, 3, 5, 6]);
    });

    it('the same batch sent concurrently is stored exactly once', async () => {
      const t0 = slot();
      const batch = {
        readings: Array.from({ length: 20 }, (_, i) => ({
          sensor: 'a/pressure',
          ts: t0 + i * 1000,
          value: i / 10,
        })),
      };
      // Older than the sensor's newest reading, so it takes the exact path and races there too.
      const late = { readings: batch.readings.map((r) => ({ ...r, ts: r.ts - 5 * MIN })) };
      const results = (
        await Promise.all([...Array(4)].flatMap(() => [post(f.deviceA, batch), post(f.deviceA, late)]))
      ).map((r) => r.json());
      expect(results.reduce((a, r) => a + r.accepted, 0)).toBe(40);
      expect(results.reduce((a, r) => a + r.duplicates, 0)).toBe(120);
      expect(await readings(f.ids.pA, t0 - 5 * MIN, t0 + MIN)).toHaveLength(40);
    });

    it('Idempotency-Key: a retry gets the first answer; reusing the key for another body is a conflict', async () => {
      const t0 = slot();
      const batch = {
        readings: [
          { sensor: 'a/flow', ts: t0, value: 1 },
          { sensor: 'nope', ts: t0, value: 1 },
        ],
      };
      const key = { 'idempotency-key': `retry-${dialect}-${t0}` };
      const first = await post(f.deviceA, batch, 'application/json', '/api/v1/ingest', key);
      expect(first.json()).toMatchObject({ accepted: 1, duplicates: 0 });
      const again = await post(f.deviceA, batch, 'application/json', '/api/v1/ingest', key);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual(first.json());
      const other = await post(
        f.deviceA,
        { readings: [{ sensor: 'a/flow', ts: t0 + 1, value: 1 }] },
        'application/json',
        '/api/v1/ingest',
        key,
      );
      expect(other.statusCode).toBe(409);
      // Keys belong to their sender: device B using A's key gets its own answer, not A's.
      const replay = await post(f.deviceB, batch, 'application/json', '/api/v1/ingest', key);
      expect(replay.statusCode).toBe(422);
      expect(replay.json().rejected.map((r: { code: string }) => r.code)).toEqual([
        'NOT_OWNED',
        'UNKNOWN_SENSOR',
      ]);
      const bad = await post(f.deviceA, batch, 'application/json', '/api/v1/ingest', {
        'idempotency-key': 'x'.repeat(300),
      });
      expect(bad.statusCode).toBe(400);
    });

    it('dryRun validates without storing', async () => {
      const t0 = slot();
      const res = await post(
        f.deviceA,
        {
          readings: [
            { sensor: 'a/flow', ts: t0, value: 1 },
            { sensor: 'b/pressure', ts: t0, value: 1 },
          ],
        },
        'application/json',
        '/api/v1/ingest?dryRun=true',
      );
      expect(res.json()).toMatchObject({
        accepted: 1,
        dryRun: true,
        rejected: [{ index: 1, code: 'NOT_OWNED' }],
      });
      expect(await readings(f.ids.fA, t0, t0 + MIN)).toEqual([]);
    });
  });
});
