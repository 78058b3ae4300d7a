import type { Db } from '../../db/database.js';
import type { SeriesRun } from '../storage/chunk-codec.js';
import { type LogCache, readLog, readSeriesRange, readSeriesRanges } from '../storage/readings.repository.js';
import { findSeries } from '../storage/series.repository.js';
import { aggregate, type Bucket } from './aggregate.js';
import type { QueryCache } from './query-cache.js';

export interface Latest {
  readonly seriesId: number;
  readonly ts: number;
  readonly value: number;
  readonly quality: number;
}

/**
 * Reads for the API: raw ranges, bucketed aggregates and latest values. Aggregates and latest
 * values go through the versioned cache (see QueryCache), so they are never staler than the last
 * committed write.
 */
export class QueryService {
  constructor(
    private readonly db: Db,
    private readonly cache: QueryCache,
    private readonly logCache?: LogCache,
  ) {}

  range(seriesId: number, from: number, to: number): Promise<SeriesRun> {
    return readSeriesRange(this.db, seriesId, from, to, this.logCache);
  }

  /** Several series, each in its own range, read together (detection warms many sensors at once). */
  ranges(wanted: ReadonlyMap<number, { from: number; to: number }>): Promise<Map<number, SeriesRun>> {
    return readSeriesRanges(this.db, wanted, this.logCache);
  }

  async aggregate(seriesId: number, from: number, to: number, width: number): Promise<Bucket[]> {
    const [version] = await this.cache.versions([seriesId]);
    const key = `agg:${seriesId}:${version}:${from}:${to}:${width}`;
    if (version! >= 0) {
      const [hit] = await this.cache.getMany([key]);
      if (hit) return JSON.parse(hit) as Bucket[];
    }
    const buckets = aggregate(
      await readSeriesRange(this.db, seriesId, from, to - 1, this.logCache),
      from,
      to,
      width,
    );
    if (version! >= 0) await this.cache.setMany([[key, JSON.stringify(buckets)]]);
    return buckets;
  }

  /** The newest reading of each series (absent when it has none). */
  async latest(seriesIds: readonly number[]): Promise<Map<number, Latest>> {
    const out = new Map<number, Latest>();
    if (seriesIds.length === 0) return out;
    const versions = await this.cache.versions(seriesIds);
    const keys = seriesIds.map((s, i) => `lt:${s}:${versions[i]}`);
    const hits = await this.cache.getMany(keys.filter((_, i) => versions[i]! >= 0));
    const missing: number[] = [];
    let h = 0;
    seriesIds.forEach((s, i) => {
      const hit = versions[i]! >= 0 ? hits[h++] : null;
      if (hit === null || hit === undefined) missing.push(s);
      else if (hit !== '-') out.set(s, JSON.parse(hit) as Latest);
    });
    if (missing.length === 0) return out;

    // Log first, then the compacted values (see readSeriesRange for why this order).
    const wanted = new Set(missing);
    const fromLog = new Map<number, Latest>();
    for (const { block } of await readLog(this.db, {}, this.logCache)) {
      for (let i = 0; i < block.count; i++) {
        const s = block.series[i]!;
        if (!wanted.has(s)) continue;
        const t = block.ts[i]!;
        const cur = fromLog.get(s);
        if (!cur || t > cur.ts)
          fromLog.set(s, { seriesId: s, ts: t, value: block.value[i]!, quality: block.quality[i]! });
      }
    }
    const rows = await findSeries(this.db, { ids: missing });
    const fromChunks = new Map(rows.map((r) => [r.id, r]));
    const fresh: [string, string][] = [];
    const position = new Map(seriesIds.map((s, i) => [s, i]));
    for (const s of missing) {
      const r = fromChunks.get(s);
      const compacted =
        r && r.lastTs !== null
          ? { seriesId: s, ts: r.lastTs, value: r.lastValue!, quality: r.lastQuality ?? 0 }
          : undefined;
      const log = fromLog.get(s);
      const best = log && (!compacted || log.ts > compacted.ts) ? log : compacted;
      if (best) out.set(s, best);
      const i = position.get(s)!;
      if (versions[i]! >= 0) fresh.push([keys[i]!, best ? JSON.stringify(best) : '-']);
    }
    await this.cache.setMany(fresh);
    return out;
  }
}
