import type { Redis } from 'ioredis';

/**
 * Live-stream connections per user or API key, counted across every instance when Redis is
 * configured: each open connection holds a slot that expires unless its instance refreshes it, so
 * a crashed instance's slots free themselves.
 */
export interface ConnectionSlots {
  /** Takes a slot for connection `id` of `key`; false when `key` already holds `max`. */
  take(key: string, id: string, max: number, now: number): Promise<boolean>;
  /** Gives a slot back (when its connection closes). */
  release(key: string, id: string): void;
  /** Proves the slots this instance holds are alive. */
  refresh(held: readonly { key: string; id: string }[], now: number): Promise<void>;
  /** Gives back every slot in `held` at once (shutdown), so other instances need not wait for expiry. */
  releaseAll(held: readonly { key: string; id: string }[]): Promise<void>;
}

/** One instance's own count (no Redis; also the fallback while Redis is away). */
export class MemorySlots implements ConnectionSlots {
  private readonly slots = new Map<string, Set<string>>();

  async take(key: string, id: string, max: number): Promise<boolean> {
    const set = this.slots.get(key) ?? new Set<string>();
    if (!set.has(id) && set.size >= max) return false;
    set.add(id);
    this.slots.set(key, set);
    return true;
  }

  release(key: string, id: string): void {
    const set = this.slots.get(key);
    if (!set) return;
    set.delete(id);
    if (set.size === 0) this.slots.delete(key);
  }

  async refresh(): Promise<void> {}

  async releaseAll(held: readonly { key: string; id: string }[]): Promise<void> {
    for (const h of held) this.release(h.key, h.id);
  }
}

// Expired slots out, then take one if there is room — in one step, so two instances admitting
// the same user at once cannot both take the last slot.
const TAKE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) - tonumber(ARGV[1]))
return 1
`;

/**
 * Slots in a sorted set per key (member: the connection, score: when it expires). Any Redis
 * failure falls back to this instance's own count for that connection, so the stream keeps
 * admitting within the limit per instance rather than refusing everyone.
 */
export class RedisSlots implements ConnectionSlots {
  private readonly local = new MemorySlots();
  /** Connections admitted by the fallback (released there, not in Redis). */
  private readonly fellBack = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    private readonly onError: (err: Error) => void = () => {},
    private readonly prefix = 'vigil:ws:conn',
  ) {}

  async take(key: string, id: string, max: number, now: number): Promise<boolean> {
    try {
      const ok = await this.redis.eval(TAKE, 1, `${this.prefix}:${key}`, now, now + this.ttlMs, max, id);
      return Number(ok) === 1;
    } catch (err) {
      this.onError(err as Error);
      this.fellBack.add(id);
      return this.local.take(key, id, max);
    }
  }

  release(key: string, id: string): void {
    if (this.fellBack.delete(id)) {
      this.local.release(key, id);
      return;
    }
    this.redis.zrem(`${this.prefix}:${key}`, id).catch((err: Error) => this.onError(err));
  }

  async releaseAll(held: readonly { key: string; id: string }[]): Promise<void> {
    const pipe = this.redis.pipeline();
    for (const h of held) {
      if (this.fellBack.delete(h.id)) this.local.release(h.key, h.id);
      else pipe.zrem(`${this.prefix}:${h.key}`, h.id);
    }
    await pipe.exec().catch((err: Error) => this.onError(err));
  }

  async refresh(held: readonly { key: string; id: string }[], now: number): Promise<void> {
    const live = held.filter((h) => !this.fellBack.has(h.id));
    if (live.length === 0) return;
    const pipe = this.redis.pipeline();
    for (const h of live) {
      // XX: a slot that expired meanwhile is not taken back (that could exceed the limit).
      pipe.zadd(`${this.prefix}:${h.key}`, 'XX', now + this.ttlMs, h.id);
      pipe.pexpire(`${this.prefix}:${h.key}`, this.ttlMs);
    }
    await pipe.exec().catch((err: Error) => this.onError(err));
  }
}
