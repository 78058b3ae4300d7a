import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScheduler } from '../src/jobs/jobs.js';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;

interface Model {
  id: string;
  version: number;
  status: string;
  scope: string;
  features: string[];
  metrics: Record<string, unknown>;
  params: Record<string, unknown>;
  activatedAt: string | null;
}

describe.each(DIALECTS)('model registry and retraining on %s', (dialect) => {
  let t: TestApp;
  let f: TelemetryFixture;
  const t0 = Math.floor((Date.now() - 3 * 86_400_000) / MIN) * MIN;

  beforeAll(async () => {
    t = await createTestAppOn(dialect);
    f = await seedTelemetry(t);
  });
  afterAll(async () => t?.close());

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: f.admin.auth, ...(payload ? { payload } : {}) });
  const ingest = async (readings: { sensor: string; ts: number; value: number }[]) => {
    for (let i = 0; i < readings.length; i += 5000) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/ingest',
        headers: f.apiKey,
        payload: { readings: readings.slice(i, i + 5000) },
      });
      expect(res.statusCode, res.body).toBe(200);
    }
    await t.services.detection!.flush();
  };
  const models = async (query: string): Promise<Model[]> =>
    (await call('GET', `/models?${query}`)).json().items;
  const signal = (i: number) => 5 + Math.sin(i / 30) + 0.05 * Math.sin(i * 1.7);

  it('training needs history: too little is logged as insufficient_data', async () => {
    const res = await call('POST', '/models/train', { sensorId: f.ids.pA });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().model).toBeNull();
    expect(res.json().run).toMatchObject({ outcome: 'insufficient_data', trigger: 'api', scope: 'sensor' });
  });

  it('trains, activates, switches and rolls back versions; the pipeline scores with the active one', async () => {
    expect(
      (
        await call('PUT', `/sensors/${f.ids.pA}/detectors`, {
          isolationForest: { enabled: true, trees: 32 },
        })
      ).statusCode,
    ).toBe(200);
    await ingest(
      Array.from({ length: 1500 }, (_, i) => ({ sensor: 'a/pressure', ts: t0 + i * MIN, value: signal(i) })),
    );
    const now = t0 + 1500 * MIN;
    const first = await call('POST', '/models/train', { sensorId: f.ids.pA, windowDays: 3 });
    expect(first.statusCode, first.body).toBe(201);
    const v1 = first.json().model as Model;
    expect(first.json().run).toMatchObject({ outcome: 'activated', modelId: v1.id });
    expect(v1).toMatchObject({ version: 1, status: 'active', scope: 'sensor' });
    expect(v1.features).toEqual(['value', 'delta', 'deviation', 'spread', 'hourSin', 'hourCos']);
    expect(v1.metrics).toMatchObject({ heldOutRows: 299, comparedWith: null });
    // Faults injected into the held-out window score above its normal rows far more often than not.
    expect(v1.metrics.quality as number).toBeGreaterThan(0.7);
    void now;

    const second = await call('POST', '/models/train', { sensorId: f.ids.pA, windowDays: 3 });
    const v2 = second.json().model as Model;
    expect(v2.version).toBe(2);
    // Activated only when not worse than v1 on the same held-out window.
    const m2 = v2.metrics as { quality: number; comparedWith: { version: number; quality: number } };
    expect(m2.comparedWith.version).toBe(1);
    expect(second.json().run.outcome).toBe(
      m2.quality >= m2.comparedWith.quality ? 'activated' : 'kept_previous',
    );
    expect((await models(`sensorId=${f.ids.pA}&status=active`)).length).toBe(1);

    // Switch explicitly to v2, then to v1; rolling back returns to v2.
    expect((await call('POST', `/models/${v2.id}/activate`)).json()).toMatchObject({
      version: 2,
      status: 'active',
    });
    expect((await call('POST', `/models/${v1.id}/activate`)).json()).toMatchObject({
      version: 1,
      status: 'active',
    });
    const back = await call('POST', '/models/rollback', { sensorId: f.ids.pA });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json()).toMatchObject({ version: 2, status: 'active' });
    const all = await models(`sensorId=${f.ids.pA}`);
    expect(all.map((m) => [m.version, m.status])).toEqual([
      [2, 'active'],
      [1, 'inactive'],
    ]);

    // The pipeline picked the activation up: a fault is scored by the model too.
    await ingest([{ sensor: 'a/pressure', ts: t0 + 1500 * MIN, value: 14 }]);
    const found = await call(
      'GET',
      `/anomalies?sensor=a/pressure&from=${t0 + 1500 * MIN}&to=${t0 + 1501 * MIN}`,
    );
    const point = found.json().items.find((a: { kind: string }) => a.kind === 'point');
    expect(point.explanation.model).toEqual({ id: v2.id, version: 2 });

    const audit = await t.services.database.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('action', 'in', ['model.activate', 'model.rollback'])
      .orderBy('seq')
      .execute();
    const how = audit.map(
      (a) => `${a.action}:${(JSON.parse(a.details) as { trigger?: string }).trigger ?? 'api'}`,
    );
    // Activation by training is audited like an operator's switch or rollback.
    expect(how.slice(0, 1)).toEqual(['model.activate:training']);
    expect(how.filter((h) => !h.endsWith(':training'))).toEqual([
      'model.activate:api',
      'model.activate:api',
      'model.rollback:api',
    ]);
  });

  it('asset models are multivariate over the asset’s sensors', async () => {
    const asset = (await call('POST', '/assets', { key: 'pump-9', name: 'Pump 9', kind: 'pump' })).json();
    for (const key of ['pump-9/in', 'pump-9/out']) {
      const r = await call('POST', '/sensors', { key, name: key, typeId: f.ids.type, assetId: asset.id });
      expect(r.statusCode, r.body).toBe(201);
    }
    expect(
      (await call('PUT', `/assets/${asset.id}/detectors`, { isolationForest: { enabled: true } })).statusCode,
    ).toBe(200);
    await ingest(
      Array.from({ length: 600 }, (_, i) => [
        { sensor: 'pump-9/in', ts: t0 + i * MIN, value: signal(i) },
        { sensor: 'pump-9/out', ts: t0 + i * MIN + 500, value: 2 * signal(i) },
      ]).flat(),
    );
    const res = await call('POST', '/models/train', { assetId: asset.id, windowDays: 3 });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().run.error).toBeNull();
    expect(res.json().model).toMatchObject({
      scope: 'asset',
      status: 'active',
      features: ['pump-9/in', 'pump-9/out'],
    });
    expect(res.json().model.params.dims).toBe(2);
  });

  it('the scheduled job retrains every target that enables the model, and logs each run', async () => {
    const before = (await call('GET', '/models/training-runs?limit=100')).json().items.length;
    const scheduler = createScheduler(t.services);
    expect(scheduler.list().map((j) => j.name)).toContain('detection.retrain');
    expect(scheduler.nextSlot('detection.retrain', new Date('2026-01-01T12:00:00Z'))?.toISOString()).toBe(
      '2026-01-02T02:00:00.000Z',
    );
    const outcome = await scheduler.runNow('detection.retrain');
    expect(outcome.status).toBe('succeeded');
    const runs = (await call('GET', '/models/training-runs?limit=100')).json().items as {
      trigger: string;
      targetId: string;
      outcome: string;
      durationMs: number;
      params: Record<string, unknown>;
    }[];
    expect(runs.length - before).toBe(2);
    const scheduled = runs.filter((r) => r.trigger === 'schedule');
    // The sensor that enables the forest, and the asset of the previous test.
    expect(scheduled).toHaveLength(2);
    expect(scheduled.map((r) => r.targetId)).toContain(f.ids.pA);
    for (const r of scheduled) {
      expect(['activated', 'kept_previous']).toContain(r.outcome);
      expect(r.params).toMatchObject({ trees: expect.any(Number), windowDays: expect.any(Number) });
    }
  });

  it('bad requests: both or neither target, unknown model, nothing to roll back to', async () => {
    expect((await call('POST', '/models/train', {})).statusCode).toBe(400);
    expect((await call('POST', '/models/train', { sensorId: f.ids.pA, assetId: f.ids.pA })).statusCode).toBe(
      400,
    );
    expect((await call('POST', '/models/00000000-0000-4000-8000-000000000000/activate')).statusCode).toBe(
      404,
    );
    const none = await call('POST', '/models/rollback', { sensorId: f.ids.pB });
    expect(none.statusCode).toBe(409);
    expect(none.json().code).toBe('CONFLICT');
    const viewer = await t.app.inject({
      method: 'POST',
      url: '/api/v1/models/train',
      headers: f.readOnlyKey,
      payload: { sensorId: f.ids.pA },
    });
    expect(viewer.statusCode).toBe(403);
  });
});
