import type { Redis } from 'ioredis';

/**
 * A fast pre-check before the database claim. The database's unique (job, scheduled_for) row is
 * the authority that makes each run happen once; with Redis configured, instances that lose the
 * race are turned away by one SET NX instead of a database round trip.
 */
export interface RunGate {
  /** True if this caller may go on to claim the run. */
  tryEnter(job: string, scheduledFor: number, ttlMs: number): Promise<boolean>;
}

/** Without Redis, everyone goes straight to the database claim. */
export const openGate: RunGate = { tryEnter: async () => true };

export class RedisRunGate implements RunGate {
  constructor(
    private readonly redis: Redis,
    private readonly owner: string,
    private readonly prefix = 'vigil:job:',
  ) {}

  async tryEnter(job: string, scheduledFor: number, ttlMs: number): Promise<boolean> {
    try {
      const ok = await this.redis.set(`${this.prefix}${job}:${scheduledFor}`, this.owner, 'PX', ttlMs, 'NX');
      return ok === 'OK';
    } catch {
      // Redis down: the database claim still guarantees one run, so let the caller try it.
      return true;
    }
  }
}
