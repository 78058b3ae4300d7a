import type { Db } from '../db/database.js';
import type { SensorDirectory, SensorInfo } from './validate.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
  /** Per tenant, by reference (id or key): no key building per reading on the hot path. */
  private readonly cache = new Map<string, Map<string, Entry>>();
  private size = 0;
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
    const tenant = this.cache.get(tenantId);
    for (const ref of refs) {
      // No sensor id or key is longer: not worth a lookup, nor a cache entry.
      if (ref.length > 128) continue;
      const hit = tenant?.get(ref);
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
        // A UUID-shaped reference may be an id or a key; anything else can only be a key. Keeping
        // the `or` to the few that need it lets the (tenant, key) index answer the rest.
        .where((eb) => {
          const ids = chunk.filter((r) => UUID.test(r));
          const byKey = eb('sensors.key', 'in', chunk);
          return ids.length > 0 ? eb.or([eb('sensors.id', 'in', ids), byKey]) : byKey;
        })
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
        this.remember(tenantId, ref, { info, expires: now + this.opts.ttlMs });
        if (info) out.set(ref, info);
      }
    }
    return out;
  }

  /** Forget a tenant's cached sensors (after a registry change in this process). */
  invalidate(tenantId: string): void {
    this.size -= this.cache.get(tenantId)?.size ?? 0;
    this.cache.delete(tenantId);
  }

  private remember(tenantId: string, ref: string, entry: Entry): void {
    if (this.size >= this.opts.maxEntries) {
      // Over the bound: drop the tenant cached first (Maps iterate in insertion order).
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.invalidate(oldest);
    }
    let tenant = this.cache.get(tenantId);
    if (!tenant) {
      tenant = new Map();
      this.cache.set(tenantId, tenant);
    }
    if (!tenant.has(ref)) this.size++;
    tenant.set(ref, entry);
  }
}
