import type { Db } from '../db/database.js';
import type { SensorDirectory, SensorInfo } from './validate.js';

interface Entry {
  readonly info: SensorInfo | null;
  readonly expires: number;
}

/**
 * The registry as ingestion sees it: sensors by id or key with their type's valid range and
 * their device's status, read from the database in one query per batch and cached in process
 * (including misses, so a device hammering an unknown key costs no queries). Registry changes
 * in this process call `invalidate`; other instances see them within `ttlMs`.
 */
export class DbSensorDirectory implements SensorDirectory {
  private readonly cache = new Map<string, Entry>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly db: Db,
    private readonly opts: { ttlMs: number; maxEntries: number } = { ttlMs: 30_000, maxEntries: 200_000 },
    private readonly clock: () => number = Date.now,
  ) {}

  async resolve(tenantId: string, refs: readonly string[]): Promise<Map<string, SensorInfo>> {
    const now = this.clock();
    const out = new Map<string, SensorInfo>();
    const missing: string[] = [];
    for (const ref of refs) {
      const hit = this.cache.get(`${tenantId}\u0000${ref}`);
      if (hit && hit.expires > now) {
        this.hits++;
        if (hit.info) out.set(ref, hit.info);
      } else {
        this.misses++;
        missing.push(ref);
      }
    }
    for (let i = 0; i < missing.length; i += 500) {
      const chunk = missing.slice(i, i + 500);
      const rows = await this.db
        .selectFrom('sensors')
        .innerJoin('sensor_types', 'sensor_types.id', 'sensors.type_id')
        .leftJoin('devices', 'devices.id', 'sensors.device_id')
        .select([
          'sensors.id',
          'sensors.key',
          'sensors.device_id',
          'sensors.status',
          'devices.status as device_status',
          'sensor_types.valid_min',
          'sensor_types.valid_max',
        ])
        .where('sensors.tenant_id', '=', tenantId)
        .where((eb) => eb.or([eb('sensors.id', 'in', chunk), eb('sensors.key', 'in', chunk)]))
        .execute();
      const found = new Map<string, SensorInfo>();
      for (const r of rows) {
        const info: SensorInfo = {
          id: r.id,
          key: r.key,
          deviceId: r.device_id,
          deviceStatus: r.device_status ?? null,
          active: r.status === 'active',
          validMin: r.valid_min === null ? null : Number(r.valid_min),
          validMax: r.valid_max === null ? null : Number(r.valid_max),
        };
        found.set(r.id, info);
        found.set(r.key, info);
      }
      for (const ref of chunk) {
        const info = found.get(ref) ?? null;
        this.remember(`${tenantId}\u0000${ref}`, { info, expires: now + this.opts.ttlMs });
        if (info) out.set(ref, info);
      }
    }
    return out;
  }

  /** Forget a tenant's cached sensors (after a registry change in this process). */
  invalidate(tenantId: string): void {
    const prefix = `${tenantId}\u0000`;
    for (const key of this.cache.keys()) if (key.startsWith(prefix)) this.cache.delete(key);
  }

  private remember(key: string, entry: Entry): void {
    if (this.cache.size >= this.opts.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, entry);
  }
}
