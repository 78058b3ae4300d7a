/** A backtest run as `GET /api/v1/backtests/{id}` answers it. */
export interface BacktestRun {
  readonly id: string;
  readonly scope: 'sensor' | 'asset';
  readonly targetId: string;
  readonly status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  readonly params: {
    readonly from?: string;
    readonly to?: string;
    readonly config?: unknown;
    readonly threshold?: number | null;
    readonly compare?: boolean;
  };
  readonly summary: BacktestSummary | null;
  readonly episodes?: readonly BacktestEpisode[] | null;
  readonly error: string | null;
  readonly rowsDone: number;
  readonly rowsTotal: number;
  readonly cancelRequested: boolean;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface PassSummary {
  readonly anomalyRows: number;
  readonly episodes: number;
  readonly byDetector: Readonly<Record<string, number>>;
  readonly maxScore: number;
}

export interface BacktestSummary extends PassSummary {
  readonly rows: number;
  readonly readingsInWindow: number;
  readonly from: string;
  readonly to: string;
  readonly threshold: number;
  readonly current: PassSummary | null;
  readonly storedAnomalies: number;
  readonly durationMs: number;
}

export interface BacktestEpisode {
  readonly from: string;
  readonly to: string;
  readonly rows: number;
  readonly peakAt: string;
  readonly peakScore: number;
  /** The sensor's value at the peak (null for an asset's several sensors). */
  readonly peakValue: number | null;
  readonly detectors: readonly string[];
  readonly explanation: string;
}

export interface LogLine {
  readonly seq: number;
  readonly at: string;
  readonly level: string;
  readonly message: string;
}

export const ACTIVE = new Set(['queued', 'running']);

/**
 * Merges log lines that arrive twice (the stored log fetched while the same lines stream live),
 * kept in sequence order, each once. Returns the same array when nothing new arrived.
 */
export function mergeLog(lines: readonly LogLine[], incoming: readonly LogLine[]): readonly LogLine[] {
  const seen = new Set(lines.map((l) => l.seq));
  const fresh = incoming.filter((l) => !seen.has(l.seq) && seen.add(l.seq));
  if (fresh.length === 0) return lines;
  return [...lines, ...fresh].sort((a, b) => a.seq - b.seq);
}

/** A stream message's payload as a log line (`at` arrives as epoch ms). */
export function logLineOf(payload: Record<string, unknown>): LogLine | null {
  const { seq, at, level, message } = payload;
  if (typeof seq !== 'number' || typeof message !== 'string') return null;
  return {
    seq,
    at: typeof at === 'number' ? new Date(at).toISOString() : String(at),
    level: typeof level === 'string' ? level : 'info',
    message,
  };
}

/** What the live stream told about one run. */
export interface LiveRun {
  readonly lines: readonly LogLine[];
  readonly progress: { readonly rowsDone: number; readonly rowsTotal: number } | null;
  readonly status: string | null;
}

/** Runs whose live messages are kept (the newest seen; older ones are read from the API). */
export const LIVE_RUNS_KEPT = 20;

/**
 * Folds one `lab` message into the runs' live state (a new map when it changed anything). Every
 * run's messages are kept from the moment the page follows the channel, so a run started from
 * this page has its first lines even when it finishes before its view has loaded.
 */
export function applyLabMessage(
  runs: ReadonlyMap<string, LiveRun>,
  m: { type: string; payload: Record<string, unknown> },
): ReadonlyMap<string, LiveRun> {
  const id = m.payload.runId;
  if (typeof id !== 'string') return runs;
  const prev = runs.get(id) ?? { lines: [], progress: null, status: null };
  let next: LiveRun = prev;
  if (m.type === 'backtest.log') {
    const line = logLineOf(m.payload);
    const lines = line ? mergeLog(prev.lines, [line]) : prev.lines;
    if (lines !== prev.lines) next = { ...prev, lines };
  } else if (m.type === 'backtest.progress') {
    next = {
      ...prev,
      progress: { rowsDone: Number(m.payload.rowsDone), rowsTotal: Number(m.payload.rowsTotal) },
    };
  } else if (m.type === 'backtest.status') {
    next = { ...prev, status: String(m.payload.status) };
  }
  if (next === prev) return runs;
  const out = new Map(runs);
  out.delete(id);
  out.set(id, next);
  // Insertion order is recency: drop the runs not heard of for longest.
  for (const old of out.keys()) {
    if (out.size <= LIVE_RUNS_KEPT) break;
    out.delete(old);
  }
  return out;
}

/** `1,234 of 5,000 readings (25 %)`, or the status while nothing is known. */
export function describeProgress(
  run: { status: string; rowsDone: number; rowsTotal: number },
  unit = 'readings',
): string {
  if (run.rowsTotal === 0) return run.status === 'queued' ? 'Waiting in the queue' : run.status;
  const pct = Math.floor((100 * run.rowsDone) / run.rowsTotal);
  return `${run.rowsDone.toLocaleString('en-GB')} of ${run.rowsTotal.toLocaleString('en-GB')} ${unit} (${pct} %)`;
}

const num = (v: unknown) =>
  typeof v === 'number'
    ? Number(v.toPrecision(4)).toLocaleString('en-GB', { maximumFractionDigits: 4 })
    : String(v);

/**
 * An episode's explanation for people: the detectors' JSON (`{"observed":3.2,"expected":{"low":…,
 * "high":…,"from":"range"},…}`) as `observed 3.2, expected 2.53–3.19 (range)`; condition
 * transitions (`threshold(vibration-high) raised`) and anything else as they are.
 */
export function describeExplanation(text: string): string {
  return text
    .split('; ')
    .map((part) => {
      const brace = part.indexOf('{');
      if (brace < 0) return part;
      try {
        const e = JSON.parse(part.slice(brace)) as {
          observed?: unknown;
          expected?: { low?: unknown; high?: unknown; from?: unknown };
        };
        if (e.observed === undefined || !e.expected) return part;
        const { low, high, from } = e.expected;
        return `${part.slice(0, brace)}observed ${num(e.observed)}, expected ${num(low)}–${num(high)}${from ? ` (${String(from)})` : ''}`;
      } catch {
        return part;
      }
    })
    .join('; ');
}
