import type { BacktestRow } from './backtest.js';

/** A stretch of consecutive anomalous rows: what an operator would have been shown once. */
export interface Episode {
  readonly from: number;
  readonly to: number;
  readonly rows: number;
  readonly peakAt: number;
  readonly peakScore: number;
  readonly peakValue: number;
  readonly detectors: readonly string[];
  /** The peak row's explanation. */
  readonly explanation: string;
}

/** Counts of one scoring pass, for the run's summary. */
export interface PassSummary {
  readonly anomalyRows: number;
  readonly episodes: number;
  /** Episodes each detector fired in (an episode counts once per detector). */
  readonly byDetector: Readonly<Record<string, number>>;
  readonly maxScore: number;
}

interface Open {
  from: number;
  to: number;
  rows: number;
  peakAt: number;
  peakScore: number;
  peakValue: number;
  detectors: Set<string>;
  explanation: string;
}

/**
 * Folds a backtest's verdicts, row by row, into episodes. Each closed episode is handed to
 * `onEpisode` (the runner logs and keeps the first ones); the counts cover them all.
 */
export class EpisodeTracker {
  private open: Open | undefined;
  private anomalyRows = 0;
  private episodes = 0;
  private maxScore = 0;
  private readonly byDetector = new Map<string, number>();

  constructor(private readonly onEpisode: (e: Episode) => void = () => {}) {}

  add(ts: number, value: number, row: BacktestRow): void {
    if (row.score > this.maxScore) this.maxScore = row.score;
    if (!row.anomaly) {
      this.close();
      return;
    }
    this.anomalyRows++;
    const o = this.open;
    if (!o) {
      this.open = {
        from: ts,
        to: ts,
        rows: 1,
        peakAt: ts,
        peakScore: row.score,
        peakValue: value,
        detectors: new Set(row.fired),
        explanation: row.explanation,
      };
      return;
    }
    o.to = ts;
    o.rows++;
    for (const d of row.fired) o.detectors.add(d);
    if (row.score > o.peakScore) {
      o.peakScore = row.score;
      o.peakAt = ts;
      o.peakValue = value;
      if (row.explanation) o.explanation = row.explanation;
    }
  }

  /** Ends the open episode, if any (also at the end of the data). */
  close(): void {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    this.episodes++;
    for (const d of o.detectors) this.byDetector.set(d, (this.byDetector.get(d) ?? 0) + 1);
    this.onEpisode({ ...o, detectors: [...o.detectors].sort() });
  }

  summary(): PassSummary {
    return {
      anomalyRows: this.anomalyRows,
      episodes: this.episodes,
      byDetector: Object.fromEntries([...this.byDetector].sort(([a], [b]) => a.localeCompare(b))),
      maxScore: Math.round(this.maxScore * 1e4) / 1e4,
    };
  }
}
