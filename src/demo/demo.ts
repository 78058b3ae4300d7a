import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { type RunningServer, startServer } from '../server.js';
import { PLATFORM_TENANT_ID } from '../tenants/platform-tenant.js';
import { findTenant } from '../tenants/tenants.repository.js';
import { createTenant, createUserInTenant } from '../users/users.service.js';
import {
  ALARM_RULES,
  ASSET_DETECTOR_DOCS,
  ASSETS,
  DETECTOR_DOCS,
  DEVICES,
  defaultScenario,
  type Scenario,
  SENSOR_TYPES,
  SENSORS,
  SITES,
  valueAt,
} from './water-network.js';

export const DEMO_TENANT = 'demo';
export const DEMO_OWNER = 'owner@demo.vigil.local';

export interface DemoOptions {
  /** Hours of history sent at start, one reading a minute per sensor (so charts show a day). */
  readonly historyHours: number;
  /** Live readings: one per sensor every this many ms. */
  readonly intervalMs: number;
  /** When the Old Town leak starts, in ms after set-up (default: two minutes; tests want it sooner). */
  readonly leakAfterMs?: number;
}

export interface RunningDemo {
  readonly server: RunningServer;
  readonly owner: { readonly email: string; readonly password: string };
  readonly scenario: Scenario;
  readonly stats: { requests: number; accepted: number; failed: number; lastError?: string };
  stop(): Promise<void>;
}

const SYSTEM = {
  actorType: 'system' as const,
  actorId: null,
  ip: null,
  userAgent: 'vigil-demo',
  requestId: null,
};

/**
 * `vigil demo`: the embedded server with one tenant, an owner with a random password, a simulated
 * water network registered through the API, a day of history, and live readings from each logger
 * through the real ingest API (Vigil JSON, SenML and line protocol, as real fleets mix them).
 */
export async function startDemo(config: Config, logger: Logger, opts: DemoOptions): Promise<RunningDemo> {
  const server = await startServer(config, logger, { migrate: true, noSetupLink: true });
  try {
    const { db } = server.services.database;
    // Never mix demo data (and a printed owner password) into a database that is in use.
    if (
      (await findTenant(db, DEMO_TENANT)) ||
      (await db
        .selectFrom('tenants')
        .select('id')
        .where('id', '!=', PLATFORM_TENANT_ID)
        .limit(1)
        .executeTakeFirst())
    ) {
      throw new Error('this database already has tenants; start the demo on an empty database');
    }
    const password = randomBytes(15).toString('base64url');
    await db.transaction().execute(async (trx) => {
      const tenant = await createTenant(
        server.services,
        trx,
        { slug: DEMO_TENANT, name: 'Riverside Water (demo)' },
        SYSTEM,
      );
      await createUserInTenant(
        server.services,
        trx,
        { email: DEMO_OWNER, password, displayName: 'Demo owner', tenantId: tenant.id, role: 'owner' },
        SYSTEM,
      );
    });
    const api = client(server.url);
    const { accessToken } = await api('POST', '/api/v1/auth/login', undefined, {
      email: DEMO_OWNER,
      password,
    });
    const tokens = await register(api, accessToken!);
    const scenario = defaultScenario(Date.now(), { leakAfterMs: opts.leakAfterMs });
    const frozen = new Map<string, number>();
    const stats: RunningDemo['stats'] = { requests: 0, accepted: 0, failed: 0 };

    const send = async (device: string, ts: readonly number[]) => {
      const readings: { sensor: string; ts: number; value: number }[] = [];
      for (const t of ts) {
        for (const s of SENSORS.filter((x) => x.device === device)) {
          const value = valueAt(s.key, t, scenario, frozen);
          if (value !== null) readings.push({ sensor: s.key, ts: t, value });
        }
      }
      if (readings.length === 0) return;
      const { type, body } = encode(device, readings);
      stats.requests++;
      try {
        const res = await fetch(`${server.url}/api/v1/ingest?precision=ms`, {
          method: 'POST',
          headers: { authorization: `Device ${tokens.get(device)}`, 'content-type': type },
          body,
        });
        if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
        stats.accepted += ((await res.json()) as { accepted: number }).accepted;
      } catch (err) {
        stats.failed++;
        stats.lastError = (err as Error).message;
        logger.warn({ device, err: stats.lastError }, 'demo: sending readings failed');
      }
    };

    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const history: number[] = [];
    for (let t = now - opts.historyHours * 3_600_000; t < now; t += 60_000) history.push(t);
    for (const d of DEVICES) {
      const perRequest = Math.max(1, Math.floor(1000 / SENSORS.filter((s) => s.device === d.key).length));
      for (let i = 0; i < history.length; i += perRequest)
        await send(d.key, history.slice(i, i + perRequest));
    }

    let ticking: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      const t = Date.now();
      ticking = Promise.all(DEVICES.map((d) => send(d.key, [t])));
    }, opts.intervalMs);
    return {
      server,
      owner: { email: DEMO_OWNER, password },
      scenario,
      stats,
      stop: async () => {
        clearInterval(timer);
        await ticking;
        await server.shutdown('demo stopped');
      },
    };
  } catch (err) {
    await server.shutdown('demo failed to start');
    throw err;
  }
}

type Api = (
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
) => Promise<Record<string, string>>;

function client(base: string): Api {
  return async (method, path, token, body) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`demo set-up: ${method} ${path} answered ${res.status}: ${text}`);
    return JSON.parse(text) as Record<string, string>;
  };
}

/** The network through the registry API; returns each logger's device token. */
async function register(api: Api, token: string): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const t of SENSOR_TYPES) {
    const id = (await api('POST', '/api/v1/sensor-types', token, t)).id!;
    ids.set(`type:${t.key}`, id);
    const detectors = DETECTOR_DOCS[t.key];
    if (detectors) await api('PUT', `/api/v1/sensor-types/${id}/detectors`, token, detectors);
    for (const rule of ALARM_RULES[t.key] ?? [])
      await api('POST', '/api/v1/alarm-rules', token, { ...rule, sensorTypeId: id });
  }
  for (const s of SITES) {
    const parentId = s.parent ? ids.get(`site:${s.parent}`) : undefined;
    ids.set(
      `site:${s.key}`,
      (await api('POST', '/api/v1/sites', token, { key: s.key, name: s.name, kind: s.kind, parentId })).id!,
    );
  }
  for (const a of ASSETS) {
    const geometry =
      typeof a.coordinates[0] === 'number'
        ? { type: 'Point', coordinates: a.coordinates }
        : { type: 'LineString', coordinates: a.coordinates };
    const body = { key: a.key, name: a.name, kind: a.kind, siteId: ids.get(`site:${a.site}`), geometry };
    ids.set(`asset:${a.key}`, (await api('POST', '/api/v1/assets', token, body)).id!);
  }
  const tokens = new Map<string, string>();
  for (const d of DEVICES) {
    const id = (
      await api('POST', '/api/v1/devices', token, {
        key: d.key,
        name: d.name,
        kind: 'logger',
        firmware: '2.4.1',
      })
    ).id!;
    ids.set(`device:${d.key}`, id);
    tokens.set(d.key, (await api('POST', '/api/v1/device-credentials', token, { deviceId: id })).token!);
  }
  for (const s of SENSORS) {
    await api('POST', '/api/v1/sensors', token, {
      key: s.key,
      name: s.name,
      typeId: ids.get(`type:${s.type}`),
      deviceId: ids.get(`device:${s.device}`),
      assetId: ids.get(`asset:${s.asset}`),
    });
  }
  // Asset rules name the asset's sensors, so they are stored once those exist.
  for (const [asset, doc] of Object.entries(ASSET_DETECTOR_DOCS))
    await api('PUT', `/api/v1/assets/${ids.get(`asset:${asset}`)}/detectors`, token, doc);
  return tokens;
}

/** Each logger speaks one of the supported formats, as a mixed real fleet would. */
function encode(device: string, readings: readonly { sensor: string; ts: number; value: number }[]) {
  if (device === 'logger-pumps') {
    // SenML with a base time (seconds) and relative offsets.
    const bt = readings[0]!.ts / 1000;
    return {
      type: 'application/senml+json',
      body: JSON.stringify(
        readings.map((r, i) => ({
          ...(i === 0 ? { bt } : {}),
          n: r.sensor,
          t: r.ts / 1000 - bt,
          v: r.value,
        })),
      ),
    };
  }
  if (device === 'logger-reservoir') {
    return {
      type: 'text/plain',
      body: readings.map((r) => `water,sensor=${r.sensor} value=${r.value} ${r.ts}`).join('\n'),
    };
  }
  return { type: 'application/json', body: JSON.stringify({ readings }) };
}
