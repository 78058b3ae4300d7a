import type { Redis } from 'ioredis';

/** A temporary block of one client IP. */
export interface IpBlock {
  readonly ip: string;
  readonly until: number;
  readonly reason: string;
  /** How many times this IP was blocked in the last day (the block's length grows with it). */
  readonly offense: number;
}

/** Block lengths by offense within a day: a minute, ten minutes, an hour, then a day. */
export const ESCALATION_MS = [60_000, 600_000, 3_600_000, 86_400_000] as const;
const OFFENSE_WINDOW_MS = 86_400_000;

export interface BlockStore {
  get(ip: string): Promise<IpBlock | null>;
  /** Synchronous lookup, for stores that keep blocks in this process. */
  peek?(ip: string, now: number): IpBlock | null;
  /** Blocks `ip` for the next step of its escalation; returns the block. */
  block(ip: string, reason: string, now: number): Promise<IpBlock>;
  unblock(ip: string): Promise<boolean>;
  list(now: number): Promise<IpBlock[]>;
}

const lengthFor = (offense: number) => ESCALATION_MS[Math.min(offense, ESCALATION_MS.length) - 1]!;

/** One instance's blocks (the embedded default). */
export class MemoryBlockStore implements BlockStore {
  private readonly blocks = new Map<string, IpBlock>();
  private readonly offenses = new Map<string, { count: number; since: number }>();

  async get(ip: string): Promise<IpBlock | null> {
    return this.peek(ip, Date.now());
  }

  peek(ip: string, now: number): IpBlock | null {
    const b = this.blocks.get(ip);
    if (!b) return null;
    if (b.until <= now) {
      this.blocks.delete(ip);
      return null;
    }
    return b;
  }

  async block(ip: string, reason: string, now: number): Promise<IpBlock> {
    const o = this.offenses.get(ip);
    const count = o && now - o.since < OFFENSE_WINDOW_MS ? o.count + 1 : 1;
    this.offenses.set(ip, { count, since: o && count > 1 ? o.since : now });
    if (this.offenses.size > 100_000) this.offenses.clear();
    const block = { ip, until: now + lengthFor(count), reason, offense: count };
    this.blocks.set(ip, block);
    return block;
  }

  async unblock(ip: string): Promise<boolean> {
    return this.blocks.delete(ip);
  }

  async list(now: number): Promise<IpBlock[]> {
    return [...this.blocks.values()].filter((b) => b.until > now);
  }
}

/** Blocks shared by every instance through Redis; they expire there on their own. */
export class RedisBlockStore implements BlockStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'vigil:guard',
  ) {}

  async get(ip: string): Promise<IpBlock | null> {
    const raw = await this.redis.get(`${this.prefix}:block:${ip}`);
    return raw ? (JSON.parse(raw) as IpBlock) : null;
  }

  async block(ip: string, reason: string, now: number): Promise<IpBlock> {
    const key = `${this.prefix}:offenses:${ip}`;
    const [[, count]] = (await this.redis.multi().incr(key).pexpire(key, OFFENSE_WINDOW_MS).exec()) as [
      [Error | null, number],
    ];
    const length = lengthFor(count);
    const block = { ip, until: now + length, reason, offense: count };
    await this.redis.set(`${this.prefix}:block:${ip}`, JSON.stringify(block), 'PX', length);
    return block;
  }

  async unblock(ip: string): Promise<boolean> {
    return (await this.redis.del(`${this.prefix}:block:${ip}`)) > 0;
  }

  async list(now: number): Promise<IpBlock[]> {
    const out: IpBlock[] = [];
    let cursor = '0';
    // Bounded: a thousand blocks is already an incident, not a list to page through.
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:block:*`, 'COUNT', 200);
      cursor = next;
      if (keys.length > 0) {
        for (const raw of await this.redis.mget(keys)) if (raw) out.push(JSON.parse(raw) as IpBlock);
      }
    } while (cursor !== '0' && out.length < 1000);
    return out.filter((b) => b.until > now);
  }
}

/**
 * Redis when it answers, this instance's memory when it does not: a Redis outage must not turn
 * every request into an error (blocks made meanwhile stay local until they expire).
 */
export class FallbackBlockStore implements BlockStore {
  private readonly local = new MemoryBlockStore();

  constructor(private readonly shared: BlockStore) {}

  async get(ip: string): Promise<IpBlock | null> {
    const local = await this.local.get(ip);
    if (local) return local;
    return this.shared.get(ip).catch(() => null);
  }

  async block(ip: string, reason: string, now: number): Promise<IpBlock> {
    return this.shared.block(ip, reason, now).catch(() => this.local.block(ip, reason, now));
  }

  async unblock(ip: string): Promise<boolean> {
    const [a, b] = await Promise.all([this.local.unblock(ip), this.shared.unblock(ip).catch(() => false)]);
    return a || b;
  }

  async list(now: number): Promise<IpBlock[]> {
    const shared = await this.shared.list(now).catch(() => [] as IpBlock[]);
    const seen = new Set(shared.map((b) => b.ip));
    return [...shared, ...(await this.local.list(now)).filter((b) => !seen.has(b.ip))];
  }
}
