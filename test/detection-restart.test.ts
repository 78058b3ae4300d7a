import { afterAll, describe, expect, it } from 'vitest';
import { listAnomalies } from '../src/detection/pipeline/anomalies.repository.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './helpers/databases.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;

describe.each(DIALECTS)('detection state across restarts on %s', (dialect) => {
  let db: TestDatabase;
  const open: TestApp[] = [];
  afterAll(async () => {
    for (const t of open) await t.close().catch(() => undefined);
    await db?.drop();
  });

  const start = async (env: Record<string, string> = {}) => {
    const t = await createTestApp({ DATABASE_URL: db.url, ...env });
    open.push(t);
    return t;
  };
  const stop = async (t: TestApp) => {
    open.splice(open.indexOf(t), 1);
    await t.close();
  };
  const ingest = async (t: TestApp, f: TelemetryFixture, t0: number, values: number[]) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: f.apiKey,
      payload: { readings: values.map((value, i) => ({ sensor: 'a/pressure', ts: t0 + i * MIN, value })) },
    });
    expect(res.statusCode, res.body).toBe(200);
    await t.services.detection?.flush();
  };
  // Straight from the repository: the first process's session does not outlive it.
  const anomalies = async (t: TestApp, f: TelemetryFixture) =>
    listAnomalies(t.services.database.db, { tenantId: f.tenantId, sensorId: f.ids.pA, limit: 1000 });
  const wiggle = (n: number, from: number) =>
    Array.from({ length: n }, (_, i) => 4 + 0.1 * Math.sin((from + i) / 4));

  it('restores checkpointed state (no burst after a restart) and replays readings stored while no detector ran', async () => {
    db = await createTestDatabase(dialect);
    const t0 = Math.floor((Date.now() - 86_400_000) / MIN) * MIN;

    const first = await start();
    const f = await seedTelemetry(first);
    const rule = await first.app.inject({
      method: 'PUT',
      url: `/api/v1/sensors/${f.ids.pA}/detectors`,
      headers: f.admin.auth,
      payload: { rules: [{ id: 'low', when: 'below', value: 2, severity: 'major' }] },
    });
    expect(rule.statusCode).toBe(200);
    await ingest(first, f, t0, wiggle(60, 0));
    await stop(first); // checkpoints on stop

    // An instance that stores readings without scoring them (like a process that died before
    // scoring): the readings are acknowledged and stored, nothing is scored.
    const blind = await start({ DETECTION_ENABLED: 'false' });
    expect(blind.services.detection).toBeUndefined();
    await ingest(blind, f, t0 + 60 * MIN, [...wiggle(5, 60), 1.5, 1.4]);
    await stop(blind);

    const third = await start();
    const row = await third.services.database.db
      .selectFrom('detection_state')
      .select(['last_ts'])
      .where('sensor_id', '=', f.ids.pA)
      .executeTakeFirstOrThrow();
    expect(Number(row.last_ts)).toBe(t0 + 59 * MIN);
    // Started like a server: the checkpointed sensors are restored at once and the readings stored
    // after their checkpoint are scored without waiting for the sensor's next reading.
    third.services.detection!.start();
    await third.services.detection!.restored;
    const replayed = await anomalies(third, f);
    expect(replayed.filter((a) => a.detector === 'threshold').map((a) => [a.kind, a.ts - t0])).toEqual([
      ['raised', 65 * MIN],
    ]);
    // Back to normal.
    await ingest(third, f, t0 + 67 * MIN, wiggle(20, 67));
    const items = await anomalies(third, f);
    const low = items.filter((a) => a.detector === 'threshold').reverse();
    expect(low.map((a) => [a.kind, a.ts - t0])).toEqual([
      ['raised', 65 * MIN],
      ['cleared', 67 * MIN],
    ]);
    // Restored state, not a cold start: statistical anomalies only at the fault and the recovery
    // from it, none in the normal readings after the restart.
    const points = items.filter((a) => a.kind === 'point').map((a) => (a.ts - t0) / MIN);
    expect(points.every((m) => m >= 65 && m <= 67)).toBe(true);
    await third.services.detection!.checkpoint();
    const after = await third.services.database.db
      .selectFrom('detection_state')
      .select(['last_ts'])
      .where('sensor_id', '=', f.ids.pA)
      .executeTakeFirstOrThrow();
    expect(Number(after.last_ts)).toBe(t0 + 86 * MIN);
  });
});
