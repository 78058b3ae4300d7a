import type { Db } from '../db/database.js';
import type { TenantQuotas } from './tenant.types.js';
import { findTenant } from './tenants.repository.js';

/** A tenant's quotas with the installation defaults filled in. */
export interface EffectiveQuotas {
  readonly ingestReadingsPerS: number;
  readonly mqttConnections: number;
}

/**
 * Effective quotas per tenant for the hot paths (every ingest request, every MQTT CONNECT),
 * cached for a few seconds: a change made here applies at once, one made on another instance
 * within `ttlMs`.
 */
export class TenantQuotaLookup {
  private readonly cache = new Map<string, { quotas: EffectiveQuotas; expires: number }>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly db: Db,
    private readonly defaults: EffectiveQuotas,
    private readonly ttlMs = 10_000,
  ) {}

  effective(quotas: TenantQuotas): EffectiveQuotas {
    return {
      ingestReadingsPerS: quotas.ingestReadingsPerS ?? this.defaults.ingestReadingsPerS,
      mqttConnections: quotas.mqttConnections ?? this.defaults.mqttConnections,
    };
  }

  async get(tenantId: string): Promise<EffectiveQuotas> {
    const hit = this.cache.get(tenantId);
    if (hit && hit.expires > Date.now()) {
      this.hits++;
      return hit.quotas;
    }
    this.misses++;
    const tenant = await findTenant(this.db, tenantId);
    const quotas = tenant ? this.effective(tenant.quotas) : this.defaults;
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(tenantId, { quotas, expires: Date.now() + this.ttlMs });
    return quotas;
  }

  invalidate(tenantId: string): void {
    this.cache.delete(tenantId);
  }
}
