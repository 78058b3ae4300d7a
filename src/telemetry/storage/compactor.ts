import { sql } from 'kysely';
import type { Db, DbOrTrx } from '../../db/database.js';
import { dialectOf } from '../../db/dialect.js';
import { decodeChunk, encodeChunk, type SeriesRun } from './chunk-codec.js';
import { type ChunkRow, type LogCache, readLog, toChunkRow } from './readings.repository.js';
import { findSeries, updateSeriesLast } from './series.repository.js';

export interface CompactionResult {
  readonly logEntries: number;
  readonly readings: number;
  /** Readings already stored (possible only when two instances accepted the same one). */
  readonly duplicates: number;
  /** Readings of series deleted since they were logged. */
  readonly dropped: number;
  readonly chunksWritten: number;
}

const EMPTY: CompactionResult = { logEntries: 0, readings: 0, duplicates: 0, dropped: 0, chunksWritten: 0 };
/** Also taken by retention, which deletes chunks a compaction might be rewriting. */
export const COMPACTION_LOCK = 7150004;
/** A tail chunk is extended only while it holds at most this many times the readings added. */
const APPEND_RATIO = 4;
/** …but a chunk smaller than this is always extended (small chunks compress and index poorly). */
const SMALL_CHUNK = 256;

/** One series' readings from the log, in log (commit) order. */
interface Pending {
  readonly ts: Float64Array;
  readonly value: Float64Array;
  readonly quality: Uint8Array;
  /** Filled so far (equals the lengths once grouping is done). */
  n: number;
}

/** Sorts by time keeping the first of equal timestamps; returns the run and how many were dropped. */
function sortUnique(p: Pending): { run: SeriesRun; dropped: number } {
  // Loggers send in time order: usually there is nothing to sort.
  let increasing = true;
  for (let i = 1; i < p.ts.length && increasing; i++) increasing = p.ts[i]! > p.ts[i - 1]!;
  if (increasing) return { run: p, dropped: 0 };
  const order = Array.from(p.ts, (_, i) => i).sort((a, b) => p.ts[a]! - p.ts[b]! || a - b);
  const keep = order.filter((i, k) => k === 0 || p.ts[i] !== p.ts[order[k - 1]!]);
  return {
    run: {
      ts: Float64Array.from(keep, (i) => p.ts[i]!),
      value: Float64Array.from(keep, (i) => p.value[i]!),
      quality: Uint8Array.from(keep, (i) => p.quality[i]!),
    },
    dropped: p.ts.length - keep.length,
  };
}

/** Merges `older` (wins on equal timestamps) with `newer`; both sorted and unique. */
function merge(older: SeriesRun, newer: SeriesRun): { run: SeriesRun; duplicates: number } {
  const n = older.ts.length + newer.ts.length;
  const ts = new Float64Array(n);
  const value = new Float64Array(n);
  const quality = new Uint8Array(n);
  let i = 0;
  let j = 0;
  let k = 0;
  let duplicates = 0;
  while (i < older.ts.length || j < newer.ts.length) {
    const a = i < older.ts.length ? older.ts[i]! : Number.POSITIVE_INFINITY;
    const b = j < newer.ts.length ? newer.ts[j]! : Number.POSITIVE_INFINITY;
    if (a <= b) {
      ts[k] = a;
      value[k] = older.value[i]!;
      quality[k++] = older.quality[i++]!;
      if (a === b) {
        j++;
        duplicates++;
      }
    } else {
      ts[k] = b;
      value[k] = newer.value[j]!;
      quality[k++] = newer.quality[j++]!;
    }
  }
  return {
    run: { ts: ts.subarray(0, k), value: value.subarray(0, k), quality: quality.subarray(0, k) },
    duplicates,
  };
}

function concatRuns(runs: readonly SeriesRun[]): SeriesRun {
  const n = runs.reduce((a, r) => a + r.ts.length, 0);
  const out = { ts: new Float64Array(n), value: new Float64Array(n), quality: new Uint8Array(n) };
  let at = 0;
  for (const r of runs) {
    out.ts.set(r.ts, at);
    out.value.set(r.value, at);
    out.quality.set(r.quality, at);
    at += r.ts.length;
  }
  return out;
}

/** The newest chunk of each series (where in-order data is appended). */
async function readTails(db: DbOrTrx, seriesIds: readonly number[]): Promise<Map<number, ChunkRow>> {
  const out = new Map<number, ChunkRow>();
  for (let i = 0; i < seriesIds.length; i += 500) {
    const part = seriesIds.slice(i, i + 500);
    const rows = await db
      .selectFrom('reading_chunks as c')
      .select(['c.series_id', 'c.start_ts', 'c.end_ts', 'c.count', 'c.data'])
      .where('c.series_id', 'in', part)
      .where('c.start_ts', '=', (eb) =>
        eb
          .selectFrom('reading_chunks as c2')
          .select((e) => e.fn.max('c2.start_ts').as('m'))
          .whereRef('c2.series_id', '=', 'c.series_id'),
      )
      .execute();
    for (const r of rows) out.set(r.series_id, toChunkRow(r));
  }
  return out;
}

/** Chunks a run of [from, to] must merge with: the one it starts in (or after) and any it spans. */
async function readOverlapping(db: DbOrTrx, seriesId: number, from: number, to: number): Promise<ChunkRow[]> {
  const pred = await db
    .selectFrom('reading_chunks')
    .select((eb) => eb.fn.max('start_ts').as('m'))
    .where('series_id', '=', seriesId)
    .where('start_ts', '<=', from)
    .executeTakeFirst();
  const lower = pred?.m === null || pred?.m === undefined ? Number.NEGATIVE_INFINITY : Number(pred.m);
  const rows = await db
    .selectFrom('reading_chunks')
    .select(['series_id', 'start_ts', 'end_ts', 'count', 'data'])
    .where('series_id', '=', seriesId)
    .where('start_ts', '<=', to)
    .$if(Number.isFinite(lower), (q) => q.where('start_ts', '>=', lower))
    .orderBy('start_ts')
    .execute();
  return rows.map(toChunkRow);
}

function chunkValues(seriesId: number, run: SeriesRun, from: number, to: number) {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (let i = from; i < to; i++) {
    const v = run.value[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const part = {
    ts: run.ts.subarray(from, to),
    value: run.value.subarray(from, to),
    quality: run.quality.subarray(from, to),
  };
  return {
    series_id: seriesId,
    start_ts: run.ts[from]!,
    end_ts: run.ts[to - 1]!,
    count: to - from,
    min_value: min,
    max_value: max,
    sum_value: sum,
    data: encodeChunk(part),
  };
}

export interface CompactOptions {
  readonly maxEntries: number;
  readonly chunkReadings: number;
  readonly logCache?: LogCache;
}

interface Plan {
  /** Exactly the log rows read (PostgreSQL hands out ids at insert, not commit: never delete by range). */
  readonly logIds: number[];
  readonly result: CompactionResult;
  readonly rows: ReturnType<typeof chunkValues>[];
  /** Chunks replaced by a merge of late data, per series. */
  readonly replaced: Map<number, number[]>;
  readonly last: [number, number, number, number][];
}

const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));

/** Reads the oldest log entries and the chunks they extend, and computes the new chunks. */
async function plan(db: DbOrTrx, opts: CompactOptions): Promise<Plan | null> {
  const entries = await readLog(db, { limit: opts.maxEntries }, opts.logCache);
  if (entries.length === 0) return null;
  // Two passes: count per series, then fill typed arrays (no growing arrays of boxed numbers).
  const counts = new Map<number, number>();
  let readings = 0;
  for (const { block } of entries) {
    readings += block.count;
    for (let i = 0; i < block.count; i++) {
      const s = block.series[i]!;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
  }
  const groups = new Map<number, Pending>();
  for (const [s, n] of counts) {
    groups.set(s, { ts: new Float64Array(n), value: new Float64Array(n), quality: new Uint8Array(n), n: 0 });
  }
  for (const { block } of entries) {
    for (let i = 0; i < block.count; i++) {
      const g = groups.get(block.series[i]!)!;
      g.ts[g.n] = block.ts[i]!;
      g.value[g.n] = block.value[i]!;
      g.quality[g.n++] = block.quality[i]!;
    }
  }
  const live = new Set((await findSeries(db, { ids: [...groups.keys()] })).map((r) => r.id));
  let dropped = 0;
  for (const [s, g] of groups) {
    if (!live.has(s)) {
      dropped += g.ts.length;
      groups.delete(s);
    }
  }
  const tails = await readTails(db, [...groups.keys()]);

  const rows: ReturnType<typeof chunkValues>[] = [];
  const replaced = new Map<number, number[]>();
  const last: [number, number, number, number][] = [];
  let duplicates = 0;
  let done = 0;
  for (const [s, g] of groups) {
    // Compression is CPU work: let requests in between series.
    if (++done % 256 === 0) await yieldToEventLoop();
    const sorted = sortUnique(g);
    duplicates += sorted.dropped;
    const fresh = sorted.run;
    const tail = tails.get(s);
    let run: SeriesRun;
    if (!tail || fresh.ts[0]! > tail.endTs) {
      // In order: append to the newest chunk (same start_ts: the upsert replaces it) while it has
      // room and is small or not much bigger than what is added — rewriting a large chunk for a few
      // new readings would make every reading be rewritten many times.
      const append =
        tail !== undefined &&
        tail.count < opts.chunkReadings &&
        (tail.count < SMALL_CHUNK || tail.count <= APPEND_RATIO * fresh.ts.length);
      run = append ? concatRuns([decodeChunk(tail.data), fresh]) : fresh;
    } else {
      const old = await readOverlapping(db, s, fresh.ts[0]!, fresh.ts[fresh.ts.length - 1]!);
      const merged = merge(concatRuns(old.map((c) => decodeChunk(c.data))), fresh);
      duplicates += merged.duplicates;
      run = merged.run;
      if (old.length > 0)
        replaced.set(
          s,
          old.map((c) => c.startTs),
        );
    }
    for (let from = 0; from < run.ts.length; from += opts.chunkReadings) {
      rows.push(chunkValues(s, run, from, Math.min(run.ts.length, from + opts.chunkReadings)));
    }
    const n = run.ts.length - 1;
    last.push([s, run.ts[n]!, run.value[n]!, run.quality[n]!]);
  }
  return {
    logIds: entries.map((e) => e.id),
    result: { logEntries: entries.length, readings, duplicates, dropped, chunksWritten: rows.length },
    rows,
    replaced,
    last,
  };
}

/** Writes a plan: replaced chunks out, new chunks in, series' last values, compacted log entries gone. */
async function write(trx: DbOrTrx, p: Plan): Promise<void> {
  // A sensor deleted since the plan was made takes its series with it: skip its chunks.
  const live = new Set(
    (await findSeries(trx, { ids: [...new Set(p.rows.map((r) => r.series_id))] })).map((r) => r.id),
  );
  for (const [s, starts] of p.replaced) {
    if (!live.has(s)) continue;
    for (let i = 0; i < starts.length; i += 500) {
      await trx
        .deleteFrom('reading_chunks')
        .where('series_id', '=', s)
        .where('start_ts', 'in', starts.slice(i, i + 500))
        .execute();
    }
  }
  const rows = p.rows.filter((r) => live.has(r.series_id));
  for (let i = 0; i < rows.length; i += 200) {
    await trx
      .insertInto('reading_chunks')
      .values(rows.slice(i, i + 200))
      .onConflict((oc) =>
        oc.columns(['series_id', 'start_ts']).doUpdateSet((eb) => ({
          end_ts: eb.ref('excluded.end_ts'),
          count: eb.ref('excluded.count'),
          min_value: eb.ref('excluded.min_value'),
          max_value: eb.ref('excluded.max_value'),
          sum_value: eb.ref('excluded.sum_value'),
          data: eb.ref('excluded.data'),
        })),
      )
      .execute();
  }
  await updateSeriesLast(
    trx,
    p.last.filter(([s]) => live.has(s)),
  );
  for (let i = 0; i < p.logIds.length; i += 500) {
    await trx
      .deleteFrom('reading_log')
      .where('id', 'in', p.logIds.slice(i, i + 500))
      .execute();
  }
}

/**
 * Moves the oldest `maxEntries` log entries into per-series chunks: a series' new readings are
 * appended to its newest chunk while that has room (the usual, in-order case), or merged into the
 * chunks they fall among (late data); chunks hold at most `chunkReadings`. The first write of a
 * timestamp wins, as at ingestion.
 *
 * One compactor at a time. On PostgreSQL an advisory lock held by one transaction that reads,
 * computes and writes (MVCC: ingestion commits go on meanwhile). On SQLite, where a transaction
 * holds the only writer, the reads and the compression happen first, outside it, and only the
 * writes take the lock — safe because nothing but the compactor changes log entries or chunks
 * (the caller keeps compaction and retention apart), and sensor deletions are re-checked.
 */
export async function compactOnce(db: Db, opts: CompactOptions): Promise<CompactionResult> {
  if (dialectOf(db) === 'postgres') {
    return db.transaction().execute(async (trx) => {
      const lock = await sql<{
        ok: boolean;
      }>`select pg_try_advisory_xact_lock(${COMPACTION_LOCK}) as ok`.execute(trx);
      if (!lock.rows[0]?.ok) return EMPTY;
      const p = await plan(trx, opts);
      if (!p) return EMPTY;
      await write(trx, p);
      return p.result;
    });
  }
  const p = await plan(db, opts);
  if (!p) return EMPTY;
  await db.transaction().execute((trx) => write(trx, p));
  return p.result;
}
