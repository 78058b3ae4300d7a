import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HubMessage } from '../src/realtime/hub.js';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { loginAs, seedUser } from './helpers/identity.js';
import { authed, type Client, listen } from './helpers/stream-client.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;

interface Run {
  id: string;
  status: string;
  scope: string;
  targetId: string;
  summary: Record<string, unknown> & { episodes: number; anomalyRows: number; rows: number };
  episodes: { from: string; to: string; peakAt: string; peakScore: number; detectors: string[] }[] | null;
  error: string | null;
  rowsDone: number;
  rowsTotal: number;
  cancelRequested: boolean;
}
interface LogLine {
  seq: number;
  level: string;
  message: string;
}

describe.each(DIALECTS)('backtests over the API on %s', (dialect) => {
  let t: TestApp;
  let f: TelemetryFixture;
  let viewer: { auth: { authorization: string } };
  const lab: HubMessage[] = [];
  const t0 = Math.floor((Date.now() - 2 * 86_400_000) / MIN) * MIN;
  const N = 1500;
  const SPIKE = 1200;
  const from = new Date(t0).toISOString();
  const to = new Date(t0 + N * MIN).toISOString();

  beforeAll(async () => {
    t = await createTestAppOn(dialect, { BACKTEST_MAX_PER_TENANT: '2' });
    f = await seedTelemetry(t);
    const v = await seedUser(t.services, { tenant: 'water', role: 'viewer' });
    viewer = await loginAs(t.app, v.email);
    t.services.hub.subscribe((m) => {
      if (m.channel === 'lab') lab.push(m);
    });
    const readings = Array.from({ length: N }, (_, i) => ({
      sensor: 'a/pressure',
      ts: t0 + i * MIN,
      value: i === SPIKE ? 14 : 5 + Math.sin(i / 30) + 0.05 * Math.sin(i * 1.7),
    }));
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: f.apiKey,
      payload: { readings },
    });
    expect(res.statusCode, res.body).toBe(200);
    await t.services.detection!.flush();
  });
  afterAll(async () => t?.close());

  const call = (method: 'GET' | 'POST', url: string, payload?: object, headers = f.admin.auth) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers, ...(payload ? { payload } : {}) });
  const finished = async (id: string): Promise<Run> => {
    let run: Run | undefined;
    await expect
      .poll(
        async () => {
          run = (await call('GET', `/backtests/${id}`)).json() as Run;
          return ['succeeded', 'failed', 'cancelled'].includes(run.status);
        },
        { timeout: 30_000, interval: 50 },
      )
      .toBe(true);
    return run!;
  };
  const log = async (id: string, after = 0): Promise<LogLine[]> =>
    (await call('GET', `/backtests/${id}/log?after=${after}`)).json().items;

  it("scores a sensor's stored history with its configured documents, logging live and for later", async () => {
    const res = await call('POST', '/backtests', { sensorId: f.ids.pA, from, to });
    expect(res.statusCode, res.body).toBe(202);
    const queued = res.json() as Run;
    expect(res.headers.location).toBe(`/api/v1/backtests/${queued.id}`);
    expect(queued).toMatchObject({ scope: 'sensor', targetId: f.ids.pA, cancelRequested: false });
    expect(['queued', 'running', 'succeeded']).toContain(queued.status);

    const run = await finished(queued.id);
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(run.summary).toMatchObject({ rows: N, readingsInWindow: N, current: null });
    expect(run).toMatchObject({ rowsDone: N, rowsTotal: N });
    expect(run.summary.episodes).toBeGreaterThanOrEqual(1);
    expect(typeof run.summary.storedAnomalies).toBe('number');
    // The spike is one of the episodes, with the detectors that fired and its peak.
    const spike = new Date(t0 + SPIKE * MIN).toISOString();
    const episode = run.episodes!.find((e) => e.from <= spike && spike <= e.to);
    expect(episode, JSON.stringify(run.episodes)).toBeDefined();
    expect(episode!.detectors.length).toBeGreaterThan(0);
    expect(episode!.peakScore).toBeGreaterThanOrEqual(0.7);

    const lines = await log(run.id);
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    expect(lines[0]!.message).toMatch(/^Queued/);
    expect(
      lines.some((l) => /^Scoring a\/pressure \(a\/pressure\) from .* with the defaults/.test(l.message)),
    ).toBe(true);
    expect(lines.some((l) => l.message.startsWith(`Read ${N.toLocaleString('en-GB')} readings`))).toBe(true);
    expect(lines.some((l) => l.message.startsWith(`Anomaly ${spike}`))).toBe(true);
    expect(lines.at(-1)!.message).toMatch(/^Done in .* s: 1,500 readings/);
    // Paging the stored log.
    expect((await log(run.id, 2)).map((l) => l.seq)[0]).toBe(3);

    // Every stored line went out on the lab channel, in order, with the outcome and progress.
    const live = lab.filter((m) => m.payload.runId === run.id);
    expect(live.every((m) => m.tenantId === f.tenantId)).toBe(true);
    expect(live.filter((m) => m.type === 'backtest.log').map((m) => m.payload.seq)).toEqual(
      lines.map((l) => l.seq),
    );
    expect(live.some((m) => m.type === 'backtest.progress' && m.payload.rowsDone === N)).toBe(true);
    expect(live.find((m) => m.type === 'backtest.status' && m.payload.status === 'succeeded')).toBeDefined();

    const list = (await call('GET', `/backtests?targetId=${f.ids.pA}`, undefined, viewer.auth)).json();
    expect(list.items.map((r: Run) => r.id)).toContain(run.id);
  });

  it('compares a candidate document with the configured ones', async () => {
    const res = await call('POST', '/backtests', {
      sensorId: f.ids.pA,
      from,
      to,
      config: { rules: [{ id: 'too-high', when: 'above', value: 5.5 }] },
    });
    expect(res.statusCode, res.body).toBe(202);
    const run = await finished(res.json().id);
    expect(run.status, run.error ?? '').toBe('succeeded');
    const current = run.summary.current as { episodes: number };
    expect(current).not.toBeNull();
    // The sine crosses 5.5 in every period: the candidate's rule raises many more episodes.
    expect(run.summary.episodes).toBeGreaterThan(current.episodes);
    expect((run.summary.byDetector as Record<string, number>).threshold).toBeGreaterThan(5);
    const lines = await log(run.id);
    expect(
      lines.some((l) => /with the candidate document over the defaults.*comparing/.test(l.message)),
    ).toBe(true);
    expect(lines.at(-1)!.message).toMatch(/\(the configured documents: \d+ episodes?\)/);
  });

  it('refuses bad requests with a pointer each, changing nothing', async () => {
    const before = (await call('GET', '/backtests?limit=500')).json().items.length;
    const backwards = await call('POST', '/backtests', { sensorId: f.ids.pA, from: to, to: from });
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().errors).toEqual([{ pointer: '/body/from', detail: 'must be before `to`' }]);
    const badDoc = await call('POST', '/backtests', {
      sensorId: f.ids.pA,
      config: { rules: [{ id: 'x', when: 'above', value: 5, clear: 6 }] },
    });
    expect(badDoc.statusCode).toBe(400);
    expect(badDoc.json().errors[0].pointer).toBe('/body/config/rules/0/clear');
    const unknownField = await call('POST', '/backtests', { sensorId: f.ids.pA, colour: 'red' });
    expect(unknownField.statusCode).toBe(400);
    const unknown = await call('POST', '/backtests', { sensorId: '00000000-0000-4000-8000-00000000abcd' });
    expect(unknown.statusCode).toBe(404);
    // A viewer may read runs but not start one.
    expect((await call('POST', '/backtests', { sensorId: f.ids.pA }, viewer.auth)).statusCode).toBe(403);
    expect((await call('GET', '/backtests?limit=500')).json().items.length).toBe(before);
  });

  it('fails a window without readings with the reason', async () => {
    const res = await call('POST', '/backtests', {
      sensorId: f.ids.pB,
      from,
      to,
    });
    const run = await finished(res.json().id);
    expect(run).toMatchObject({
      status: 'failed',
      error: `no readings of b/pressure between ${from} and ${to}`,
    });
    expect((await log(run.id)).at(-1)!.message).toMatch(/^Failed: no readings/);
  });

  it('stops a running backtest asked to cancel, and refuses to cancel a finished one', async () => {
    let cancel: Promise<unknown> | undefined;
    const stop = t.services.hub.subscribe((m) => {
      // Cancelled as soon as it has read its readings, before the first slice is scored.
      if (m.type === 'backtest.log' && String(m.payload.message).startsWith('Read ') && !cancel)
        cancel = t.services.backtests.cancel(f.tenantId, String(m.payload.runId));
    });
    const res = await call('POST', '/backtests', { sensorId: f.ids.pA, from, to });
    const run = await finished(res.json().id);
    stop();
    expect(await cancel).toBe('stopping');
    expect(run).toMatchObject({ status: 'cancelled', rowsDone: 0, cancelRequested: true });
    expect((await log(run.id)).at(-1)).toMatchObject({ level: 'warn', message: 'Cancelled' });
    const again = await call('POST', `/backtests/${run.id}/cancel`);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('CONFLICT');
  });

  it('limits the runs a tenant has queued or running, and fails runs whose instance stopped reporting', async () => {
    const { db } = t.services.database;
    const now = Date.now();
    const held = (id: string, status: string) => ({
      id,
      tenant_id: f.tenantId,
      scope: 'sensor' as const,
      target_id: f.ids.pA,
      status,
      params: '{}',
      rows_done: 0,
      rows_total: 0,
      cancel_requested: 0,
      instance_id: 'another-instance',
      heartbeat_at: now,
      created_by: null,
      created_at: now,
    });
    const ids = ['00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b2'];
    await db
      .insertInto('backtest_runs')
      .values([held(ids[0]!, 'running'), held(ids[1]!, 'queued')])
      .execute();
    const refused = await call('POST', '/backtests', { sensorId: f.ids.pA, from, to });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'BACKTEST_LIMIT', limit: 2 });
    expect(refused.headers['retry-after']).toBe('10');

    // A queued run held by another instance is cancelled at once from here.
    const cancelled = await call('POST', `/backtests/${ids[1]}/cancel`);
    expect(cancelled.statusCode, cancelled.body).toBe(202);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', cancelRequested: true });
    expect((await log(ids[1]!)).at(-1)!.message).toBe('Cancelled before it started');
    // A running one held elsewhere is flagged; its instance stops it.
    const flagged = await call('POST', `/backtests/${ids[0]}/cancel`);
    expect(flagged.json()).toMatchObject({ status: 'running', cancelRequested: true });

    // That instance dies: its runs, running and queued, stop counting once silent a minute.
    const queuedThere = '00000000-0000-4000-8000-0000000000b3';
    await db.insertInto('backtest_runs').values(held(queuedThere, 'queued')).execute();
    await db
      .updateTable('backtest_runs')
      .set({ heartbeat_at: now - 120_000 })
      .where('id', 'in', [ids[0]!, queuedThere])
      .execute();
    const accepted = await call('POST', '/backtests', { sensorId: f.ids.pA, from, to });
    expect(accepted.statusCode, accepted.body).toBe(202);
    for (const id of [ids[0]!, queuedThere]) {
      expect((await call('GET', `/backtests/${id}`)).json()).toMatchObject({
        status: 'failed',
        error: 'interrupted: the instance running it stopped',
      });
      // Whoever watches it is told.
      expect((await log(id)).at(-1)).toMatchObject({
        level: 'error',
        message: 'Failed: interrupted: the instance running it stopped',
      });
      expect(
        lab.some(
          (m) => m.type === 'backtest.status' && m.payload.runId === id && m.payload.status === 'failed',
        ),
      ).toBe(true);
    }
    await finished(accepted.json().id);
  });

  it('lets parallel requests past the limit only as far as it reaches', async () => {
    // Runs stay queued while the requests race (the runner does not start them), so the number
    // accepted depends only on the count and the insert being one step.
    const runner = t.services.backtests as unknown as { pump(): void };
    const pump = vi.spyOn(runner, 'pump').mockImplementation(() => undefined);
    let answers: { statusCode: number; json(): { id: string } }[];
    try {
      answers = await Promise.all(
        Array.from({ length: 6 }, () => call('POST', '/backtests', { sensorId: f.ids.pA, from, to })),
      );
    } finally {
      pump.mockRestore();
    }
    const accepted = answers.filter((r) => r.statusCode === 202);
    expect(accepted).toHaveLength(2);
    expect(answers.filter((r) => r.statusCode === 429)).toHaveLength(4);
    runner.pump();
    for (const r of accepted) expect((await finished(r.json().id)).status).toBe('succeeded');
  });

  it('streams the log on the lab channel to members who can read detection, never to other tenants', async () => {
    const url = await listen(t);
    const other = await seedUser(t.services, { tenant: 'elsewhere', role: 'admin' });
    const otherSession = await loginAs(t.app, other.email);
    const token = (s: { auth: { authorization: string } }) => s.auth.authorization.replace(/^Bearer /, '');
    const clients: Client[] = [];
    try {
      const mine = await authed(url, token(viewer));
      const theirs = await authed(url, token(otherSession));
      clients.push(mine, theirs);
      for (const c of clients) {
        c.send({ type: 'subscribe', channel: 'lab', ref: 'l' });
        await c.next((m) => m.type === 'subscribed' && m.channel === 'lab', 'subscribed');
      }
      const res = await call('POST', '/backtests', { sensorId: f.ids.pA, from, to });
      const id = res.json().id as string;
      const done = await mine.next(
        (m) => m.type === 'backtest.status' && m.payload.runId === id && m.payload.status === 'succeeded',
        'the outcome',
      );
      expect(done.channel).toBe('lab');
      const seqs = mine.messages
        .filter((m) => m.type === 'backtest.log' && m.payload.runId === id)
        .map((m) => m.payload.seq);
      expect(seqs).toEqual((await log(id)).map((l) => l.seq));
      expect(theirs.messages.filter((m) => m.channel === 'lab' && m.type !== 'subscribed')).toEqual([]);
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('scores an asset: its sensors side by side, each with its own documents, and a candidate asset rule', async () => {
    const asset = await call('POST', '/assets', { key: 'pump-a', name: 'Pump A', kind: 'pump' });
    expect(asset.statusCode, asset.body).toBe(201);
    const assetId = asset.json().id as string;
    for (const id of [f.ids.pA, f.ids.fA])
      expect(
        (
          await t.app.inject({
            method: 'PATCH',
            url: `/api/v1/sensors/${id}`,
            headers: f.admin.auth,
            payload: { assetId },
          })
        ).statusCode,
      ).toBe(200);
    // Flow half a minute after each pressure reading: the rows are the two timelines merged.
    const flow = Array.from({ length: N }, (_, i) => ({
      sensor: 'a/flow',
      ts: t0 + i * MIN + 30_000,
      value: (i >= 1300 && i < 1310 ? 80 : 50) + Math.sin(i / 5),
    }));
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: f.apiKey,
      payload: { readings: flow },
    });
    expect(res.statusCode, res.body).toBe(200);

    const wrong = await call('POST', '/backtests', {
      assetId,
      config: {
        assetRules: [{ id: 'x', op: 'and', conditions: [{ sensor: 'b/pressure', when: 'above', value: 1 }] }],
      },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors[0].pointer).toBe('/body/config/assetRules/0/conditions/0/sensor');
    const both = await call('POST', '/backtests', { assetId, sensorId: f.ids.pA });
    expect(both.statusCode).toBe(400);
    expect(both.json().errors[0].pointer).toBe('/body/sensorId');

    const started = await call('POST', '/backtests', {
      assetId,
      from,
      to: new Date(t0 + N * MIN + 60_000).toISOString(),
      config: {
        assetRules: [
          {
            id: 'surge',
            op: 'and',
            conditions: [
              { sensor: 'a/flow', when: 'above', value: 70 },
              { sensor: 'a/pressure', when: 'above', value: 0 },
            ],
          },
        ],
      },
    });
    expect(started.statusCode, started.body).toBe(202);
    expect(started.json()).toMatchObject({ scope: 'asset', targetId: assetId });
    const run = await finished(started.json().id);
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(run.summary).toMatchObject({ rows: 2 * N, readingsInWindow: 2 * N });
    expect(run.summary.current).not.toBeNull();
    const surge = run.episodes!.find((e) => e.detectors.includes('asset-rule(surge)'));
    expect(surge, JSON.stringify(run.episodes)).toBeDefined();
    expect(surge!.from).toBe(new Date(t0 + 1300 * MIN + 30_000).toISOString());
    // The configured documents (no asset document) have no such rule.
    expect(
      (run.summary.current as { byDetector: Record<string, number> }).byDetector['asset-rule(surge)'],
    ).toBeUndefined();
    const lines = await log(run.id);
    expect(lines[1]!.message).toMatch(
      /^Scoring the asset Pump A \(2 sensors: a\/flow, a\/pressure\) from .* with the candidate asset document and each sensor's own documents/,
    );
    expect(lines.some((l) => l.message.startsWith(`Read ${(2 * N).toLocaleString('en-GB')} rows`))).toBe(
      true,
    );
    expect((await call('GET', `/backtests?targetId=${assetId}`)).json().items.map((r: Run) => r.id)).toEqual([
      run.id,
    ]);
  });
});
