/**
 * The timestamps this instance has committed recently, per series, so the exact duplicate path
 * can answer readings that arrive slightly out of order (a shared MQTT subscription spreads one
 * device's messages over several connections) without scanning the reading log.
 *
 * Invariant: for each series it tracks, the index holds every timestamp above the series' floor
 * that this instance has committed since the floor was set. The floor is the series' watermark
 * when the index first meets it (nothing this instance committed or has in flight can lie above
 * it), and is raised to the watermark again whenever the series is trimmed. Callers must add a
 * request's readings after its commit and before it settles, and look up only after the requests
 * opened earlier on the same series have settled (`RequestTicket.barrier`); a timestamp at or
 * below the floor must be looked up in storage.
 *
 * Readings committed by other instances are not in it — like the watermark fast path, duplicate
 * counting across instances is approximate, and compaction keeps the first write.
 */
export class RecentIndex {
  private readonly series = new Map<number, { floor: number; ts: Set<number> }>();
  private size = 0;

  constructor(
    private readonly watermark: (seriesId: number) => number,
    private readonly limits = { perSeries: 16_384, total: 2_000_000 },
  ) {}

  /** Whether `ts` lies above the floor, where `has` is authoritative. */
  covers(seriesId: number, ts: number): boolean {
    return ts > this.entry(seriesId).floor;
  }

  has(seriesId: number, ts: number): boolean {
    return this.series.get(seriesId)?.ts.has(ts) ?? false;
  }

  /** Records committed readings (those at or below the floor are storage's business). */
  addCommitted(series: ArrayLike<number>, ts: ArrayLike<number>): void {
    for (let i = 0; i < series.length; i++) {
      const s = series[i]!;
      const t = ts[i]!;
      const e = this.entry(s);
      if (t <= e.floor || e.ts.has(t)) continue;
      e.ts.add(t);
      this.size++;
      if (e.ts.size > this.limits.perSeries) this.trim(s, e);
    }
    if (this.size > this.limits.total) {
      for (const [s, e] of this.series) this.trim(s, e);
    }
  }

  private entry(seriesId: number): { floor: number; ts: Set<number> } {
    let e = this.series.get(seriesId);
    if (!e) {
      e = { floor: this.watermark(seriesId), ts: new Set() };
      this.series.set(seriesId, e);
    }
    return e;
  }

  /** Forgets a series' timestamps: everything committed so far now lies at or below its floor. */
  private trim(seriesId: number, e: { floor: number; ts: Set<number> }): void {
    this.size -= e.ts.size;
    e.ts.clear();
    e.floor = Math.max(e.floor, this.watermark(seriesId));
  }
}
