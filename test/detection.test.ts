import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;

interface AnomalyItem {
  id: number;
  sensorId: string;
  ts: string;
  value: number;
  kind: string;
  detector: string;
  ruleId: string | null;
  severity: string | null;
  score: number;
  detectors: string[];
  explanation: Record<string, unknown>;
}

describe.each(DIALECTS)('streaming detection on %s', (dialect) => {
  let t: TestApp;
  let f: TelemetryFixture;
  /** A fresh hour-aligned start two days back for each test, so tests never share readings. */
  let next = Math.floor((Date.now() - 2 * 86_400_000) / 3_600_000) * 3_600_000;
  const slot = () => {
    const s = next;
    next -= 6 * 3_600_000;
    return s;
  };

  beforeAll(async () => {
    t = await createTestAppOn(dialect);
    f = await seedTelemetry(t);
  });
  afterAll(async () => t?.close());

  const ingest = async (readings: { sensor: string; ts: number; value: number }[]) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: f.apiKey,
      payload: { readings },
    });
    expect(res.statusCode, res.body).toBe(200);
    await t.services.detection!.flush();
  };
  const anomalies = async (query: string): Promise<AnomalyItem[]> => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/anomalies?${query}`,
      headers: f.admin.auth,
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items as AnomalyItem[];
  };
  const put = (path: string, payload: unknown) =>
    t.app.inject({
      method: 'PUT',
      url: `/api/v1/${path}/detectors`,
      headers: f.admin.auth,
      payload: payload as object,
    });
  const series = (sensor: string, t0: number, values: number[], stepMs = MIN) =>
    values.map((value, i) => ({ sensor, ts: t0 + i * stepMs, value }));
  const window = (t0: number, t1: number) => `from=${t0}&to=${t1}`;

  it('a threshold rule with duration and hysteresis raises and clears on the readings’ own timestamps', async () => {
    const res = await put(`sensors/${f.ids.pB}`, {
      rules: [{ id: 'low-pressure', when: 'below', value: 2.0, clear: 2.3, forS: 300, severity: 'major' }],
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ scope: 'sensor', version: 1 });
    const t0 = slot();
    // Normal, then below 2.0 from minute 10; held 5 min at minute 15; 2.1 is inside the band
    // (no clear); 2.4 clears at minute 22.
    const values = [...Array(10).fill(3), 1.9, 1.8, 1.9, 1.8, 1.9, 1.8, 1.9, 2.1, 2.2, 2.1, 2.2, 2.2, 2.4, 3];
    await ingest(series('b/pressure', t0, values));
    const items = await anomalies(`sensor=b/pressure&${window(t0, t0 + 60 * MIN)}`);
    const rule = items.filter((a) => a.detector === 'threshold').reverse();
    expect(rule.map((a) => [a.kind, Date.parse(a.ts) - t0])).toEqual([
      ['raised', 15 * MIN],
      ['cleared', 22 * MIN],
    ]);
    expect(rule[0]).toMatchObject({ ruleId: 'low-pressure', severity: 'major', value: 1.8 });
    expect(rule[0]!.explanation).toMatchObject({ when: 'below', value: 2, clear: 2.3, observed: 1.8 });
  });

  it('scores statistical anomalies with an explanation, and nothing on normal data', async () => {
    const t0 = slot();
    const values = Array.from({ length: 120 }, (_, i) => 5 + 0.05 * Math.sin(i / 3) + (i % 7) * 0.01);
    values[100] = 9;
    await ingest(series('a/flow', t0, values));
    const items = await anomalies(`sensor=${f.ids.fA}&kind=point&${window(t0, t0 + 200 * MIN)}`);
    const at100 = items.filter((a) => Date.parse(a.ts) === t0 + 100 * MIN);
    expect(at100).toHaveLength(1);
    expect(at100[0]!.score).toBeGreaterThanOrEqual(0.7);
    expect(at100[0]!.explanation).toMatchObject({ observed: 9 });
    expect(at100[0]!.explanation.expected).toBeDefined();
    // Before the spike, after warm-up: the normal wiggle raised nothing.
    expect(items.filter((a) => Date.parse(a.ts) < t0 + 100 * MIN)).toEqual([]);
  });

  it('late and out-of-order readings: scored against the state without changing it, deterministically', async () => {
    // A sensor of its own: the other tests' slots are newer, so their sensors' readings here would all be late.
    const made = await t.app.inject({
      method: 'POST',
      url: '/api/v1/sensors',
      headers: f.admin.auth,
      payload: { key: 'late/pressure', name: 'late', typeId: f.ids.type },
    });
    expect(made.statusCode, made.body).toBe(201);
    const t0 = slot();
    const values = Array.from({ length: 80 }, (_, i) => 7 + 0.05 * Math.sin(i / 3));
    // One batch out of order: the detector sees them sorted by time.
    const shuffled = series('late/pressure', t0, values).reverse();
    await ingest(shuffled);
    // A late spike, older than the newest reading: flagged, marked late, and not learned from.
    await ingest([{ sensor: 'late/pressure', ts: t0 + 40 * MIN + 30_000, value: 12 }]);
    const late = (await anomalies(`sensor=late/pressure&kind=point&${window(t0, t0 + 200 * MIN)}`)).filter(
      (a) => Date.parse(a.ts) === t0 + 40 * MIN + 30_000,
    );
    expect(late).toHaveLength(1);
    expect(late[0]!.explanation).toMatchObject({ observed: 12, late: true });
    // The next in-order normal reading is judged as if the late spike had never come.
    await ingest(series('late/pressure', t0 + 80 * MIN, [7 + 0.05 * Math.sin(80 / 3)]));
    const after = await anomalies(`sensor=late/pressure&kind=point&${window(t0 + 80 * MIN, t0 + 81 * MIN)}`);
    expect(after).toEqual([]);
    // Nothing before the spike was flagged: the reversed batch was learned in time order.
    const before = await anomalies(`sensor=late/pressure&kind=point&${window(t0, t0 + 40 * MIN)}`);
    expect(before).toEqual([]);
  });

  it('asset rules combine conditions across sensors with AND', async () => {
    const asset = await t.app.inject({
      method: 'POST',
      url: '/api/v1/assets',
      headers: f.admin.auth,
      payload: { key: 'pump-1', name: 'Pump 1', kind: 'pump' },
    });
    expect(asset.statusCode, asset.body).toBe(201);
    const assetId = asset.json().id as string;
    for (const [key, typeId] of [
      ['pump-1/pressure', f.ids.type],
      ['pump-1/flow', f.ids.type],
    ] as const) {
      const s = await t.app.inject({
        method: 'POST',
        url: '/api/v1/sensors',
        headers: f.admin.auth,
        payload: { key, name: key, typeId, assetId },
      });
      expect(s.statusCode, s.body).toBe(201);
    }
    const bad = await put(`assets/${assetId}`, {
      assetRules: [{ id: 'dry-run', op: 'and', conditions: [{ sensor: 'nope', when: 'below', value: 1 }] }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].pointer).toBe('/body/assetRules/0/conditions/0/sensor');
    const ok = await put(`assets/${assetId}`, {
      assetRules: [
        {
          id: 'dry-run',
          op: 'and',
          severity: 'critical',
          conditions: [
            { sensor: 'pump-1/pressure', when: 'below', value: 1 },
            { sensor: 'pump-1/flow', when: 'below', value: 0.5 },
          ],
        },
      ],
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const t0 = slot();
    // Pressure drops at minute 2 (flow still fine): no alarm. Flow drops at minute 4: raised.
    await ingest([
      ...series('pump-1/pressure', t0, [3, 3, 0.5, 0.5, 0.5, 0.5, 3]),
      ...series('pump-1/flow', t0 + 1000, [2, 2, 2, 2, 0.1, 0.1, 0.1]),
    ]);
    const items = (await anomalies(`asset=${assetId}&${window(t0, t0 + 60 * MIN)}`)).filter(
      (a) => a.detector === 'asset-rule',
    );
    expect(items.reverse().map((a) => [a.kind, Date.parse(a.ts) - t0])).toEqual([
      ['raised', 4 * MIN + 1000],
      ['cleared', 6 * MIN],
    ]);
    expect(items[0]).toMatchObject({ ruleId: 'dry-run', severity: 'critical' });
  });

  it('asset rule state survives context reloads (a configuration change elsewhere, the periodic refresh)', async () => {
    const asset = await t.app.inject({
      method: 'POST',
      url: '/api/v1/assets',
      headers: f.admin.auth,
      payload: { key: 'pump-2', name: 'Pump 2', kind: 'pump' },
    });
    const assetId = asset.json().id as string;
    for (const key of ['pump-2/pressure', 'pump-2/flow']) {
      const s = await t.app.inject({
        method: 'POST',
        url: '/api/v1/sensors',
        headers: f.admin.auth,
        payload: { key, name: key, typeId: f.ids.type, assetId },
      });
      expect(s.statusCode, s.body).toBe(201);
    }
    const ok = await put(`assets/${assetId}`, {
      assetRules: [
        {
          id: 'dry-run',
          op: 'and',
          conditions: [
            { sensor: 'pump-2/pressure', when: 'below', value: 1, forS: 180 },
            { sensor: 'pump-2/flow', when: 'below', value: 0.5 },
          ],
        },
      ],
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const t0 = slot();
    // One reading a minute per sensor, each in its own request, with the tenant's contexts
    // invalidated between them (as any document change does): the 3-minute duration still counts.
    for (let i = 0; i < 6; i++) {
      await ingest([
        { sensor: 'pump-2/pressure', ts: t0 + i * MIN, value: i >= 1 ? 0.5 : 3 },
        { sensor: 'pump-2/flow', ts: t0 + i * MIN + 1000, value: 0.1 },
      ]);
      t.services.detection!.invalidate(f.tenantId);
    }
    const items = (await anomalies(`asset=${assetId}&${window(t0, t0 + 60 * MIN)}`)).filter(
      (a) => a.detector === 'asset-rule',
    );
    expect(items.map((a) => [a.kind, Date.parse(a.ts) - t0])).toEqual([['raised', 4 * MIN]]);
  });

  it('a failure while storing anomalies loses none: the sensors are reloaded and their readings replayed', async () => {
    const made = await t.app.inject({
      method: 'POST',
      url: '/api/v1/sensors',
      headers: f.admin.auth,
      payload: { key: 'retry/pressure', name: 'retry', typeId: f.ids.type },
    });
    const sensorId = made.json().id as string;
    expect(
      (await put(`sensors/${sensorId}`, { rules: [{ id: 'low', when: 'below', value: 2 }] })).statusCode,
    ).toBe(200);
    const t0 = slot();
    await ingest(series('retry/pressure', t0, Array(40).fill(3)));
    await t.services.detection!.checkpoint();
    // Anomalies cannot be stored for a moment (a table the driver cannot write).
    const db = t.services.database.db;
    await sql`alter table anomalies rename to anomalies_away`.execute(db);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: f.apiKey,
      payload: { readings: series('retry/pressure', t0 + 40 * MIN, [3, 1.5, 1.5, 3]) },
    });
    expect(res.statusCode).toBe(200);
    // Let the first attempt fail, then put the table back; the retry stores the anomalies.
    for (let i = 0; i < 100 && t.services.detection!.stats.errors === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(t.services.detection!.stats.errors).toBeGreaterThan(0);
    await sql`alter table anomalies_away rename to anomalies`.execute(db);
    await t.services.detection!.flush();
    const items = (await anomalies(`sensor=retry/pressure&${window(t0, t0 + 60 * MIN)}`)).filter(
      (a) => a.detector === 'threshold',
    );
    expect(items.reverse().map((a) => [a.kind, Date.parse(a.ts) - t0])).toEqual([
      ['raised', 41 * MIN],
      ['cleared', 43 * MIN],
    ]);
  });

  it('refuses invalid detector documents with pointers, and keeps versions', async () => {
    const bad = await put(`sensor-types/${f.ids.type}`, {
      rules: [{ id: 'r', when: 'below', value: 2, clear: 1.5 }],
      ewma: { alpha: 3 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    const unknown = await put(`sensor-types/${f.ids.type}`, { surprise: true });
    expect(unknown.statusCode).toBe(400);
    const hysteresis = await put(`sensor-types/${f.ids.type}`, {
      rules: [{ id: 'r', when: 'below', value: 2, clear: 1.5 }],
    });
    expect(hysteresis.statusCode).toBe(400);
    expect(hysteresis.json().errors).toEqual([
      { pointer: '/body/rules/0/clear', detail: 'a "below" rule must clear at or above its value' },
    ]);
    const onSensor = await put(`sensors/${f.ids.pA}`, {
      assetRules: [{ id: 'x', op: 'or', conditions: [{ sensor: 'a', when: 'above', value: 1 }] }],
    });
    expect(onSensor.statusCode).toBe(400);
    expect((await put(`sensor-types/${f.ids.type}`, { ewma: { z: 5 } })).statusCode).toBe(200);
    expect((await put(`sensor-types/${f.ids.type}`, { ewma: { z: 6 } })).json().version).toBe(2);
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/sensor-types/${f.ids.type}/detectors`,
      headers: f.admin.auth,
    });
    expect(del.statusCode).toBe(204);
    const versions = await t.app.inject({
      method: 'GET',
      url: `/api/v1/sensor-types/${f.ids.type}/detectors/versions`,
      headers: f.admin.auth,
    });
    expect(
      versions.json().items.map((v: { version: number; document: unknown }) => [v.version, v.document]),
    ).toEqual([
      [3, null],
      [2, { ewma: { z: 6 } }],
      [1, { ewma: { z: 5 } }],
    ]);
    const effective = await t.app.inject({
      method: 'GET',
      url: `/api/v1/sensors/${f.ids.pB}/detectors/effective`,
      headers: f.admin.auth,
    });
    expect(effective.json()).toMatchObject({ sensorTypeVersion: 3, sensorVersion: 1 });
    expect(effective.json().config.rules[0]).toMatchObject({
      id: 'low-pressure',
      below: true,
      forMs: 300_000,
    });
    const missing = await t.app.inject({
      method: 'GET',
      url: '/api/v1/sensors/00000000-0000-4000-8000-000000000000/detectors',
      headers: f.admin.auth,
    });
    expect(missing.statusCode).toBe(404);
  });

  it('anomaly queries: filters, cursor pages, unknown sensor, bad cursor, permission', async () => {
    const all = await anomalies(`${window(0, Date.now())}&limit=1000`);
    expect(all.length).toBeGreaterThan(3);
    const first = await t.app.inject({
      method: 'GET',
      url: `/api/v1/anomalies?${window(0, Date.now())}&limit=2`,
      headers: f.admin.auth,
    });
    const page1 = first.json();
    expect(page1.items).toHaveLength(2);
    const second = await anomalies(`${window(0, Date.now())}&limit=2&cursor=${page1.nextCursor}`);
    expect(second.map((a) => a.id)).toEqual(all.slice(2, 4).map((a) => a.id));
    expect(await anomalies(`${window(0, Date.now())}&kind=raised&minScore=0.9`)).toSatisfy(
      (xs: AnomalyItem[]) => xs.every((a) => a.kind === 'raised'),
    );
    const unknown = await t.app.inject({
      method: 'GET',
      url: '/api/v1/anomalies?sensor=nope',
      headers: f.admin.auth,
    });
    expect(unknown.statusCode).toBe(404);
    const cursor = await t.app.inject({
      method: 'GET',
      url: '/api/v1/anomalies?cursor=zzz',
      headers: f.admin.auth,
    });
    expect(cursor.statusCode).toBe(400);
    const device = await t.app.inject({ method: 'GET', url: '/api/v1/anomalies', headers: f.deviceA });
    expect(device.statusCode).toBe(403);
  });

  it('a silent sensor raises a heartbeat gap at k × its learned interval of no arrivals', async () => {
    const t0 = slot();
    await ingest(series('a/pressure', t0, Array(40).fill(4.2)));
    const last = t0 + 39 * MIN;
    await t.services.detection!.sweep(Date.now() + 4 * MIN);
    const early = await anomalies(`sensor=a/pressure&${window(t0, t0 + 200 * MIN)}`);
    expect(early.filter((a) => a.detector === 'heartbeat')).toEqual([]);
    await t.services.detection!.sweep(Date.now() + 6 * MIN);
    const gaps = (await anomalies(`sensor=a/pressure&${window(t0, t0 + 200 * MIN)}`)).filter(
      (a) => a.detector === 'heartbeat',
    );
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ kind: 'raised', ts: new Date(last + 5 * MIN).toISOString() });
    // Reported once, and cleared by the next reading.
    await t.services.detection!.sweep(Date.now() + 60 * MIN);
    await ingest(series('a/pressure', last + 70 * MIN, [4.2]));
    const after = (await anomalies(`sensor=a/pressure&${window(t0, t0 + 200 * MIN)}`)).filter(
      (a) => a.detector === 'heartbeat',
    );
    expect(after.map((a) => a.kind)).toEqual(['cleared', 'raised']);
  });
});
