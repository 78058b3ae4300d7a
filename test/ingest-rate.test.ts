import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReplicaPair, createTestAppOn, type TestApp } from './helpers/app.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

let next = Date.now() - 3_600_000;
const ingest = async (t: TestApp, f: TelemetryFixture, n: number) => {
  const ts = next;
  next += n;
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/ingest',
    headers: f.apiKey,
    payload: { readings: Array.from({ length: n }, (_, i) => ({ sensor: 'a/flow', ts: ts + i, value: i })) },
  });
  expect(res.statusCode, res.body).toBe(200);
};
const rate = async (t: TestApp, f: TelemetryFixture, query = '') =>
  t.app.inject({ method: 'GET', url: `/api/v1/readings/rate${query}`, headers: f.admin.auth });

describe('the tenant ingest rate', () => {
  let t: TestApp;
  let f: TelemetryFixture;
  let other: TelemetryFixture;
  beforeAll(async () => {
    t = await createTestAppOn('sqlite');
    f = await seedTelemetry(t);
    other = await seedTelemetry(t, 'other');
  });
  afterAll(async () => t?.close());

  it('counts the readings a tenant had accepted in the last whole seconds, its own only', async () => {
    const first = next;
    await ingest(t, f, 30);
    // Refused, duplicate and replayed readings were not accepted this time: none of them counts.
    const post = (payload: object, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { ...f.apiKey, ...headers }, payload });
    expect((await post({ readings: [{ sensor: 'no/such', ts: Date.now(), value: 1 }] })).statusCode).toBe(
      422,
    );
    const again = await post({ readings: [{ sensor: 'a/flow', ts: first, value: 0 }] });
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 1 });
    const once = { readings: [{ sensor: 'a/flow', ts: next++, value: 1 }] };
    expect((await post(once, { 'idempotency-key': 'rate-1' })).json().accepted).toBe(1);
    expect((await post(once, { 'idempotency-key': 'rate-1' })).json().accepted).toBe(1); // the replayed answer
    const sent = Date.now();
    // Once every second those requests fell in has ended, the count is exactly what was stored.
    await expect
      .poll(async () => Date.parse((await rate(t, f)).json().asOf) > sent, { timeout: 5000, interval: 100 })
      .toBe(true);
    const body = (await rate(t, f)).json();
    expect(body).toMatchObject({ windowS: 60, readings: 31, scope: 'this-instance' });
    expect(body.perSecond).toBeCloseTo(31 / 60, 3);
    expect((await rate(t, other)).json().readings).toBe(0);
    const bounded = await rate(t, f, '?windowS=500');
    expect(bounded.statusCode).toBe(400);
    expect(bounded.json().errors[0].pointer).toBe('/querystring/windowS');
  });
});

describe('the tenant ingest rate across instances (Redis)', () => {
  let one: TestApp;
  let two: TestApp;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ one, two, close } = await createReplicaPair());
  });
  afterAll(async () => close?.());

  it('adds what every instance accepted', async () => {
    const f = await seedTelemetry(one);
    await ingest(one, f, 20);
    await ingest(two, f, 5);
    await expect
      .poll(async () => (await rate(two, f)).json().readings, { timeout: 10_000, interval: 200 })
      .toBe(25);
    expect((await rate(one, f)).json()).toMatchObject({ readings: 25, scope: 'all-instances' });
  });
});
