import { AppError } from '../errors/catalogue.js';

/**
 * Concurrent connections per key (a user or API key's live-stream sockets), per instance: taken
 * when a connection opens, given back when it closes. Past the limit, 429 naming the limit.
 */
export class ConnectionLimits {
  private readonly open = new Map<string, number>();
  /** Connections refused for being over the limit (metrics). */
  rejections = 0;

  constructor(
    private readonly max: number,
    private readonly name = 'ws-connections',
  ) {}

  /** Takes a slot for `key`; the returned function gives it back (once, however often called). */
  acquire(key: string): () => void {
    const n = this.open.get(key) ?? 0;
    if (n >= this.max) {
      this.rejections++;
      throw new AppError('RATE_LIMITED', `At most ${this.max} open connections at once; close one first`, {
        fields: { limit: this.name, policy: `${this.max} concurrent`, scope: key.split(':')[0] ?? 'user' },
        headers: { 'retry-after': '5' },
      });
    }
    this.open.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left <= 0) this.open.delete(key);
      else this.open.set(key, left);
    };
  }

  count(key: string): number {
    return this.open.get(key) ?? 0;
  }
}
