import type { TestApp } from './app.js';
import { loginAs, type Session, seedUser } from './identity.js';

export interface TelemetryFixture {
  readonly admin: Session;
  readonly tenantId: string;
  /** Authorization headers. */
  readonly deviceA: { authorization: string };
  readonly deviceB: { authorization: string };
  readonly apiKey: { authorization: string };
  readonly readOnlyKey: { authorization: string };
  readonly ids: Record<'type' | 'deviceA' | 'deviceB' | 'pA' | 'fA' | 'pB', string>;
}

/**
 * A tenant with a pressure type (valid 0–16 bar), two devices with credentials and sensors
 * `a/pressure`, `a/flow` (device A) and `b/pressure` (device B), an API key with telemetry:write
 * and one with only telemetry:read.
 */
export async function seedTelemetry(t: TestApp, tenant = 'water'): Promise<TelemetryFixture> {
  const u = await seedUser(t.services, { tenant, role: 'admin' });
  const admin = await loginAs(t.app, u.email);
  const post = async (url: string, payload: object) => {
    const res = await t.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: admin.auth, payload });
    if (res.statusCode !== 201) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  const type = (
    await post('/sensor-types', { key: 'pressure', name: 'Pressure', unit: 'bar', validMin: 0, validMax: 16 })
  ).id;
  const deviceA = (await post('/devices', { key: 'logger-a', name: 'Logger A' })).id;
  const deviceB = (await post('/devices', { key: 'logger-b', name: 'Logger B' })).id;
  const sensor = async (key: string, deviceId: string) =>
    (await post('/sensors', { key, name: key, typeId: type, deviceId })).id;
  const ids = {
    type,
    deviceA,
    deviceB,
    pA: await sensor('a/pressure', deviceA),
    fA: await sensor('a/flow', deviceA),
    pB: await sensor('b/pressure', deviceB),
  };
  const device = async (deviceId: string) => ({
    authorization: `Device ${(await post('/device-credentials', { deviceId })).token}`,
  });
  const key = async (permissions: string[]) => ({
    authorization: `Bearer ${(await post('/api-keys', { name: permissions.join('+'), permissions })).key}`,
  });
  return {
    admin,
    tenantId: u.tenant.id,
    deviceA: await device(deviceA),
    deviceB: await device(deviceB),
    apiKey: await key(['telemetry:write', 'telemetry:read']),
    readOnlyKey: await key(['telemetry:read']),
    ids,
  };
}
