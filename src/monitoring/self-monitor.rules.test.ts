import { describe, expect, it } from 'vitest';
import { FLAP_RAISES, FLAP_WINDOW_MS } from '../alarms/alarms.service.js';
import {
  CounterHistory,
  decide,
  diskSeverity,
  failureStreak,
  ingestConditions,
  jobFailing,
  LagTracker,
  REPEAT_MS,
} from './self-monitor.rules.js';

const T = 1_800_000_000_000;

describe('self-monitoring rules', () => {
  it('raises a failing condition once, repeats it only every REPEAT_MS, and at once when it worsens', () => {
    const ctx = { now: T, mine: false, firstLook: false };
    expect(decide({ severity: 'major' }, undefined, ctx)).toBe('raise');
    const open = { severity: 'major', lastSeenAt: T - 60_000 };
    expect(decide({ severity: 'major' }, open, ctx)).toBe('keep');
    expect(decide({ severity: 'warning' }, open, ctx)).toBe('keep');
    expect(decide({ severity: 'critical' }, open, ctx)).toBe('raise');
    expect(decide({ severity: 'major' }, { ...open, lastSeenAt: T - REPEAT_MS }, ctx)).toBe('raise');
  });

  it('repeats a lasting condition too rarely for it to count as flapping', () => {
    // The raises of one long outage that fit in any flap window stay below FLAP_RAISES.
    expect(Math.floor(FLAP_WINDOW_MS / REPEAT_MS) + 1).toBeLessThan(FLAP_RAISES);
  });

  it('clears only its own alarm, or one it finds on its first look (left from before a restart)', () => {
    const open = { severity: 'major', lastSeenAt: T };
    const fine = { severity: null };
    expect(decide(fine, open, { now: T, mine: true, firstLook: false })).toBe('clear');
    expect(decide(fine, open, { now: T, mine: false, firstLook: true })).toBe('clear');
    expect(decide(fine, open, { now: T, mine: false, firstLook: false })).toBe('keep');
    expect(decide(fine, undefined, { now: T, mine: true, firstLook: true })).toBe('keep');
  });

  it('grades free disk space', () => {
    expect(diskSeverity(50, 10)).toBeNull();
    expect(diskSeverity(10, 10)).toBeNull();
    expect(diskSeverity(9.9, 10)).toBe('major');
    expect(diskSeverity(4.9, 10)).toBe('critical');
    expect(diskSeverity(1, 0)).toBeNull();
  });

  it('measures counters over a window from cumulative samples', () => {
    const h = new CounterHistory<{ a: number }>(120_000);
    expect(h.over(60_000)).toBeUndefined();
    h.add(T, { a: 0 });
    h.add(T + 30_000, { a: 10 });
    h.add(T + 60_000, { a: 25 });
    h.add(T + 90_000, { a: 40 });
    expect(h.over(60_000)).toEqual({ delta: { a: 30 }, coveredMs: 60_000 });
    expect(h.over(10 * 60_000)).toEqual({ delta: { a: 40 }, coveredMs: 90_000 });
    // A reading taken now, not kept.
    expect(h.over(30_000, { at: T + 100_000, value: { a: 45 } })).toEqual({
      delta: { a: 5 },
      coveredMs: 10_000,
    });
    // Old samples are dropped, one beyond the kept span remaining.
    h.add(T + 400_000, { a: 50 });
    expect(h.over(10 * 60_000)?.coveredMs).toBe(310_000);
  });

  it('judges ingest errors by count and refusals by share above a minimum volume', () => {
    const cfg = { ingestErrors: 10, rejectPercent: 25, rejectMinReadings: 100 };
    const d = { accepted: 60, duplicates: 0, rejected: 40, failed: 0, failedBatches: 0 };
    expect(ingestConditions(d, cfg)).toMatchObject({
      errors: null,
      rejections: 'warning',
      rejectedPercent: 40,
    });
    expect(ingestConditions({ ...d, accepted: 6, rejected: 4 }, cfg).rejections).toBeNull();
    expect(ingestConditions({ ...d, rejected: 10 }, cfg).rejections).toBeNull();
    expect(ingestConditions({ ...d, failedBatches: 10, failed: 500 }, cfg).errors).toBe('major');
    expect(ingestConditions({ ...d, failedBatches: 9 }, cfg).errors).toBeNull();
    expect(ingestConditions({ ...d, failedBatches: 99 }, { ...cfg, ingestErrors: 0 }).errors).toBeNull();
  });

  it('raises event-loop lag only after N lagging checks in a row', () => {
    const lag = new LagTracker(100, 3);
    expect(lag.observe(150).severity).toBeNull();
    expect(lag.observe(150).severity).toBeNull();
    expect(lag.observe(50).severity).toBeNull();
    expect(lag.observe(150).severity).toBeNull();
    expect(lag.observe(150).severity).toBeNull();
    expect(lag.observe(150)).toEqual({ severity: 'warning', streak: 3 });
    expect(lag.observe(500).severity).toBe('major');
    expect(lag.observe(10)).toEqual({ severity: null, streak: 0 });
    expect(new LagTracker(0, 1).observe(1e6).severity).toBeNull();
  });

  it('finds jobs whose last N finished runs failed', () => {
    expect(jobFailing(['failed', 'timed_out', 'abandoned', 'succeeded'], 3)).toBe(true);
    expect(jobFailing(['running', 'failed', 'failed', 'failed'], 3)).toBe(true);
    expect(jobFailing(['succeeded', 'failed', 'failed', 'failed'], 3)).toBe(false);
    expect(jobFailing(['failed', 'failed'], 3)).toBe(false);
    expect(jobFailing(['failed'], 0)).toBe(false);
    expect(failureStreak(['running', 'failed', 'failed', 'succeeded', 'failed'])).toBe(2);
  });
});
