import { FLAP_RAISES, FLAP_WINDOW_MS } from '../alarms/alarms.service.js';
import type { SelfMonitorConfig } from '../config/self-monitor.config.js';
import type { IngestTotals } from '../telemetry/ingest-counts.js';

/** Pure threshold logic of self-monitoring: no I/O, unit-tested beside it. */

export type Severity = 'info' | 'warning' | 'minor' | 'major' | 'critical';
const RANK: Record<Severity, number> = { info: 0, warning: 1, minor: 2, major: 3, critical: 4 };
const rank = (s: string) => RANK[s as Severity] ?? -1;

/** One watched condition as a check found it: `severity` null means it is fine. */
export interface Condition {
  /** The platform alarm's dedup key, e.g. `platform:dependency:redis`. */
  readonly key: string;
  readonly title: string;
  readonly severity: Severity | null;
  /** The measured figure (latency, free %, count…), kept as the alarm's last value. */
  readonly value: number | null;
  readonly details: Record<string, unknown>;
}

/**
 * While a condition lasts, its alarm is raised again (a repeat: occurrences + 1, last seen now)
 * only this often. Every raise counts towards flap detection when the alarm clears (FLAP_RAISES
 * raises within FLAP_WINDOW_MS keep it open as flapping): spaced like this, at most
 * FLAP_WINDOW_MS / REPEAT_MS + 1 (4) raises of one lasting condition fall in any flap window,
 * fewer than FLAP_RAISES, so a long outage resolves when it ends instead of counting as flapping.
 */
export const REPEAT_MS = Math.ceil(FLAP_WINDOW_MS / (FLAP_RAISES - 2));

export type Decision = 'raise' | 'clear' | 'keep';

/**
 * What to do about a condition given its open platform alarm (if any):
 * - failing: raise when none is open (also after someone resolved it while it still fails), when
 *   it got worse than the open alarm's severity, or when the alarm was last seen `REPEAT_MS` ago;
 * - fine: clear an open alarm this process raised, or one it finds on its first look at the key
 *   (left over from before a restart). Another instance's alarm is left to that instance, so
 *   instances that see a dependency differently do not resolve each other's alarms.
 */
export function decide(
  c: Pick<Condition, 'severity'>,
  open: { readonly severity: string; readonly lastSeenAt: number } | undefined,
  ctx: { readonly now: number; readonly mine: boolean; readonly firstLook: boolean },
): Decision {
  if (c.severity !== null) {
    if (!open) return 'raise';
    if (rank(c.severity) > rank(open.severity)) return 'raise';
    return ctx.now - open.lastSeenAt >= REPEAT_MS ? 'raise' : 'keep';
  }
  return open && (ctx.mine || ctx.firstLook) ? 'clear' : 'keep';
}

/** Free space of the data directory: `major` below the threshold, `critical` below half of it. */
export function diskSeverity(freePercent: number, thresholdPercent: number): Severity | null {
  if (thresholdPercent <= 0 || freePercent >= thresholdPercent) return null;
  return freePercent < thresholdPercent / 2 ? 'critical' : 'major';
}

/** Cumulative counters sampled over time; differences give the activity within a window. */
export class CounterHistory<T extends { readonly [K in keyof T]: number }> {
  private readonly samples: { at: number; value: T }[] = [];

  constructor(private readonly keepMs: number) {}

  add(at: number, value: T): void {
    this.samples.push({ at, value: { ...value } });
    // Keep one sample older than keepMs so a full window can always be measured.
    while (this.samples.length > 2 && this.samples[1]!.at <= at - this.keepMs) this.samples.shift();
  }

  /**
   * Activity from the oldest sample within `windowMs` of the newest (or of `current`, a reading
   * taken now and not kept) to that newest, with the time it actually covers; undefined without
   * two points to compare.
   */
  over(windowMs: number, current?: { at: number; value: T }): { delta: T; coveredMs: number } | undefined {
    const last = current ?? this.samples[this.samples.length - 1];
    const earlier = this.samples.filter((s) => s !== last && s.at < last!.at);
    if (!last || earlier.length === 0) return undefined;
    const from = earlier.find((s) => s.at >= last.at - windowMs) ?? earlier[earlier.length - 1]!;
    const delta = {} as Record<keyof T, number>;
    for (const k of Object.keys(last.value) as (keyof T)[]) delta[k] = last.value[k] - from.value[k];
    return { delta: delta as T, coveredMs: last.at - from.at };
  }
}

/** Ingest over the window: server-side failures, and the refused share of what was offered. */
export function ingestConditions(
  delta: IngestTotals,
  cfg: Pick<SelfMonitorConfig, 'ingestErrors' | 'rejectPercent' | 'rejectMinReadings'>,
): { errors: Severity | null; rejections: Severity | null; rejectedPercent: number; offered: number } {
  const offered = delta.accepted + delta.duplicates + delta.rejected + delta.failed;
  const rejectedPercent = offered === 0 ? 0 : (100 * delta.rejected) / offered;
  const errors = cfg.ingestErrors > 0 && delta.failedBatches >= cfg.ingestErrors ? 'major' : null;
  const rejections =
    cfg.rejectPercent > 0 && offered >= cfg.rejectMinReadings && rejectedPercent >= cfg.rejectPercent
      ? 'warning'
      : null;
  return { errors, rejections, rejectedPercent: Math.round(rejectedPercent * 10) / 10, offered };
}

/**
 * Event-loop lag must last: the alarm is raised after `checks` consecutive checks with the p99
 * above the threshold (`major` at four times it), and cleared by the first check below it.
 */
export class LagTracker {
  private streak = 0;

  constructor(
    private readonly thresholdMs: number,
    private readonly checks: number,
  ) {}

  observe(p99Ms: number): { severity: Severity | null; streak: number } {
    if (this.thresholdMs <= 0) return { severity: null, streak: 0 };
    this.streak = p99Ms > this.thresholdMs ? this.streak + 1 : 0;
    if (this.streak < this.checks) return { severity: null, streak: this.streak };
    return { severity: p99Ms > 4 * this.thresholdMs ? 'major' : 'warning', streak: this.streak };
  }
}

const FAILED_RUN = new Set(['failed', 'timed_out', 'abandoned']);

/**
 * A job is failing repeatedly when its last `n` finished runs (newest first) all failed; it is
 * fine again once its newest finished run succeeded. Fewer than `n` runs, all failed: not yet.
 */
export function jobFailing(statusesNewestFirst: readonly string[], n: number): boolean {
  if (n <= 0) return false;
  const finished = statusesNewestFirst.filter((s) => s !== 'running');
  return finished.length >= n && finished.slice(0, n).every((s) => FAILED_RUN.has(s));
}

/** Consecutive failed runs at the head of the list (newest first), for the alarm's details. */
export function failureStreak(statusesNewestFirst: readonly string[]): number {
  let n = 0;
  for (const s of statusesNewestFirst) {
    if (s === 'running') continue;
    if (!FAILED_RUN.has(s)) break;
    n++;
  }
  return n;
}
