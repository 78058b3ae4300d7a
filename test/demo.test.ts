import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_OWNER, type RunningDemo, startDemo } from '../src/demo/demo.js';
import { SENSORS } from '../src/demo/water-network.js';
import { testConfig } from './helpers/env.js';

describe('vigil demo', () => {
  let demo: RunningDemo;
  beforeAll(async () => {
    demo = await startDemo(testConfig({ PORT: '0', HOST: '127.0.0.1' }), pino({ level: 'silent' }), {
      historyHours: 2,
      intervalMs: 100,
    });
  });
  afterAll(() => demo.stop());

  it('starts with a fresh owner, registers the network and streams history and live readings through the API', async () => {
    expect(demo.owner.email).toBe(DEMO_OWNER);
    expect(demo.owner.password.length).toBeGreaterThanOrEqual(20);
    const login = await fetch(`${demo.server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: DEMO_OWNER, password: demo.owner.password }),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    // Two hours of one-a-minute history for 14 sensors.
    expect(demo.stats.accepted).toBeGreaterThanOrEqual(14 * 120);
    const startedAt = Date.now();
    // Live readings keep arriving: wait until every sensor's latest value is newer than start.
    let items: { key: string; ts: string | null }[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${demo.server.url}/api/v1/readings/latest`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sensors: SENSORS.map((s) => s.key) }),
      });
      items = ((await res.json()) as { items: typeof items }).items;
      if (items.every((x) => x.ts !== null && Date.parse(x.ts) >= startedAt)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(items).toHaveLength(SENSORS.length);
    for (const x of items) expect(Date.parse(x.ts!), x.key).toBeGreaterThanOrEqual(startedAt);
    expect(demo.stats.failed).toBe(0);
  });

  it('refuses a database that already has tenants', async () => {
    const config = { ...demo.server.services.config, http: { ...demo.server.services.config.http, port: 0 } };
    await expect(
      startDemo(config, pino({ level: 'silent' }), { historyHours: 0, intervalMs: 1000 }),
    ).rejects.toThrow(/already has tenants/);
  });
});
