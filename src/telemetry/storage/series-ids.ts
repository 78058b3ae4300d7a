import type { Db } from '../../db/database.js';
import { ensureSeries, findSeries } from './series.repository.js';

/**
 * Sensor id → series id, cached in process (a sensor's series never changes; a deleted sensor's
 * id never comes back). Ingestion creates missing series; queries only look them up.
 */
export class SeriesIds {
  private readonly map = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly maxEntries = 1_000_000,
  ) {}

  get(sensorId: string): number | undefined {
    return this.map.get(sensorId);
  }

  /** Creates the series of sensors that have none yet. */
  async ensure(tenantId: string, sensorIds: readonly string[], now: number): Promise<void> {
    const missing = [...new Set(sensorIds)].filter((id) => !this.map.has(id));
    if (missing.length === 0) return;
    for (const [sensor, series] of await ensureSeries(this.db, tenantId, missing, now))
      this.remember(sensor, series);
  }

  /** Series of the given sensors that have one (sensors without readings have none). */
  async lookup(sensorIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const missing: string[] = [];
    for (const id of new Set(sensorIds)) {
      const s = this.map.get(id);
      if (s === undefined) missing.push(id);
      else out.set(id, s);
    }
    if (missing.length > 0) {
      for (const r of await findSeries(this.db, { sensorIds: missing })) {
        this.remember(r.sensorId, r.id);
        out.set(r.sensorId, r.id);
      }
    }
    return out;
  }

  private remember(sensorId: string, seriesId: number): void {
    if (this.map.size >= this.maxEntries) this.map.clear();
    this.map.set(sensorId, seriesId);
  }
}
