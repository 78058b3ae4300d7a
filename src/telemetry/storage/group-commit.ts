import type { LogBlock } from './log-codec.js';
import { type GroupWrite, type LogSink, summarise } from './log-sink.js';

export type { GroupWrite, LogSink };

/** What one ingest request asks to make durable, all or nothing. */
export interface CommitWork {
  readonly tenantId: string;
  readonly block: LogBlock | null;
  /** Remember this answer for `Idempotency-Key` retries. */
  readonly idempotency?: { readonly key: string; readonly response: string };
  /** Devices heard from (their last_seen_at moves to the commit time). */
  readonly devicesSeen: readonly string[];
  /** Readings refused per quarantined device, added to its refused_count. */
  readonly refused: ReadonlyMap<string, number>;
}

/** A request in flight, from before it decides which readings are new until it is done. */
export interface RequestTicket {
  /** Resolves once the request is done (committed or failed). */
  readonly settled: Promise<void>;
  close(): void;
  /** Resolves once every request opened before this one is done. */
  barrier(): Promise<void>;
}

interface Ticket {
  readonly settled: Promise<void>;
  readonly settle: () => void;
}

interface Queued {
  readonly work: CommitWork;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Group commit: requests that arrive while a transaction is running wait for it and are then
 * committed together in the next one, so a burst of concurrent batches costs one fsync rather than
 * one each — durability without giving up throughput. A caller's promise resolves only after the
 * transaction holding its work has committed; if it fails, every caller in it gets the error.
 *
 * Tickets order requests for duplicate detection: `open()` marks a request in flight (with the
 * series it writes) as it decides which readings are new, and `barrier()` waits for the earlier
 * requests that wrote the series it must look up.
 */
export class GroupCommitter {
  private readonly queue: Queued[] = [];
  /** Requests in flight, by the series they write. */
  private readonly bySeries = new Map<number, Set<Ticket>>();
  private running = false;
  groups = 0;
  commits = 0;

  constructor(
    private readonly sink: LogSink,
    private readonly opts: { maxGroup: number },
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Registers a request in flight that writes `touched` series; its `barrier` waits for the
   * requests opened earlier that write any of `waitOn` (only they can have written the readings
   * it looks up). Call `close` on the ticket when it is done either way.
   */
  open(touched: Iterable<number>, waitOn: Iterable<number>): RequestTicket {
    let settle!: () => void;
    const settled = new Promise<void>((r) => {
      settle = r;
    });
    const ticket: Ticket = { settled, settle };
    const earlier = new Set<Promise<void>>();
    for (const s of waitOn) for (const t of this.bySeries.get(s) ?? []) earlier.add(t.settled);
    const series = [...new Set(touched)];
    for (const s of series) {
      const set = this.bySeries.get(s) ?? new Set<Ticket>();
      if (set.size === 0) this.bySeries.set(s, set);
      set.add(ticket);
    }
    return {
      settled,
      close: () => {
        for (const s of series) {
          const set = this.bySeries.get(s);
          set?.delete(ticket);
          if (set?.size === 0) this.bySeries.delete(s);
        }
        ticket.settle();
      },
      barrier: async () => {
        await Promise.all(earlier);
      },
    };
  }

  commit(work: CommitWork): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ work, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Let requests parsed in the same turn of the event loop join this group.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, this.opts.maxGroup);
      try {
        await this.sink.write(
          summarise(
            group.map((q) => q.work),
            this.clock(),
          ),
        );
        this.groups++;
        this.commits += group.length;
        for (const q of group) q.resolve();
      } catch (err) {
        for (const q of group) q.reject(err);
      }
    }
    this.running = false;
  }
}
