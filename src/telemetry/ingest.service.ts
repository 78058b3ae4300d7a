import { createHash } from 'node:crypto';
import type { Db } from '../db/database.js';
import { AppError } from '../http/errors/catalogue.js';
import type { ItemRejection, ParsedBatch } from './formats/batch.js';
import { IngestCounts } from './ingest-counts.js';
import { IngestRate } from './ingest-rate.js';
import type { QueryCache } from './query/query-cache.js';
import type { GroupCommitter, RequestTicket } from './storage/group-commit.js';
import type { LogBlock } from './storage/log-codec.js';
import { findStored, type LogCache } from './storage/readings.repository.js';
import { RecentIndex } from './storage/recent-index.js';
import type { SeriesIds } from './storage/series-ids.js';
import type { Watermarks } from './storage/watermarks.js';
import { type IngestLimits, type IngestSource, type SensorDirectory, validateBatch } from './validate.js';

export interface IngestResult {
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: ItemRejection[];
}

export interface IngestDeps {
  readonly db: Db;
  readonly directory: SensorDirectory;
  readonly committer: GroupCommitter;
  readonly watermarks: Watermarks;
  readonly cache: QueryCache;
  readonly limits: IngestLimits;
  readonly logCache?: LogCache;
  readonly seriesIds: SeriesIds;
  readonly clock?: () => number;
  /** Takes `count` readings from the tenant's ingestion budget; throws 429 when it is spent. */
  readonly budget?: (tenantId: string, count: number) => Promise<void>;
}

const ACCEPT = 1;
const DUPLICATE = 2;

/**
 * Validated readings into durable storage. Returns only after the commit holding them (so a
 * 2xx means stored); a reading already stored for the same sensor and timestamp is counted as a
 * duplicate and not stored again.
 *
 * Duplicate detection has a fast path and an exact path. A reading newer than its series'
 * watermark is new. Anything else is reserved (so a concurrent request sending the same reading
 * waits for this one), waits for the requests in flight before it that write the same series, and
 * is then looked up among this instance's recent commits (RecentIndex) or, when older, in storage.
 */
/** Told of every committed reading; a returned promise holds the acknowledgement (backpressure). */
export type StoredListener = (
  tenantId: string,
  sensorIds: readonly string[],
  ts: Float64Array,
  value: Float64Array,
) => Promise<void> | undefined;

export class IngestService {
  /** Detection's hook (set once the pipeline exists). */
  onStored: StoredListener | undefined;

  /** `series:ts` of readings on the exact path, to the settlement of the request holding them. */
  private readonly reserved = new Map<string, Promise<void>>();
  private readonly inflightKeys = new Map<string, Promise<unknown>>();
  /** What this instance committed recently, so the exact path rarely needs storage. */
  private readonly recent: RecentIndex;

  constructor(private readonly deps: IngestDeps) {
    this.recent = new RecentIndex((s) => deps.watermarks.get(s));
  }

  /** What ingest() answered since start (monitoring and self-monitoring). */
  readonly counts = new IngestCounts();
  /** Readings accepted per tenant per second (the control room's rate; shared through Redis). */
  readonly rate = new IngestRate();
  /** Answers replayed from an earlier request with the same Idempotency-Key. */
  private readonly replayed = new WeakSet<IngestResult>();

  async ingest(
    source: IngestSource,
    batch: ParsedBatch,
    opts: { receivedAt: number; idempotencyKey?: string; bodyHash?: string },
  ): Promise<IngestResult> {
    try {
      const result = await this.ingestCounted(source, batch, opts);
      // A replayed answer (a retry with the same Idempotency-Key) stored nothing this time.
      if (!this.replayed.has(result)) {
        this.counts.stored(result);
        this.rate.add(source.tenantId, result.accepted);
      }
      return result;
    } catch (err) {
      this.counts.refused(batch, err);
      throw err;
    }
  }

  private async ingestCounted(
    source: IngestSource,
    batch: ParsedBatch,
    opts: { receivedAt: number; idempotencyKey?: string; bodyHash?: string },
  ): Promise<IngestResult> {
    if (!opts.idempotencyKey) return this.store(source, batch, opts.receivedAt);
    const id = `${source.tenantId}\u0000${opts.idempotencyKey}`;
    // A retry racing with the original waits for it rather than storing the batch twice.
    while (this.inflightKeys.has(id)) await this.inflightKeys.get(id)!.catch(() => undefined);
    const run = this.withIdempotency(
      source,
      batch,
      opts.receivedAt,
      opts.idempotencyKey,
      opts.bodyHash ?? '',
    );
    this.inflightKeys.set(id, run);
    try {
      return await run;
    } finally {
      this.inflightKeys.delete(id);
    }
  }

  /** Parse and validate only (the dry-run endpoint): what would be accepted, nothing stored. */
  async check(source: IngestSource, batch: ParsedBatch, receivedAt: number): Promise<IngestResult> {
    const v = await validateBatch(batch, source, this.deps.directory, receivedAt, this.deps.limits);
    if (v.count === 0) throw allRejected(v.rejected);
    return { accepted: v.count, duplicates: 0, rejected: v.rejected };
  }

  private async withIdempotency(
    source: IngestSource,
    batch: ParsedBatch,
    receivedAt: number,
    key: string,
    bodyHash: string,
  ): Promise<IngestResult> {
    const previous = await this.deps.db
      .selectFrom('ingest_requests')
      .select('response')
      .where('tenant_id', '=', source.tenantId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    if (previous) {
      const saved = JSON.parse(previous.response) as { hash: string; result: IngestResult };
      if (saved.hash !== bodyHash) {
        throw new AppError(
          'CONFLICT',
          'This Idempotency-Key was already used with a different request body',
          {
            fields: { idempotencyKey: key },
          },
        );
      }
      this.replayed.add(saved.result);
      return saved.result;
    }
    return this.store(source, batch, receivedAt, (result) => ({
      key,
      response: JSON.stringify({ hash: bodyHash, result }),
    }));
  }

  private async store(
    source: IngestSource,
    batch: ParsedBatch,
    receivedAt: number,
    remember?: (result: IngestResult) => { key: string; response: string },
  ): Promise<IngestResult> {
    const { committer, watermarks } = this.deps;
    await this.deps.budget?.(source.tenantId, batch.count + batch.rejected.length);
    const v = await validateBatch(batch, source, this.deps.directory, receivedAt, this.deps.limits);
    const refusedOnly = {
      tenantId: source.tenantId,
      block: null,
      devicesSeen: [],
      refused: v.quarantinedRefusals,
    };
    if (v.count === 0) {
      if (v.quarantinedRefusals.size > 0) await committer.commit(refusedOnly);
      throw allRejected(v.rejected);
    }
    const { seriesIds } = this.deps;
    await seriesIds.ensure(source.tenantId, v.sensorId, (this.deps.clock ?? Date.now)());
    const series = new Int32Array(v.count);
    for (let j = 0; j < v.count; j++) series[j] = seriesIds.get(v.sensorId[j]!)!;
    await watermarks.ensure(series);

    // Synchronous from here to the first await (in exactPath): the watermark check and raise,
    // and registering this request as in flight, are atomic.
    const state = new Uint8Array(v.count);
    const exact: number[] = [];
    for (let j = 0; j < v.count; j++) {
      const s = series[j]!;
      const t = v.ts[j]!;
      if (t > watermarks.get(s)) {
        state[j] = ACCEPT;
        watermarks.raise(s, t);
      } else {
        exact.push(j);
      }
    }
    const ticket = committer.open(
      series,
      exact.map((j) => series[j]!),
    );
    const mine: string[] = [];
    try {
      if (exact.length > 0) await this.exactPath(exact, series, v.ts, state, ticket, mine);

      let accepted = 0;
      for (let j = 0; j < v.count; j++) if (state[j] === ACCEPT) accepted++;
      const duplicates = v.count - accepted;
      const result: IngestResult = { accepted, duplicates, rejected: v.rejected };
      const block: LogBlock = {
        count: accepted,
        series: new Int32Array(accepted),
        ts: new Float64Array(accepted),
        value: new Float64Array(accepted),
        quality: new Uint8Array(accepted),
      };
      const touched = new Set<number>();
      const sensorIds: string[] = new Array(accepted);
      for (let j = 0, k = 0; j < v.count; j++) {
        if (state[j] !== ACCEPT) continue;
        sensorIds[k] = v.sensorId[j]!;
        (block.series as Int32Array)[k] = series[j]!;
        (block.ts as Float64Array)[k] = v.ts[j]!;
        (block.value as Float64Array)[k] = v.value[j]!;
        (block.quality as Uint8Array)[k] = v.quality[j]!;
        touched.add(series[j]!);
        k++;
      }
      await committer.commit({
        tenantId: source.tenantId,
        block: accepted > 0 ? block : null,
        devicesSeen: [...v.devicesSeen],
        refused: v.quarantinedRefusals,
        idempotency: remember?.(result),
      });
      // Before the ticket settles: requests waiting on it then find these readings here.
      if (accepted > 0) this.recent.addCommitted(block.series, block.ts);
      await this.deps.cache.bump(touched);
      if (accepted > 0 && this.onStored) {
        const room = this.onStored(
          source.tenantId,
          sensorIds,
          block.ts as Float64Array,
          block.value as Float64Array,
        );
        if (room) await room;
      }
      return result;
    } finally {
      for (const key of mine) this.reserved.delete(key);
      ticket.close();
    }
  }

  private async exactPath(
    exact: readonly number[],
    series: Int32Array,
    ts: Float64Array,
    state: Uint8Array,
    ticket: RequestTicket,
    mine: string[],
  ): Promise<void> {
    const slowSeries = new Set(exact.map((j) => series[j]!));
    const inBatch = new Set<string>();
    for (let j = 0; j < state.length; j++) {
      if (state[j] === ACCEPT && slowSeries.has(series[j]!)) inBatch.add(`${series[j]}:${ts[j]}`);
    }
    const waits: Promise<void>[] = [];
    const candidates: number[] = [];
    for (const j of exact) {
      const key = `${series[j]}:${ts[j]}`;
      if (inBatch.has(key)) {
        state[j] = DUPLICATE;
        continue;
      }
      inBatch.add(key);
      const other = this.reserved.get(key);
      if (other) waits.push(other);
      else {
        this.reserved.set(key, ticket.settled);
        mine.push(key);
      }
      candidates.push(j);
    }
    await ticket.barrier();
    await Promise.all(waits);
    const wanted = new Map<number, number[]>();
    const inStorage: number[] = [];
    for (const j of candidates) {
      const s = series[j]!;
      if (this.recent.covers(s, ts[j]!)) {
        state[j] = this.recent.has(s, ts[j]!) ? DUPLICATE : ACCEPT;
        continue;
      }
      inStorage.push(j);
      const list = wanted.get(s) ?? [];
      if (list.length === 0) wanted.set(s, list);
      list.push(ts[j]!);
    }
    const stored = await findStored(this.deps.db, wanted, this.deps.logCache);
    for (const j of inStorage) state[j] = stored.has(`${series[j]}:${ts[j]}`) ? DUPLICATE : ACCEPT;
  }
}

function allRejected(rejected: readonly ItemRejection[]): AppError {
  return new AppError('UNPROCESSABLE', `None of the ${rejected.length} readings could be accepted`, {
    fields: { accepted: 0, duplicates: 0, rejected },
  });
}

export function hashBody(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('base64url');
}

/** 413 when a parsed batch holds more items (accepted or refused) than one request or message may. */
export function assertReadingCount(batch: ParsedBatch, max: number, per: 'request' | 'message'): void {
  const items = batch.count + batch.rejected.length;
  if (items > max) {
    throw new AppError('PAYLOAD_TOO_LARGE', `At most ${max} readings per ${per} (got ${items})`, {
      fields: { limit: max, received: items },
    });
  }
}
