import type { RealtimeHub } from './hub.js';

/** How long a watch announcement lasts; connections renew theirs well before. */
export const WATCH_TTL_MS = 30_000;

/**
 * Committed readings for live clients. Only sensors somebody watches (on this instance or, through
 * the hub's control messages, on another) are kept, conflated at the source to the newest reading
 * per sensor, and published as one `readings` message per tenant every `intervalMs`. So ingest at
 * any rate costs live clients at most a few messages a second, and nothing when nobody watches.
 */
export class ReadingsRelay {
  /** tenant → sensor → [ts, value] of its newest reading since the last publish. */
  private pending = new Map<string, Map<string, [number, number]>>();
  /** sensor → until when somebody watches it. */
  private readonly watched = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  readonly stats = { offered: 0, conflated: 0, published: 0 };

  constructor(
    private readonly hub: RealtimeHub,
    private readonly intervalMs = 250,
    private readonly clock: () => number = Date.now,
  ) {
    hub.subscribe((m) => {
      if (m.channel !== 'control' || m.type !== 'watch') return;
      const until = Number(m.payload.until);
      for (const id of (m.payload.sensorIds as string[] | undefined) ?? []) this.mark(id, until);
    });
  }

  private mark(sensorId: string, until: number): void {
    if ((this.watched.get(sensorId) ?? 0) < until) this.watched.set(sensorId, until);
  }

  /** Somebody (here) watches these sensors: tells every instance, for WATCH_TTL_MS. */
  watch(tenantId: string, sensorIds: readonly string[]): void {
    if (sensorIds.length === 0) return;
    const until = this.clock() + WATCH_TTL_MS;
    this.hub.publish({
      tenantId,
      channel: 'control',
      type: 'watch',
      id: null,
      payload: { sensorIds: [...sensorIds], until },
      at: this.clock(),
    });
  }

  /** The ingest hook: committed readings (called for every stored batch; cheap when nobody watches). */
  offer(tenantId: string, sensorIds: readonly string[], ts: Float64Array, value: Float64Array): void {
    if (this.watched.size === 0) return;
    let latest: Map<string, [number, number]> | undefined;
    for (let i = 0; i < sensorIds.length; i++) {
      const id = sensorIds[i]!;
      if (!this.watched.has(id)) continue;
      this.stats.offered++;
      latest ??= this.pending.get(tenantId) ?? new Map();
      const prev = latest.get(id);
      if (prev) {
        this.stats.conflated++;
        if (prev[0] > ts[i]!) continue;
      }
      latest.set(id, [ts[i]!, value[i]!]);
    }
    if (latest) this.pending.set(tenantId, latest);
  }

  /** Publishes what is pending and forgets watches that expired. */
  flush(): void {
    const now = this.clock();
    for (const [id, until] of this.watched) if (until < now) this.watched.delete(id);
    const pending = this.pending;
    this.pending = new Map();
    for (const [tenantId, latest] of pending) {
      this.stats.published++;
      this.hub.publish({
        tenantId,
        channel: 'readings',
        type: 'readings',
        id: null,
        payload: { readings: [...latest].map(([sensorId, [ts, value]]) => [sensorId, ts, value]) },
        at: now,
      });
    }
  }

  start(): void {
    this.timer = setInterval(() => this.flush(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
