import { once } from 'node:events';
import type { Redis } from 'ioredis';

/**
 * A fast pre-check before the database claim. The database's unique (job, scheduled_for) row is
 * the authority that makes each run happen once; with Redis configured, instances that lose the
 * race are turned away by one SET NX instead of a database round trip.
 */
export interface RunGate {
  /** True if this caller may go on to claim the run. */
  tryEnter(job: string, scheduledFor: number): Promise<boolean>;
}

/** Without Redis, everyone goes straight to the database claim. */
export const openGate: RunGate = { tryEnter: async () => true };

/**
 * The gate only has to outlast the moment all instances race for a slot. Kept short so that if
 * the winner dies before its database claim, a later attempt at the slot (e.g. `jobs run`) is
 * not locked out for long; stragglers past it still meet the database's unique claim.
 */
export const GATE_TTL_MS = 30_000;

export class RedisRunGate implements RunGate {
  constructor(
    private readonly redis: Redis,
    private readonly owner: string,
    private readonly prefix = 'vigil:job:',
    private readonly ttlMs = GATE_TTL_MS,
  ) {}

  async tryEnter(job: string, scheduledFor: number): Promise<boolean> {
    try {
      // Just after start the connection may still be opening; commands would fail fast and open the gate.
      if (this.redis.status !== 'ready')
        await once(this.redis, 'ready', { signal: AbortSignal.timeout(2000) });
      const ok = await this.redis.set(
        `${this.prefix}${job}:${scheduledFor}`,
        this.owner,
        'PX',
        this.ttlMs,
        'NX',
      );
      return ok === 'OK';
    } catch {
      // Redis down: the database claim still guarantees one run, so let the caller try it.
      return true;
    }
  }
}
