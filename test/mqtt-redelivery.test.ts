import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/server.js';
import { testConfig } from './helpers/env.js';
import { type Relay, relayedPostgres } from './helpers/relay.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

describe('embedded broker: a QoS 1 message is acknowledged only after commit', () => {
  let dropDb: () => Promise<void>;
  let relay: Relay;
  let server: RunningServer;
  let f: TelemetryFixture;

  beforeAll(async () => {
    const pg = await relayedPostgres();
    relay = pg.relay;
    dropDb = pg.drop;
    const config = testConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: pg.url,
      DATABASE_CONNECT_TIMEOUT_MS: '500',
    });
    server = await startServer(config, pino({ level: 'silent' }), { migrate: true, noSetupLink: true });
    f = await seedTelemetry({ app: server.app, services: server.services, config, close: async () => {} });
  });
  afterAll(async () => {
    await relay.up();
    await server.shutdown('test done');
    await relay.down();
    await dropDb();
  });

  it('with the database down: no PUBACK, the device resends after reconnecting, stored exactly once', async () => {
    const ts = Math.floor(Date.now() / 1000) * 1000 - 120_000;
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, {
      username: 'logger-a',
      password: f.deviceA.authorization.replace('Device ', ''),
      clean: false,
      clientId: 'logger-a-redelivery',
      reconnectPeriod: 200,
    });
    await relay.down();
    let acked = false;
    const published = device
      .publishAsync('vigil/water/logger-a/a/pressure', `${ts},4.2`, { qos: 1 })
      .then(() => {
        acked = true;
      });
    // The broker closes the connection instead of acknowledging.
    await new Promise<void>((resolve) => device.once('close', () => resolve()));
    expect(acked).toBe(false);
    expect(server.broker!.counters.notStored).toBeGreaterThanOrEqual(1);
    await relay.up();
    // mqtt.js reconnects and resends the unacknowledged message; now it is stored and acknowledged.
    await published;
    expect(acked).toBe(true);
    const items = (
      await server.app.inject({
        method: 'GET',
        url: `/api/v1/sensors/${f.ids.pA}/readings?from=${ts - 1}&to=${ts + 1}`,
        headers: f.admin.auth,
      })
    ).json().items;
    expect(items).toEqual([{ ts: new Date(ts).toISOString(), value: 4.2, quality: 'good' }]);
    await device.endAsync();
  });
});
