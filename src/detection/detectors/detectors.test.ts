import { describe, expect, it } from 'vitest';
import type { DetectorConfigDoc } from '../config/detector-config.schema.js';
import { effectiveConfig } from '../config/effective-config.js';
import { D, Evaluation, type Transition } from '../engine/evaluation.js';
import { SensorDetector } from '../engine/sensor-detector.js';
import { F, SensorState } from '../engine/sensor-state.js';
import { expectedInterval, heartbeatDue } from './data-quality.js';
import { likelihood, UNCALIBRATED_FIRE } from './likelihood.js';
import { windowMad, windowMedian, windowPush } from './robust-window.js';
import { FIRE, levelScore } from './score.js';
import { bucketOf } from './statistics.js';

/** Deterministic noise: mulberry32 and Box-Muller. */
function rng(seed: number): { uniform: () => number; normal: () => number } {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

const T0 = Date.UTC(2026, 0, 5); // a Monday, 00:00 UTC
const MIN = 60_000;
const HOUR = 3_600_000;
const off = { enabled: false } as const;

/** Only the named statistical detector, scored raw (no likelihood, no refractory), no conditions. */
function only(doc: DetectorConfigDoc): SensorDetector {
  return new SensorDetector(
    effectiveConfig({
      rateOfChange: off,
      flatline: off,
      heartbeat: off,
      ewma: off,
      mad: off,
      shift: off,
      range: off,
      seasonal: off,
      likelihood: { enabled: false, refractory: 0 },
      ...doc,
    }),
  );
}

/** Feeds readings one minute apart from `start`; returns the verdict's fields per reading. */
function feed(det: SensorDetector, s: SensorState, values: readonly number[], start = T0, step = MIN) {
  const out = new Evaluation();
  return values.map((v, i) => {
    det.evaluate(s, start + i * step, v, out);
    return {
      score: out.score,
      point: out.pointScore,
      scores: Array.from(out.scores),
      raw: Array.from(out.raw),
      transitions: [...out.transitions] as Transition[],
    };
  });
}

const normals = (n: number, seed: number, mean = 10, sd = 1) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => mean + sd * r.normal());
};

describe('levelScore', () => {
  it('gives FIRE exactly at the firing level, linear below, towards 1 above', () => {
    expect(levelScore(6, 6)).toBeCloseTo(FIRE, 12);
    expect(levelScore(3, 6)).toBeCloseTo(FIRE / 2, 12);
    expect(levelScore(0, 6)).toBe(0);
    expect(levelScore(Number.NaN, 6)).toBe(0);
    expect(levelScore(600, 6)).toBeGreaterThan(0.99);
    expect(levelScore(600, 6)).toBeLessThan(1);
  });
});

describe('threshold rule', () => {
  const det = (rule: object) => only({ rules: [{ id: 'hot', when: 'above', value: 10, clear: 8, ...rule }] });
  const at = (s: number) => T0 + s * 1000;
  const run = (d: SensorDetector, readings: [number, number][]) => {
    const s = d.newState();
    const out = new Evaluation();
    return readings.map(([t, v]) => {
      d.evaluate(s, at(t), v, out);
      return { active: out.scores[D.threshold], events: out.transitions.map((x) => x.state).join(',') };
    });
  };

  it('raises exactly when the violation has lasted forS, not a reading before', () => {
    const r = run(det({ forS: 60 }), [
      [0, 11],
      [30, 12],
      [59, 11],
      [60, 11],
    ]);
    expect(r.map((x) => x.events)).toEqual(['', '', '', 'raised']);
    expect(r[3]!.active).toBe(1);
  });

  it('restarts the pending time when the value dips back inside the limit', () => {
    const r = run(det({ forS: 60 }), [
      [0, 11],
      [30, 9],
      [40, 11],
      [90, 11],
      [100, 11],
    ]);
    expect(r.map((x) => x.events)).toEqual(['', '', '', '', 'raised']);
  });

  it('stays raised inside the hysteresis band and clears only past `clear`', () => {
    const r = run(det({}), [
      [0, 11],
      [10, 9],
      [20, 8],
      [30, 7.9],
      [40, 9],
    ]);
    expect(r.map((x) => x.events)).toEqual(['raised', '', '', 'cleared', '']);
    expect(r.map((x) => x.active)).toEqual([1, 1, 1, 0, 0]);
  });

  it('clears only after clearForS past `clear`; a relapse restarts the clearing time', () => {
    const r = run(det({ clearForS: 30 }), [
      [0, 11],
      [10, 7],
      [20, 9],
      [30, 7],
      [59, 7],
      [60, 7],
    ]);
    expect(r.map((x) => x.events)).toEqual(['raised', '', '', '', '', 'cleared']);
  });

  it('handles "below" rules symmetrically', () => {
    const d = only({ rules: [{ id: 'low', when: 'below', value: 2, clear: 2.3, forS: 0 }] });
    const s = d.newState();
    const r = feed(d, s, [3, 1.9, 2.2, 2.31]);
    expect(r.map((x) => x.transitions.map((t) => t.state).join())).toEqual(['', 'raised', '', 'cleared']);
  });
});

describe('rate of change', () => {
  const ramp = (n: number, seed: number) => {
    const r = rng(seed);
    return Array.from({ length: n }, (_, i) => 100 + 0.5 * i + 0.1 * r.normal());
  };

  it('fires on a jump in a steady ramp, not on the ramp or its noise, and clears', () => {
    const det = only({ rateOfChange: { z: 8 } });
    const values = ramp(400, 1);
    values[300]! += 8;
    const r = feed(det, det.newState(), values);
    const fired = r.flatMap((x, i) => (x.scores[D.rate]! >= FIRE ? [i] : []));
    // The jump up, and the step back down to the ramp after it.
    expect(fired).toEqual([300, 301]);
    expect(r[302]!.scores[D.rate]).toBeLessThan(0.5);
  });

  it('judges against a configured limit per second when one is set', () => {
    const det = only({ rateOfChange: { maxPerS: 1 } });
    const r = feed(det, det.newState(), [0, 30, 60, 150], T0, MIN);
    expect(r[1]!.scores[D.rate]).toBeCloseTo(levelScore(0.5, 1), 12);
    expect(r[3]!.scores[D.rate]).toBeCloseTo(levelScore(1.5, 1), 12);
    expect(r[3]!.scores[D.rate]).toBeGreaterThan(FIRE);
  });
});

describe('flatline', () => {
  const det = () => only({ flatline: { minReadings: 20 } });
  const events = (r: ReturnType<typeof feed>) =>
    r.flatMap((x, i) => x.transitions.filter((t) => t.detector === 'flatline').map((t) => `${i}:${t.state}`));

  it('raises when a moving signal sticks, stays raised, clears when it moves again', () => {
    const values = [...normals(100, 2), ...Array(40).fill(7), ...normals(10, 3)];
    const r = feed(det(), det().newState(), values);
    // The 20th equal reading (the run starts at 100).
    expect(events(r)).toEqual(['119:raised', '140:cleared']);
    expect(r.slice(119, 140).every((x) => x.scores[D.flatline] === 1)).toBe(true);
  });

  it('does not fire on a signal that idles at a value normally, only on a much longer run', () => {
    const values: number[] = normals(40, 4);
    for (let k = 0; k < 6; k++) values.push(...Array(15).fill(0), ...normals(15, 10 + k));
    const idle = values.length;
    values.push(...Array(25).fill(0), ...normals(10, 30)); // under twice the usual idle: normal
    const stuck = values.length;
    values.push(...Array(60).fill(0), ...normals(5, 31)); // over twice the longest idle so far (25): stuck
    const r = feed(det(), det().newState(), values);
    expect(events(r)).toEqual([`${stuck + 50}:raised`, `${stuck + 60}:cleared`]);
    expect(r.slice(idle, stuck).every((x) => x.scores[D.flatline] === 0)).toBe(true);
  });
});

describe('flatline learning', () => {
  const det = () => only({ flatline: { minReadings: 20 } });
  it('learns a run that fired: the same idle again is normal, a run twice as long fires', () => {
    const values = [...normals(60, 40), ...Array(30).fill(5), ...normals(20, 41)];
    const again = values.length;
    values.push(...Array(30).fill(5), ...normals(20, 42));
    const longer = values.length;
    values.push(...Array(70).fill(5), ...normals(5, 43));
    const r = det();
    const out = feed(r, r.newState(), values);
    const ev = out.flatMap((x, i) =>
      x.transitions.filter((t) => t.detector === 'flatline').map((t) => `${i}:${t.state}`),
    );
    // First idle (no history of idling) fires at its 20th reading; the repeat of the same length
    // does not; the run longer than twice 30 fires at its 61st reading.
    expect(ev).toEqual([
      `${60 + 19}:raised`,
      `${90}:cleared`,
      `${longer + 60}:raised`,
      `${longer + 70}:cleared`,
    ]);
    expect(out.slice(again, longer).every((x) => x.scores[D.flatline] === 0)).toBe(true);
  });
});

describe('heartbeat', () => {
  const det = () => only({ heartbeat: { k: 5 } });

  it('learns the interval and reports a gap when the next reading arrives', () => {
    const d = det();
    const s = d.newState();
    const out = new Evaluation();
    for (let i = 0; i < 20; i++) d.evaluate(s, T0 + i * MIN, 1, out);
    expect(expectedInterval(s, d.config.heartbeat)).toBeCloseTo(MIN, 6);
    d.evaluate(s, T0 + 19 * MIN + 4 * MIN, 1, out); // 4 intervals: fine
    expect(out.transitions).toEqual([]);
    d.evaluate(s, T0 + 23 * MIN + 6 * MIN, 1, out); // 6 intervals: a gap
    expect(out.scores[D.heartbeat]).toBe(1);
    expect(out.transitions.map((t) => `${t.detector}:${t.state}`)).toEqual([
      'heartbeat:raised',
      'heartbeat:cleared',
    ]);
    expect(out.transitions[0]!.detail).toMatchObject({ silenceMs: 6 * MIN, k: 5 });
  });

  it('is raised once by the wall-clock sweep and cleared by the next reading', () => {
    const d = det();
    const s = d.newState();
    const out = new Evaluation();
    for (let i = 0; i < 20; i++) d.evaluate(s, T0 + i * MIN, 1, out);
    const last = T0 + 19 * MIN;
    expect(heartbeatDue(s, d.config.heartbeat, last + 5 * MIN)).toBe(false);
    expect(heartbeatDue(s, d.config.heartbeat, last + 5 * MIN + 1)).toBe(true);
    expect(heartbeatDue(s, d.config.heartbeat, last + 9 * MIN)).toBe(false); // already raised
    d.evaluate(s, last + 10 * MIN, 1, out);
    expect(out.transitions.map((t) => t.state)).toEqual(['cleared']);
    expect(heartbeatDue(s, d.config.heartbeat, last + 11 * MIN)).toBe(false);
  });

  it('uses a configured interval, and stays quiet when disabled', () => {
    const d = only({ heartbeat: { expectedIntervalS: 10, k: 3 } });
    const s = d.newState();
    feed(d, s, [1, 1, 1], T0, 10_000);
    expect(heartbeatDue(s, d.config.heartbeat, T0 + 20_000 + 30_001)).toBe(true);
    const quiet = only({});
    const q = quiet.newState();
    feed(quiet, q, [1, 1, 1], T0, 10_000);
    expect(heartbeatDue(q, quiet.config.heartbeat, T0 + 86_400_000)).toBe(false);
  });
});

describe('EWMA', () => {
  it('fires on a spike, not on normal noise, and clears on the next normal reading', () => {
    const det = only({ ewma: {} });
    const values = normals(600, 5);
    values[500] = 20;
    const r = feed(det, det.newState(), values);
    // Past the first readings after the warm-up, while the spread is still being learned.
    const fired = r.flatMap((x, i) => (i >= 100 && x.scores[D.ewma]! >= FIRE ? [i] : []));
    expect(fired).toEqual([500]);
    expect(r[501]!.scores[D.ewma]).toBeLessThan(0.5);
  });

  it('does not score before the warm-up', () => {
    const det = only({ ewma: {}, warmup: 30 });
    const values = normals(40, 6);
    values[20] = 100;
    const r = feed(det, det.newState(), values);
    expect(r[20]!.scores[D.ewma]).toBe(0);
    expect(r[20]!.raw[D.ewma]).toBeGreaterThan(FIRE);
  });
});

describe('median / MAD window', () => {
  it('fires on an outlier, not on normal noise, and clears', () => {
    const det = only({ mad: {} });
    const values = normals(400, 7);
    values[300] = 19;
    const r = feed(det, det.newState(), values);
    const fired = r.flatMap((x, i) => (x.scores[D.mad]! >= FIRE ? [i] : []));
    // A 32-reading MAD is itself noisy: a rare false alarm on pure noise, not more.
    expect(fired).toContain(300);
    expect(fired.length).toBeLessThanOrEqual(2);
    expect(r[301]!.scores[D.mad]).toBeLessThan(0.5);
  });

  it('keeps the sorted copy of the window and its median and MAD exact', () => {
    const s = new SensorState(0, 9, 24);
    const r = rng(8);
    const seen: number[] = [];
    for (let i = 0; i < 200; i++) {
      const v = Math.round(r.uniform() * 20); // ties included
      windowPush(s, v);
      seen.push(v);
      const w = seen.slice(-9).sort((a, b) => a - b);
      expect(Array.from(s.sorted.subarray(0, w.length))).toEqual(w);
      const med = w.length % 2 ? w[(w.length - 1) / 2]! : (w[w.length / 2 - 1]! + w[w.length / 2]!) / 2;
      expect(windowMedian(s)).toBe(med);
      const dev = w.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
      const mad =
        dev.length % 2 ? dev[(dev.length - 1) / 2]! : (dev[dev.length / 2 - 1]! + dev[dev.length / 2]!) / 2;
      expect(windowMad(s, med)).toBe(mad);
    }
  });
});

describe('seasonal', () => {
  /** Five-minute readings: about 10 at night, about 50 in the afternoon. */
  const daily = (days: number, seed: number) => {
    const r = rng(seed);
    return Array.from({ length: days * 288 }, (_, i) => {
      const hour = (i * 5) / 60;
      return 30 - 20 * Math.cos((2 * Math.PI * hour) / 24) + r.normal();
    });
  };

  for (const period of ['day', 'day+week'] as const) {
    it(`(${period}) finds a value normal at 03:00 abnormal at 15:00`, () => {
      const det = only({ seasonal: { period } });
      const s = det.newState();
      feed(det, s, daily(14, 9), T0, 5 * MIN);
      const out = new Evaluation();
      const day = T0 + 14 * 24 * HOUR;
      const night = 30 - 20 * Math.cos((2 * Math.PI * 3) / 24);
      det.evaluate(s, day + 3 * HOUR, night, out);
      expect(out.scores[D.seasonal]).toBeLessThan(0.5);
      det.evaluate(s, day + 15 * HOUR, night, out);
      expect(out.scores[D.seasonal]).toBeGreaterThanOrEqual(FIRE);
      // The explanation's expected range is the afternoon's.
      expect(out.center[D.seasonal]).toBeGreaterThan(40);
      det.evaluate(s, day + 15 * HOUR + 5 * MIN, 30 - 20 * Math.cos((2 * Math.PI * 15) / 24), out);
      expect(out.scores[D.seasonal]).toBeLessThan(0.5);
    });
  }

  it('uses the site-local hour and the hour of the week', () => {
    expect(bucketOf(T0 + 3 * HOUR, 24, 0)).toBe(3);
    expect(bucketOf(T0 + 3 * HOUR, 24, 2 * HOUR)).toBe(5);
    expect(bucketOf(T0 - HOUR, 24, 0)).toBe(23);
    expect(bucketOf(T0 + 24 * HOUR, 168, 0)).toBe((bucketOf(T0, 168, 0) + 24) % 168);
  });

  it('learns that Mondays differ from the rest of the week (week), or forgives them (day+week)', () => {
    const r = rng(10);
    const values: number[] = [];
    // Four weeks of hourly readings: 10 every day, but 40 on Mondays 09:00-17:00.
    for (let h = 0; h < 28 * 24; h++) {
      const monday = Math.floor(h / 24) % 7 === 0 && h % 24 >= 9 && h % 24 < 17;
      values.push((monday ? 40 : 10) + r.normal());
    }
    const monday = T0 + 28 * 24 * HOUR;
    const score = (period: 'day' | 'week' | 'day+week', ts: number, v: number) => {
      const det = only({ seasonal: { period } });
      const s = det.newState();
      feed(det, s, values, T0, HOUR);
      const out = new Evaluation();
      det.evaluate(s, ts, v, out);
      return out.scores[D.seasonal]!;
    };
    // A busy Monday morning: usual for the hour of the week.
    expect(score('week', monday + 10 * HOUR, 40)).toBeLessThan(0.5);
    expect(score('day+week', monday + 10 * HOUR, 40)).toBeLessThan(0.5);
    // A busy Tuesday morning: unusual for the week; with both profiles only what neither explains fires.
    expect(score('week', monday + 34 * HOUR, 40)).toBeGreaterThanOrEqual(FIRE);
    expect(score('day+week', monday + 34 * HOUR, 100)).toBeGreaterThanOrEqual(FIRE);
  });
});

describe('range', () => {
  it('a young envelope does not fire on a trend reaching new extremes step by step, only on a jump', () => {
    const det = new SensorDetector(effectiveConfig({}));
    const s = det.newState();
    const r = rng(12);
    // A sensor's first hours: a steady rise with noise, every few readings a new maximum.
    const rise = Array.from({ length: 600 }, (_, i) => 40 + 0.02 * i + 0.3 * r.uniform());
    const seen = feed(det, s, rise);
    expect(seen.filter((x) => x.scores[D.range]! >= FIRE)).toEqual([]);
    const out = new Evaluation();
    det.evaluate(s, T0 + 600 * MIN, s.f[F.rangeHi]! + 3, out);
    expect(out.scores[D.range]).toBeGreaterThanOrEqual(FIRE);
  });

  it('fires on a value past everything seen by more than the tolerance, not within it', () => {
    const det = only({ range: { tolerance: 0.02 } });
    const s = det.newState();
    const r = rng(11);
    feed(
      det,
      s,
      Array.from({ length: 500 }, () => 10 * r.uniform()),
    );
    const out = new Evaluation();
    const lo = s.f[F.rangeLo]!;
    const hi = s.f[F.rangeHi]!;
    det.evaluate(s, T0 + 500 * MIN, hi + 0.01 * (hi - lo), out);
    expect(out.scores[D.range]).toBe(0);
    det.evaluate(s, T0 + 501 * MIN, hi + 0.05 * (hi - lo), out);
    expect(out.scores[D.range]).toBeGreaterThanOrEqual(FIRE);
    expect(out.center[D.range]! - out.scale[D.range]!).toBeLessThan(lo);
    det.evaluate(s, T0 + 502 * MIN, lo - 0.5 * (hi - lo), out);
    expect(out.scores[D.range]).toBeGreaterThan(0.9);
    det.evaluate(s, T0 + 503 * MIN, 5, out);
    expect(out.scores[D.range]).toBe(0);
  });
});

describe('shift and the likelihood stage', () => {
  it('a sustained shift of 3 sd fires through the likelihood though no single reading is a 6 sd outlier', () => {
    const det = new SensorDetector(
      effectiveConfig({ flatline: off, heartbeat: off, range: off, seasonal: off, rateOfChange: off }),
    );
    const values = [...normals(3000, 12), ...normals(40, 13, 13)];
    const r = feed(det, det.newState(), values);
    const after = r.slice(3000);
    expect(after.some((x) => x.scores[D.shift]! >= FIRE)).toBe(true);
    expect(after.every((x) => x.raw[D.ewma]! < FIRE)).toBe(true);
    expect(after.some((x) => x.point >= 0.7)).toBe(true);
    // Before the shift, the same detectors stay quiet.
    expect(r.slice(500, 3000).filter((x) => x.point >= 0.7).length).toBeLessThanOrEqual(2);
  });

  it('calibrates a score against the detector’s own history', () => {
    const s = new SensorState(0, 32, 24, 3);
    const out = new Evaluation();
    const c = { enabled: true, window: 3, learn: 100, history: 1000, z: 7.5, refractory: 0 };
    const r = rng(14);
    const step = (raw: number, learn = true) => {
      out.raw[D.ewma] = raw;
      likelihood(s, 1, c, out, D.ewma, learn);
      return out.scores[D.ewma]!;
    };
    // Uncalibrated at first: the raw score against a stricter firing level.
    expect(step(0.8)).toBeCloseTo(levelScore(0.8, UNCALIBRATED_FIRE), 12);
    for (let i = 0; i < 2000; i++) step(0.3 + 0.02 * r.normal());
    // After two usual scores, 0.9 lifts the 3-reading average to 0.5: far above its usual 0.3 ± 0.012.
    step(0.3);
    step(0.3);
    const before = Array.from(s.lik);
    expect(step(0.9, false)).toBeGreaterThanOrEqual(FIRE);
    expect(Array.from(s.lik)).toEqual(before); // not learning
    expect(step(0.32, false)).toBeLessThan(0.5);
  });

  it('judges a heavy-tailed sensor by its own tails: far fewer alarms than raw scores would give', () => {
    const r = rng(15);
    // A sensor whose noise is 8 times larger on 2 % of readings: 6 sd excursions are routine for it.
    const values = Array.from({ length: 20_000 }, () => 10 + r.normal() * (r.uniform() < 0.02 ? 8 : 1));
    const count = (doc: DetectorConfigDoc) => {
      const det = new SensorDetector(effectiveConfig({ flatline: off, heartbeat: off, range: off, ...doc }));
      return feed(det, det.newState(), values).filter((x) => x.point >= 0.7).length;
    };
    const raw = count({ likelihood: { enabled: false, refractory: 0 } });
    const calibrated = count({ likelihood: { refractory: 0 } });
    expect(raw).toBeGreaterThan(100);
    expect(calibrated).toBeLessThan(raw / 10);
  });
});
