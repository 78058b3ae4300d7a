import type { Redis } from 'ioredis';

/**
 * Cache for latest values and aggregates, kept correct by versioning: every entry's key includes
 * its series' version, and ingestion bumps the version of each series it wrote right after the
 * commit, so entries from before the write are simply never read again (they expire by TTL).
 * A query reads the version before it reads the database, so a write racing with it can only
 * leave an entry under an already-superseded version.
 */
export interface QueryCache {
  readonly kind: 'redis' | 'memory';
  versions(seriesIds: readonly number[]): Promise<number[]>;
  bump(seriesIds: Iterable<number>): Promise<void>;
  getMany(keys: readonly string[]): Promise<(string | null)[]>;
  setMany(entries: ReadonlyArray<readonly [string, string]>): Promise<void>;
  readonly stats: { hits: number; misses: number; errors: number };
}

export class MemoryQueryCache implements QueryCache {
  readonly kind = 'memory';
  private readonly version = new Map<number, number>();
  private readonly entries = new Map<string, { value: string; expires: number }>();
  private bytes = 0;
  readonly stats = { hits: 0, misses: 0, errors: 0 };

  /** Bounded by total size, not just count: one aggregate answer can be hundreds of kilobytes. */
  constructor(
    private readonly ttlMs: number,
    private readonly maxBytes = 64 * 1024 * 1024,
    private readonly clock: () => number = Date.now,
  ) {}

  async versions(seriesIds: readonly number[]): Promise<number[]> {
    return seriesIds.map((s) => this.version.get(s) ?? 0);
  }

  async bump(seriesIds: Iterable<number>): Promise<void> {
    for (const s of seriesIds) this.version.set(s, (this.version.get(s) ?? 0) + 1);
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    const now = this.clock();
    return keys.map((k) => {
      const e = this.entries.get(k);
      if (e && e.expires > now) {
        this.stats.hits++;
        return e.value;
      }
      this.stats.misses++;
      return null;
    });
  }

  async setMany(entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
    const expires = this.clock() + this.ttlMs;
    for (const [k, value] of entries) {
      const size = (k.length + value.length) * 2;
      // An answer bigger than a sixteenth of the cache is not worth evicting everything for.
      if (size > this.maxBytes / 16) continue;
      this.drop(k);
      while (this.bytes + size > this.maxBytes && this.entries.size > 0)
        this.drop(this.entries.keys().next().value as string);
      this.entries.set(k, { value, expires });
      this.bytes += size;
    }
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= (key.length + e.value.length) * 2;
  }
}

const PREFIX = 'vigil:qc:';

/**
 * The same cache in Redis, shared by every instance. When Redis fails, reads bypass the cache
 * (the database answers) and, after a failed version bump, this instance stops trusting cached
 * entries for one TTL, since an entry it could not invalidate may still be there.
 */
export class RedisQueryCache implements QueryCache {
  readonly kind = 'redis';
  readonly stats = { hits: 0, misses: 0, errors: 0 };
  private distrustUntil = 0;

  constructor(
    private readonly redis: Redis,
    private readonly ttlS: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async versions(seriesIds: readonly number[]): Promise<number[]> {
    if (seriesIds.length === 0) return [];
    try {
      const raw = await this.redis.mget(seriesIds.map((s) => `${PREFIX}v:${s}`));
      return raw.map((v) => (v === null ? 0 : Number(v)));
    } catch {
      this.stats.errors++;
      return seriesIds.map(() => -1);
    }
  }

  async bump(seriesIds: Iterable<number>): Promise<void> {
    const ids = [...seriesIds];
    if (ids.length === 0) return;
    const pipeline = this.redis.pipeline();
    // Versions outlive entries, so a version key expiring can never resurrect a stale entry.
    const keep = Math.max(this.ttlS * 2, 3600);
    for (const s of ids) pipeline.incr(`${PREFIX}v:${s}`).expire(`${PREFIX}v:${s}`, keep);
    try {
      const results = await pipeline.exec();
      if (results?.some(([err]) => err)) throw new Error('bump failed');
    } catch {
      this.stats.errors++;
      this.distrustUntil = this.clock() + this.ttlS * 1000;
    }
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    if (this.clock() < this.distrustUntil) {
      this.stats.misses += keys.length;
      return keys.map(() => null);
    }
    try {
      const raw = await this.redis.mget(keys.map((k) => PREFIX + k));
      for (const v of raw) v === null ? this.stats.misses++ : this.stats.hits++;
      return raw;
    } catch {
      this.stats.errors++;
      return keys.map(() => null);
    }
  }

  async setMany(entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
    if (entries.length === 0 || this.clock() < this.distrustUntil) return;
    const pipeline = this.redis.pipeline();
    // Large answers are not worth a round of Redis memory; the database answers them.
    for (const [k, v] of entries) if (v.length <= 1_000_000) pipeline.set(PREFIX + k, v, 'EX', this.ttlS);
    try {
      await pipeline.exec();
    } catch {
      this.stats.errors++;
    }
  }
}
