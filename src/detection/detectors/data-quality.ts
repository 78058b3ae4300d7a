import type { EffectiveConfig } from '../config/effective-config.js';
import { D, type Evaluation } from '../engine/evaluation.js';
import { F, type SensorState } from '../engine/sensor-state.js';

/** The longest flat run this sensor has had (kept in the spare slot). */
const LONGEST_RUN = F.reserved;

/** Learns the interval between readings from arrivals (a gap only nudges it). */
export function learnInterval(s: SensorState, ts: number): void {
  const f = s.f;
  if (f[F.n]! < 1) return;
  const dt = ts - f[F.lastTs]!;
  const cur = f[F.interval]!;
  if (f[F.n]! === 1 || !(cur > 0)) f[F.interval] = dt;
  else f[F.interval] = cur + 0.05 * (Math.min(dt, 2 * cur) - cur);
}

/** The interval a sensor is expected to report at: configured, else learned (0 while unknown). */
export function expectedInterval(s: SensorState, c: EffectiveConfig['heartbeat']): number {
  if (c.expectedMs !== null) return c.expectedMs;
  return s.f[F.n]! >= 3 ? s.f[F.interval]! : 0;
}

/**
 * A reading after a silence of more than k expected intervals: the gap is over. If the sweep had
 * already raised it, it clears now; otherwise (backfill, backtest) it is raised and cleared here.
 */
export function heartbeatOnArrival(
  s: SensorState,
  c: EffectiveConfig['heartbeat'],
  ts: number,
  out: Evaluation,
  raiseOnArrival = true,
): void {
  const f = s.f;
  const expected = expectedInterval(s, c);
  const silence = ts - f[F.lastTs]!;
  const gap = expected > 0 && silence > c.k * expected;
  if (f[F.gapActive] === 1) {
    f[F.gapActive] = 0;
    out.transitions.push({
      detector: 'heartbeat',
      ruleId: null,
      state: 'cleared',
      severity: 'warning',
      detail: { silenceMs: silence, expectedIntervalMs: expected },
    });
    return;
  }
  if (!gap || !raiseOnArrival) return;
  out.scores[D.heartbeat] = 1;
  const detail = { silenceMs: silence, expectedIntervalMs: expected, k: c.k, lastReadingAt: f[F.lastTs]! };
  out.transitions.push(
    { detector: 'heartbeat', ruleId: null, state: 'raised', severity: 'warning', detail },
    { detector: 'heartbeat', ruleId: null, state: 'cleared', severity: 'warning', detail },
  );
}

/** The sweep's check at wall-clock `now`: true when the sensor has just gone silent for too long. */
export function heartbeatDue(s: SensorState, c: EffectiveConfig['heartbeat'], now: number): boolean {
  const f = s.f;
  if (!c.enabled || f[F.gapActive] === 1 || f[F.n]! < 3) return false;
  const expected = expectedInterval(s, c);
  if (!(expected > 0) || now - f[F.lastTs]! <= c.k * expected) return false;
  f[F.gapActive] = 1;
  return true;
}

/**
 * A stuck value: the same value (within the tolerance) for at least `minReadings` readings and
 * `minDurationMs`, and longer than twice any flat run this sensor has had before (so a signal
 * that often idles at a value does not count as stuck).
 */
export function flatline(
  s: SensorState,
  c: EffectiveConfig['flatline'],
  ts: number,
  v: number,
  out: Evaluation,
): void {
  const f = s.f;
  if (f[F.n]! > 0 && Math.abs(v - f[F.flatValue]!) <= c.tolerance) {
    f[F.flatCount] = f[F.flatCount]! + 1;
  } else {
    const run = f[F.flatCount]!;
    if (f[F.flatActive] === 1) {
      f[F.flatActive] = 0;
      out.transitions.push({
        detector: 'flatline',
        ruleId: null,
        state: 'cleared',
        severity: 'warning',
        detail: { value: f[F.flatValue]!, readings: run, sinceTs: f[F.flatSince]! },
      });
    }
    // Fired runs are learned too: a signal that idles like this again is idling, not stuck (a
    // stuck sensor still fires once its run is twice as long as any before).
    if (run > f[LONGEST_RUN]!) f[LONGEST_RUN] = run;
    f[F.flatSince] = ts;
    f[F.flatValue] = v;
    f[F.flatCount] = 1;
    return;
  }
  if (f[F.flatActive] === 1) {
    out.scores[D.flatline] = 1;
    return;
  }
  const count = f[F.flatCount]!;
  if (count < c.minReadings || count <= 2 * f[LONGEST_RUN]!) return;
  if (c.minDurationMs !== null && ts - f[F.flatSince]! < c.minDurationMs) return;
  f[F.flatActive] = 1;
  out.scores[D.flatline] = 1;
  out.transitions.push({
    detector: 'flatline',
    ruleId: null,
    state: 'raised',
    severity: 'warning',
    detail: { value: v, readings: count, sinceTs: f[F.flatSince]!, longestNormalRun: f[LONGEST_RUN]! },
  });
}
