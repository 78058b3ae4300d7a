import type { DbOrTrx } from '../../db/database.js';
import { AppError } from '../../http/errors/catalogue.js';

/** Most readings one range read may decode (about 50 MB of working memory). */
export const MAX_RANGE_READINGS = 2_000_000;

import { decodeChunk, type SeriesRun } from './chunk-codec.js';
import { decodeLogBlock, type LogBlock } from './log-codec.js';

export interface LogEntry {
  readonly id: number;
  readonly block: LogBlock;
}

/**
 * Decoded log entries by id. Entries never change once committed (compaction deletes them
 * whole), so a cached decode is always right; the cache only saves fetching and decoding the same
 * batches for every query while they wait for compaction.
 */
export class LogCache {
  private readonly blocks = new Map<number, LogBlock>();
  private readings = 0;

  constructor(private readonly maxReadings = 4_000_000) {}

  get(id: number): LogBlock | undefined {
    return this.blocks.get(id);
  }

  set(id: number, block: LogBlock): void {
    if (this.blocks.has(id)) return;
    this.blocks.set(id, block);
    this.readings += block.count;
    // Oldest ids first (Map order is insertion order, and ids are fetched in order).
    for (const [old, b] of this.blocks) {
      if (this.readings <= this.maxReadings) break;
      this.blocks.delete(old);
      this.readings -= b.count;
    }
  }

  /** Drops entries below the oldest id still in the log (compacted, here or by another instance). */
  pruneBelow(id: number): void {
    for (const [old, b] of this.blocks) {
      if (old >= id) break;
      this.blocks.delete(old);
      this.readings -= b.count;
    }
  }
}

/** Log entries (oldest first) whose time span meets [from, to]; all of them without bounds. */
export async function readLog(
  db: DbOrTrx,
  range: { from?: number; to?: number; limit?: number } = {},
  cache?: LogCache,
): Promise<LogEntry[]> {
  const listed = await db
    .selectFrom('reading_log')
    .select('id')
    .$if(range.from !== undefined, (q) => q.where('max_ts', '>=', range.from!))
    .$if(range.to !== undefined, (q) => q.where('min_ts', '<=', range.to!))
    .orderBy('id')
    .$if(range.limit !== undefined, (q) => q.limit(range.limit!))
    .execute();
  const ids = listed.map((r) => Number(r.id));
  if (cache && range.from === undefined && range.to === undefined && ids.length > 0)
    cache.pruneBelow(ids[0]!);
  const missing = cache ? ids.filter((id) => !cache.get(id)) : ids;
  const fetched = new Map<number, LogBlock>();
  for (let i = 0; i < missing.length; i += 200) {
    const rows = await db
      .selectFrom('reading_log')
      .select(['id', 'data'])
      .where('id', 'in', missing.slice(i, i + 200))
      .execute();
    for (const r of rows) {
      const block = decodeLogBlock(r.data);
      fetched.set(Number(r.id), block);
    }
  }
  const out: LogEntry[] = [];
  for (const id of ids) {
    // Missing from both: compacted between the two reads (then it is in the chunks, read after).
    const block = fetched.get(id) ?? cache?.get(id);
    if (!block) continue;
    if (cache && fetched.has(id)) cache.set(id, block);
    out.push({ id, block });
  }
  return out;
}

export async function logStats(
  db: DbOrTrx,
): Promise<{ entries: number; readings: number; oldest: number | null }> {
  const row = await db
    .selectFrom('reading_log')
    .select((eb) => [
      eb.fn.countAll<number>().as('entries'),
      eb.fn.sum<number>('count').as('readings'),
      eb.fn.min<number>('created_at').as('oldest'),
    ])
    .executeTakeFirstOrThrow();
  return {
    entries: Number(row.entries),
    readings: Number(row.readings ?? 0),
    oldest: row.oldest === null ? null : Number(row.oldest),
  };
}

export interface ChunkRow {
  readonly seriesId: number;
  readonly startTs: number;
  readonly endTs: number;
  readonly count: number;
  readonly data: Uint8Array;
}

/** A reading_chunks row (without the aggregates) as the storage code uses it. */
export function toChunkRow(r: {
  series_id: number;
  start_ts: number;
  end_ts: number;
  count: number;
  data: Uint8Array;
}): ChunkRow {
  return {
    seriesId: r.series_id,
    startTs: Number(r.start_ts),
    endTs: Number(r.end_ts),
    count: r.count,
    data: r.data,
  };
}

/** Chunks of a series that overlap [from, to], in time order. */
export async function readChunks(
  db: DbOrTrx,
  seriesId: number,
  from: number,
  to: number,
): Promise<ChunkRow[]> {
  const rows = await db
    .selectFrom('reading_chunks')
    .select(['series_id', 'start_ts', 'end_ts', 'count', 'data'])
    .where('series_id', '=', seriesId)
    .where('start_ts', '<=', to)
    .where('end_ts', '>=', from)
    .orderBy('start_ts')
    .execute();
  return rows.map(toChunkRow);
}

/**
 * One series' stored readings in [from, to], time order, each timestamp once: compacted chunks
 * first, then the log in commit order (the first write of a timestamp wins everywhere). Needs no
 * transaction: compaction is atomic and the reads are ordered so none of its effects is missed.
 */
export async function readSeriesRange(
  db: DbOrTrx,
  seriesId: number,
  from: number,
  to: number,
  cache?: LogCache,
): Promise<SeriesRun> {
  return (await readSeriesRanges(db, new Map([[seriesId, { from, to }]]), cache)).get(seriesId)!;
}

/**
 * Several series' readings, each in its own [from, to], with one pass over the log and one
 * chunk query (per 500 series) instead of one of each per series.
 */
export async function readSeriesRanges(
  db: DbOrTrx,
  wanted: ReadonlyMap<number, { from: number; to: number }>,
  cache?: LogCache,
  attempt = 1,
): Promise<Map<number, SeriesRun>> {
  const out = new Map<number, SeriesRun>();
  if (wanted.size === 0) return out;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const w of wanted.values()) {
    if (w.from < from) from = w.from;
    if (w.to > to) to = w.to;
  }
  // Log first, then chunks: a compaction committing in between moves entries into chunks, where
  // the second read still finds them (reading in the other order could miss them).
  const log = await readLog(db, { from, to }, cache);
  const ids = [...wanted.keys()];
  // Which chunks overlap each series' own range, and how many readings they hold, before any
  // chunk data is fetched: one series' long range does not widen the read for the others.
  const keep: { seriesId: number; startTs: number; count: number }[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('reading_chunks')
      .select(['series_id', 'start_ts', 'end_ts', 'count'])
      .where('series_id', 'in', ids.slice(i, i + 500))
      .where('start_ts', '<=', to)
      .where('end_ts', '>=', from)
      .execute();
    for (const r of rows) {
      const w = wanted.get(Number(r.series_id))!;
      if (Number(r.start_ts) <= w.to && Number(r.end_ts) >= w.from)
        keep.push({ seriesId: Number(r.series_id), startTs: Number(r.start_ts), count: Number(r.count) });
    }
  }
  // Counted before decoding anything: one query never holds more than this in memory.
  const stored = keep.reduce((n, c) => n + c.count, 0);
  if (stored > MAX_RANGE_READINGS) {
    throw new AppError(
      'UNPROCESSABLE',
      `This range holds more than ${MAX_RANGE_READINGS} readings; ask for a shorter range (or a wider bucket)`,
      { fields: { limit: MAX_RANGE_READINGS } },
    );
  }
  const bySeries = new Map<number, number[]>();
  for (const c of keep) {
    const list = bySeries.get(c.seriesId) ?? [];
    if (list.length === 0) bySeries.set(c.seriesId, list);
    list.push(c.startTs);
  }
  const chunks: ChunkRow[] = [];
  const groups = [...bySeries];
  // A compaction between the two reads may have replaced a listed chunk (a backfill can move a
  // chunk's start): then read again, rather than return a range with a hole.
  let replaced = false;
  for (let i = 0; i < groups.length; i += 100) {
    const part = groups.slice(i, i + 100);
    const rows = await db
      .selectFrom('reading_chunks')
      .select(['series_id', 'start_ts', 'end_ts', 'count', 'data'])
      .where((eb) =>
        eb.or(
          part.map(([series, starts]) =>
            eb.and([eb('series_id', '=', series), eb('start_ts', 'in', starts)]),
          ),
        ),
      )
      .orderBy('series_id')
      .orderBy('start_ts')
      .execute();
    const expected = part.reduce((n, [, starts]) => n + starts.length, 0);
    if (rows.length < expected) replaced = true;
    chunks.push(...rows.map(toChunkRow));
  }
  if (replaced) {
    if (attempt >= 3) throw new Error('reading chunks changed under three reads in a row');
    return readSeriesRanges(db, wanted, cache, attempt + 1);
  }
  interface Acc {
    readonly from: number;
    readonly to: number;
    readonly ts: number[];
    readonly value: number[];
    readonly quality: number[];
    readonly seen: Set<number>;
    chunkCount: number;
    sorted: boolean;
  }
  const acc = new Map<number, Acc>();
  for (const [id, w] of wanted) {
    acc.set(id, { ...w, ts: [], value: [], quality: [], seen: new Set(), chunkCount: 0, sorted: true });
  }
  const push = (a: Acc, t: number, v: number, q: number) => {
    if (t < a.from || t > a.to || a.seen.has(t)) return;
    a.seen.add(t);
    a.ts.push(t);
    a.value.push(v);
    a.quality.push(q);
  };
  for (const c of chunks) {
    const a = acc.get(c.seriesId)!;
    const run = decodeChunk(c.data);
    for (let i = 0; i < run.ts.length; i++) push(a, run.ts[i]!, run.value[i]!, run.quality[i]!);
  }
  for (const a of acc.values()) a.chunkCount = a.ts.length;
  for (const { block } of log) {
    for (let i = 0; i < block.count; i++) {
      const a = acc.get(block.series[i]!);
      if (!a) continue;
      const t = block.ts[i]!;
      if (a.sorted && a.ts.length > 0 && t < a.ts[a.ts.length - 1]!) a.sorted = false;
      push(a, t, block.value[i]!, block.quality[i]!);
    }
  }
  for (const [id, a] of acc) {
    const { ts, value, quality } = a;
    if (a.sorted || ts.length === a.chunkCount) {
      out.set(id, {
        ts: Float64Array.from(ts),
        value: Float64Array.from(value),
        quality: Uint8Array.from(quality),
      });
      continue;
    }
    const order = ts.map((_, i) => i).sort((x, y) => ts[x]! - ts[y]!);
    out.set(id, {
      ts: Float64Array.from(order, (i) => ts[i]!),
      value: Float64Array.from(order, (i) => value[i]!),
      quality: Uint8Array.from(order, (i) => quality[i]!),
    });
  }
  return out;
}

/**
 * Which of the given (series, timestamp) pairs are already stored, as `series:ts` strings. The
 * exact duplicate check for readings not newer than their series' watermark.
 */
export async function findStored(
  db: DbOrTrx,
  wanted: ReadonlyMap<number, readonly number[]>,
  cache?: LogCache,
): Promise<Set<string>> {
  const found = new Set<string>();
  if (wanted.size === 0) return found;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  const sets = new Map<number, Set<number>>();
  for (const [s, list] of wanted) {
    sets.set(s, new Set(list));
    for (const t of list) {
      if (t < from) from = t;
      if (t > to) to = t;
    }
  }
  // Log first, then chunks (see readSeriesRange).
  for (const { block } of await readLog(db, { from, to }, cache)) {
    for (let i = 0; i < block.count; i++) {
      const s = block.series[i]!;
      const t = block.ts[i]!;
      if (sets.get(s)?.has(t)) found.add(`${s}:${t}`);
    }
  }
  for (const [s, ts] of sets) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const t of ts) {
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    for (const c of await readChunks(db, s, lo, hi)) {
      const run = decodeChunk(c.data);
      for (const t of run.ts) if (ts.has(t)) found.add(`${s}:${t}`);
    }
  }
  return found;
}
