import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Db } from '../db/database.js';
import { type IngestDeps, IngestService } from './ingest.service.js';
import { QueryService } from './query/query.service.js';
import { MemoryQueryCache, type QueryCache, RedisQueryCache } from './query/query-cache.js';
import type { DbSensorDirectory } from './sensor-directory.js';
import { type CompactionResult, compactOnce } from './storage/compactor.js';
import { GroupCommitter } from './storage/group-commit.js';
import { KyselyLogSink, type LogSink } from './storage/log-sink.js';
import { LogCache, logStats } from './storage/readings.repository.js';
import { SeriesIds } from './storage/series-ids.js';
import { Watermarks } from './storage/watermarks.js';

/**
 * Log rows per compaction slice: large, so each series gains many readings per chunk rewrite
 * (batches are up to 10,000 readings; a slice stays within a few million).
 */
const SLICE_ENTRIES = 2000;

/** The telemetry pipeline of one process: ingestion, storage upkeep and queries. */
export class Telemetry {
  readonly committer: GroupCommitter;
  readonly watermarks: Watermarks;
  readonly cache: QueryCache;
  readonly ingest: IngestService;
  readonly queries: QueryService;
  readonly logCache = new LogCache();
  readonly seriesIds: SeriesIds;
  /** Compaction and retention rewrite chunks: one at a time in this process. */
  private exclusive: Promise<unknown> = Promise.resolve();
  private compactTimer: NodeJS.Timeout | undefined;
  private compacting: Promise<void> | undefined;
  readonly counters = { compactions: 0, compactedReadings: 0, compactionDuplicates: 0, compactionErrors: 0 };

  constructor(
    private readonly db: Db,
    private readonly config: Config['telemetry'],
    directory: DbSensorDirectory,
    private readonly logger: Logger,
    redis: Redis | undefined,
    private readonly sink: LogSink = new KyselyLogSink(db),
    budget?: IngestDeps['budget'],
  ) {
    this.committer = new GroupCommitter(sink, { maxGroup: config.groupCommitMax });
    this.watermarks = new Watermarks(db, this.logCache);
    this.seriesIds = new SeriesIds(db);
    this.cache = redis
      ? new RedisQueryCache(redis, config.cacheTtlS)
      : new MemoryQueryCache(config.cacheTtlS * 1000);
    this.ingest = new IngestService({
      db,
      directory,
      committer: this.committer,
      watermarks: this.watermarks,
      cache: this.cache,
      limits: { maxBackfillMs: config.maxBackfillMs, maxFutureMs: config.maxFutureMs },
      logCache: this.logCache,
      seriesIds: this.seriesIds,
      ...(budget ? { budget } : {}),
    });
    this.queries = new QueryService(db, this.cache, this.logCache);
  }

  /** Runs `fn` after every earlier exclusive task of this process has finished. */
  runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(fn, fn);
    this.exclusive = run.catch(() => undefined);
    return run;
  }

  private compactSlice(maxEntries: number): Promise<CompactionResult> {
    return this.runExclusive(async () => {
      const r = await compactOnce(this.db, {
        maxEntries,
        chunkReadings: this.config.chunkReadings,
        logCache: this.logCache,
      });
      this.record(r);
      return r;
    });
  }

  /** Compacts the log until it is empty (tests, shutdown, benchmarks). */
  async compactAll(): Promise<CompactionResult[]> {
    const results: CompactionResult[] = [];
    for (;;) {
      const r = await this.compactSlice(256);
      if (r.logEntries === 0) return results;
      results.push(r);
    }
  }

  /** Background compaction: when the log is large or old enough, compact it in slices. */
  startCompactor(): void {
    const tick = async () => {
      const stats = await logStats(this.db);
      const due =
        stats.readings >= this.config.compactMinReadings ||
        (stats.oldest !== null && Date.now() - stats.oldest >= this.config.compactMaxAgeMs);
      if (!due) return;
      for (;;) {
        const r = await this.compactSlice(SLICE_ENTRIES);
        if (r.logEntries < SLICE_ENTRIES) return;
        // Let ingestion commits in between slices.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    this.compactTimer = setInterval(() => {
      if (this.compacting) return;
      this.compacting = tick()
        .catch((err: unknown) => {
          this.counters.compactionErrors++;
          this.logger.warn({ err: (err as Error).message }, 'compaction failed; will retry');
        })
        .finally(() => {
          this.compacting = undefined;
        });
    }, this.config.compactIntervalMs);
    this.compactTimer.unref();
  }

  async stopCompactor(): Promise<void> {
    clearInterval(this.compactTimer);
    await this.compacting;
  }

  /** Stops background work and the writer (after the server stopped taking requests). */
  async close(): Promise<void> {
    await this.stopCompactor();
    await this.sink.close();
  }

  private record(r: CompactionResult): void {
    if (r.logEntries === 0) return;
    this.counters.compactions++;
    this.counters.compactedReadings += r.readings;
    this.counters.compactionDuplicates += r.duplicates;
    if (r.duplicates > 0)
      this.logger.info({ duplicates: r.duplicates }, 'compaction dropped duplicate readings');
  }
}
