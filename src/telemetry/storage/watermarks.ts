import type { Db } from '../../db/database.js';
import { type LogCache, readLog } from './readings.repository.js';
import { findSeries } from './series.repository.js';

/**
 * The newest stored timestamp of each series, kept in memory so that the common case — a reading
 * newer than anything stored — is known to be new without touching the database. Older readings
 * (backfill, retries) take the exact path: a lookup in storage.
 *
 * Loaded lazily: the log is scanned once, then each series' compacted maximum is read on first
 * use. Raised before a commit (so concurrent requests see the reservation) and left raised if
 * the commit fails: an over-estimate only sends a few more readings down the exact path.
 */
export class Watermarks {
  private readonly max = new Map<number, number>();
  private logMax: Map<number, number> | null = null;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly logCache?: LogCache,
  ) {}

  async ensure(seriesIds: Iterable<number>): Promise<void> {
    if (!this.logMax) {
      this.loading ??= this.scanLog();
      await this.loading;
    }
    const missing = [...new Set(seriesIds)].filter((s) => !this.max.has(s));
    if (missing.length === 0) return;
    const rows = await findSeries(this.db, { ids: missing });
    const found = new Map(rows.map((r) => [r.id, r.lastTs ?? Number.NEGATIVE_INFINITY]));
    for (const s of missing) {
      if (this.max.has(s)) continue;
      const m = Math.max(
        found.get(s) ?? Number.NEGATIVE_INFINITY,
        this.logMax!.get(s) ?? Number.NEGATIVE_INFINITY,
      );
      this.max.set(s, m);
    }
  }

  /** Only for series passed to `ensure` first. */
  get(seriesId: number): number {
    return this.max.get(seriesId) ?? Number.POSITIVE_INFINITY;
  }

  raise(seriesId: number, ts: number): void {
    if (ts > (this.max.get(seriesId) ?? Number.NEGATIVE_INFINITY)) this.max.set(seriesId, ts);
  }

  private async scanLog(): Promise<void> {
    const logMax = new Map<number, number>();
    for (const { block } of await readLog(this.db, {}, this.logCache)) {
      for (let i = 0; i < block.count; i++) {
        const s = block.series[i]!;
        const t = block.ts[i]!;
        if (t > (logMax.get(s) ?? Number.NEGATIVE_INFINITY)) logMax.set(s, t);
      }
    }
    this.logMax = logMax;
  }
}
