import type { EnvReader } from './env-reader.js';

/** Self-monitoring: how often Vigil checks itself and when a check raises a platform alarm. */
export interface SelfMonitorConfig {
  /** 0: self-monitoring is off. */
  readonly intervalMs: number;
  /** The window ingest and notification rates are measured over. */
  readonly windowMs: number;
  /** Free space of the data directory below this percentage raises `major` (below half of it, `critical`); 0: off. */
  readonly diskFreePercent: number;
  /** Server-side ingest failures (batches not stored: 5xx) within the window that raise an alarm; 0: off. */
  readonly ingestErrors: number;
  /** Share of readings refused (4xx) within the window that raises an alarm; 0: off. */
  readonly rejectPercent: number;
  /** Readings offered within the window below which the refused share is not judged. */
  readonly rejectMinReadings: number;
  /** Event-loop delay p99 (ms) above which a check counts as lagging; 0: off. */
  readonly loopLagMs: number;
  /** Consecutive lagging checks that raise the alarm. */
  readonly loopLagChecks: number;
  /** Notification deliveries failed (within the window) or waiting for a retry that raise an alarm; 0: off. */
  readonly notifyFailures: number;
  /** A job whose last this many runs all failed raises an alarm; 0: off. */
  readonly jobFailures: number;
}

export function readSelfMonitor(r: EnvReader): SelfMonitorConfig {
  const intervalS = r.int('SELF_MONITOR_INTERVAL_S', { min: 0, max: 3600 }, 30);
  const windowS = r.int('SELF_MONITOR_WINDOW_S', { min: 60, max: 86_400 }, 300);
  if (intervalS > 0 && windowS < intervalS)
    r.problem('SELF_MONITOR_WINDOW_S', `must be at least SELF_MONITOR_INTERVAL_S (${intervalS})`);
  return {
    intervalMs: intervalS * 1000,
    windowMs: windowS * 1000,
    diskFreePercent: r.int('SELF_MONITOR_DISK_FREE_PERCENT', { min: 0, max: 99 }, 10),
    ingestErrors: r.int('SELF_MONITOR_INGEST_ERRORS', { min: 0, max: 1_000_000 }, 10),
    rejectPercent: r.int('SELF_MONITOR_REJECT_PERCENT', { min: 0, max: 100 }, 25),
    rejectMinReadings: r.int('SELF_MONITOR_REJECT_MIN_READINGS', { min: 1, max: 100_000_000 }, 100),
    loopLagMs: r.int('SELF_MONITOR_LOOP_LAG_MS', { min: 0, max: 60_000 }, 500),
    loopLagChecks: r.int('SELF_MONITOR_LOOP_LAG_CHECKS', { min: 1, max: 1000 }, 3),
    notifyFailures: r.int('SELF_MONITOR_NOTIFY_FAILURES', { min: 0, max: 1_000_000 }, 5),
    jobFailures: r.int('SELF_MONITOR_JOB_FAILURES', { min: 0, max: 100 }, 3),
  };
}
