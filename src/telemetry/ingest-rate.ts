import type { Redis } from 'ioredis';

/** Seconds of history kept per tenant (the longest window that can be asked for). */
export const RATE_HISTORY_S = 120;
/** One counter per tenant and second, expiring on its own, so nothing accumulates. */
const KEY = (tenantId: string, sec: number | string) => `vigil:ingest-rate:${tenantId}:${sec}`;

interface Ring {
  /** Per slot: the epoch second it counts, and the readings accepted in it. */
  readonly secs: Float64Array;
  readonly counts: Float64Array;
}

/**
 * Readings accepted per tenant, per second, over every transport: the control room's "readings
 * per second". Counted in memory in each instance; with Redis the per-second counts are added to
 * one hash per tenant (flushed once a second, off the ingest path), so the rate covers every
 * instance. A window counts whole seconds that have ended, never the one still filling.
 */
export class IngestRate {
  private readonly rings = new Map<string, Ring>();
  /** `tenant\0second` → readings not yet added to Redis. */
  private readonly pending = new Map<string, number>();
  private redis: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(private readonly clock: () => number = Date.now) {}

  add(tenantId: string, readings: number): void {
    if (readings <= 0) return;
    const sec = Math.floor(this.clock() / 1000);
    let ring = this.rings.get(tenantId);
    if (!ring) {
      ring = { secs: new Float64Array(RATE_HISTORY_S).fill(-1), counts: new Float64Array(RATE_HISTORY_S) };
      this.rings.set(tenantId, ring);
    }
    const slot = sec % RATE_HISTORY_S;
    if (ring.secs[slot] !== sec) {
      ring.secs[slot] = sec;
      ring.counts[slot] = 0;
    }
    ring.counts[slot]! += readings;
    if (this.redis) {
      const k = `${tenantId}\u0000${sec}`;
      this.pending.set(k, (this.pending.get(k) ?? 0) + readings);
    }
  }

  /** Shares the counts through Redis (every instance's ingest in one rate). */
  share(redis: Redis): void {
    this.redis = redis;
    this.timer = setInterval(() => void this.flush(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Adds what is pending to Redis (a failed flush keeps nothing: the rate is a gauge, not a ledger). */
  flush(): Promise<void> {
    if (!this.redis || this.pending.size === 0) return this.flushing ?? Promise.resolve();
    const batch = [...this.pending];
    this.pending.clear();
    const pipe = this.redis.pipeline();
    for (const [k, n] of batch) {
      const [tenantId, sec] = k.split('\u0000') as [string, string];
      pipe.incrby(KEY(tenantId, sec), n);
      pipe.expire(KEY(tenantId, sec), RATE_HISTORY_S * 2);
    }
    this.flushing = pipe.exec().then(
      () => undefined,
      () => undefined,
    );
    return this.flushing;
  }

  /**
   * Readings the tenant had accepted in the `windowS` whole seconds before now, and their rate;
   * `shared` says whether that covers every instance (Redis) or only this one.
   */
  async rate(
    tenantId: string,
    windowS = 60,
  ): Promise<{ readings: number; perSecond: number; shared: boolean }> {
    const now = Math.floor(this.clock() / 1000);
    const inWindow = (sec: number) => sec < now && sec >= now - windowS;
    if (this.redis) {
      try {
        await this.flush();
        const keys = Array.from({ length: windowS }, (_, i) => KEY(tenantId, now - 1 - i));
        let readings = 0;
        for (const n of await this.redis.mget(keys)) readings += Number(n ?? 0);
        return { readings, perSecond: readings / windowS, shared: true };
      } catch {
        // Redis is away: this instance's own count is the best there is.
      }
    }
    const ring = this.rings.get(tenantId);
    let readings = 0;
    if (ring)
      for (let i = 0; i < RATE_HISTORY_S; i++) if (inWindow(ring.secs[i]!)) readings += ring.counts[i]!;
    return { readings, perSecond: readings / windowS, shared: false };
  }
}
