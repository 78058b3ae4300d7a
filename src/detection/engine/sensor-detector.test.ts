import { describe, expect, it } from 'vitest';
import { backtest } from '../backtest/backtest.js';
import type { DetectorConfigDoc } from '../config/detector-config.schema.js';
import { effectiveConfig } from '../config/effective-config.js';
import { FIRE } from '../detectors/score.js';
import { D, DETECTORS, Evaluation, POINT_DETECTORS } from './evaluation.js';
import { SensorDetector } from './sensor-detector.js';
import { SensorState } from './sensor-state.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const T0 = Date.UTC(2026, 0, 5);
const STEP = 5 * 60_000;

/** A day-periodic temperature with noise and a few incidents. */
function series(n: number, seed: number): { ts: Float64Array; values: Float64Array } {
  const normal = rng(seed);
  const ts = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ts[i] = T0 + i * STEP;
    values[i] = 20 + 4 * Math.sin((2 * Math.PI * i) / 288) + 0.3 * normal();
    if (i % 997 === 500) values[i]! += 6;
    if (i >= 2600 && i < 2700) values[i]! += 3;
  }
  return { ts, values };
}

/** Every field of a verdict, for equality checks. */
function snapshot(out: Evaluation, det: SensorDetector, v: number) {
  return {
    score: out.score,
    pointScore: out.pointScore,
    confidence: out.confidence,
    anomaly: out.anomaly,
    late: out.late,
    suppressed: out.suppressed,
    scores: Array.from(out.scores),
    raw: Array.from(out.raw),
    center: Array.from(out.center),
    scale: Array.from(out.scale),
    transitions: out.transitions,
    explain: out.anomaly ? det.explain(out, v) : null,
  };
}

const off = { enabled: false } as const;

describe('the ensemble', () => {
  it('keeps every score in [0, 1], fires on an isolated spike once, and explains it', () => {
    const det = new SensorDetector(effectiveConfig({ heartbeat: off, flatline: off }));
    const s = det.newState();
    const out = new Evaluation();
    const normal = rng(1);
    const fired: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const v = i === 2500 ? 30 : 10 + normal();
      det.evaluate(s, T0 + i * STEP, v, out);
      for (const x of [out.score, out.pointScore, out.confidence, ...out.scores]) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(1);
      }
      if (out.pointScore >= det.config.threshold) fired.push(i);
      if (i === 2500) {
        expect(out.anomaly).toBe(true);
        expect(out.score).toBe(out.pointScore);
        const why = det.explain(out, v);
        expect(why.observed).toBe(30);
        expect(why.detectors.length).toBeGreaterThan(0);
        expect(why.detectors[0]!.score).toBeGreaterThanOrEqual(FIRE);
        expect(why.expected!.low).toBeLessThan(10);
        expect(why.expected!.high).toBeGreaterThan(10);
        expect(why.expected!.high).toBeLessThan(30);
        // The stored anomaly's detector (the pipeline takes the top point detector).
        let top: number = D.ewma;
        for (const d of POINT_DETECTORS) if (out.scores[d]! > out.scores[top]!) top = d;
        expect(out.scores[top]).toBe(out.pointScore);
        expect(out.confidence).toBeGreaterThan(0.5);
      }
    }
    // Pure noise raises (next to) nothing once the sensor is past its first readings: a new
    // extreme of the noise itself can still be one.
    expect(fired).toContain(2500);
    expect(fired.filter((i) => i >= 500 && i !== 2500).length).toBeLessThanOrEqual(1);
  });

  it('holds repeats below the threshold for the refractory period, but not a new extreme', () => {
    const spikes: Record<number, number> = { 2000: 25, 2010: 24.5, 2020: 60, 2030: 25, 2100: 25 };
    const run = (refractory: number) => {
      // Scored against their own firing levels (no history needed), so that each spike fires alone.
      const likelihood = { learn: 1_000_000, refractory };
      const det = new SensorDetector(effectiveConfig({ heartbeat: off, flatline: off, likelihood }));
      const s = det.newState();
      const out = new Evaluation();
      const normal = rng(2);
      const at: Record<number, { point: number; suppressed: boolean }> = {};
      for (let i = 0; i < 2200; i++) {
        const v = spikes[i] ?? 10 + 0.5 * normal();
        det.evaluate(s, T0 + i * STEP, v, out);
        if (i in spikes) at[i] = { point: out.pointScore, suppressed: out.suppressed };
      }
      return at;
    };
    const th = 0.7;
    // Without a refractory period every spike is an anomaly.
    for (const x of Object.values(run(0))) expect(x.point).toBeGreaterThanOrEqual(th);
    const at = run(50);
    expect(at[2000]!.point).toBeGreaterThanOrEqual(th);
    expect(at[2010]).toEqual({ point: th - 0.01, suppressed: true });
    expect(at[2020]!.point).toBeGreaterThanOrEqual(th); // beyond everything seen: fires, restarts the period
    expect(at[2030]).toEqual({ point: th - 0.01, suppressed: true });
    expect(at[2100]!.point).toBeGreaterThanOrEqual(th); // the period is over
  });

  it('adds active conditions to the score at 1, not to the point score', () => {
    const det = new SensorDetector(effectiveConfig({ rules: [{ id: 'hi', when: 'above', value: 100 }] }));
    const s = det.newState();
    const out = new Evaluation();
    for (let i = 0; i < 100; i++) det.evaluate(s, T0 + i * STEP, 101 + (i % 3), out);
    expect(out.score).toBe(1);
    expect(out.anomaly).toBe(true);
    expect(out.pointScore).toBeLessThan(det.config.threshold);
    expect(out.confidence).toBe(1);
  });
});

describe('state', () => {
  it('fits in 4 KB per sensor with the defaults', () => {
    const det = new SensorDetector(effectiveConfig());
    const s = det.newState();
    expect(s.byteLength).toBeLessThanOrEqual(4096);
    expect(s.toBytes().byteLength).toBeLessThanOrEqual(4096);
  });

  it('continues identically after a checkpoint and restore', () => {
    const doc: DetectorConfigDoc = { rules: [{ id: 'hot', when: 'above', value: 24, forS: 600 }] };
    const det = new SensorDetector(effectiveConfig(doc));
    const { ts, values } = series(4000, 3);
    const a = det.newState();
    const out = new Evaluation();
    for (let i = 0; i < 2000; i++) det.evaluate(a, ts[i]!, values[i]!, out);
    const bytes = a.toBytes();
    const b = det.restore(bytes)!;
    expect(b).not.toBeNull();
    expect(b.toBytes()).toEqual(bytes);
    expect(Array.from(b.sorted)).toEqual(Array.from(a.sorted));
    const outB = new Evaluation();
    let anomalies = 0;
    for (let i = 2000; i < 4000; i++) {
      det.evaluate(a, ts[i]!, values[i]!, out);
      det.evaluate(b, ts[i]!, values[i]!, outB);
      expect(snapshot(outB, det, values[i]!)).toEqual(snapshot(out, det, values[i]!));
      if (out.anomaly) anomalies++;
    }
    expect(anomalies).toBeGreaterThan(0);
    expect(b.toBytes()).toEqual(a.toBytes());
  });

  it('refuses a checkpoint of another layout or a malformed one', () => {
    const det = new SensorDetector(effectiveConfig());
    const bytes = det.newState().toBytes();
    expect(new SensorDetector(effectiveConfig({ mad: { window: 16 } })).restore(bytes)).toBeNull();
    expect(new SensorDetector(effectiveConfig({ seasonal: { period: 'day' } })).restore(bytes)).toBeNull();
    expect(new SensorDetector(effectiveConfig({ likelihood: { window: 4 } })).restore(bytes)).toBeNull();
    expect(det.restore(bytes.subarray(0, bytes.length - 8))).toBeNull();
    const old = bytes.slice();
    old[0] = 0x31; // the previous format's magic ("VDS1")
    expect(det.restore(old)).toBeNull();
    expect(
      SensorState.fromBytes(new Uint8Array(4), { rules: 0, window: 32, buckets: 192, likWindow: 3 }),
    ).toBeNull();
  });
});

describe('out-of-order readings', () => {
  it('scores a late reading without changing the state, deterministically', () => {
    const det = new SensorDetector(effectiveConfig());
    const { ts, values } = series(1500, 4);
    const s = det.newState();
    const out = new Evaluation();
    for (let i = 0; i < 1500; i++) det.evaluate(s, ts[i]!, values[i]!, out);
    const before = s.toBytes();
    const late = ts[1400]!;
    det.evaluate(s, late, 60, out);
    const first = snapshot(out, det, 60);
    expect(out.late).toBe(true);
    expect(out.anomaly).toBe(true);
    expect(det.explain(out, 60).late).toBe(true);
    expect(s.toBytes()).toEqual(before);
    det.evaluate(s, late, 60, out);
    expect(snapshot(out, det, 60)).toEqual(first);
    // A reading at the newest timestamp is late too.
    det.evaluate(s, ts[1499]!, values[1499]!, out);
    expect(out.late).toBe(true);
    expect(s.toBytes()).toEqual(before);
    // learn = false scores an in-order reading the same way, without learning it.
    det.evaluate(s, ts[1499]! + STEP, 60, out, false);
    expect(out.late).toBe(false);
    expect(s.toBytes()).toEqual(before);
  });

  it('gives the same results for the same accepted order', () => {
    const det = new SensorDetector(effectiveConfig());
    const { ts, values } = series(1200, 5);
    const run = () => {
      const s = det.newState();
      const out = new Evaluation();
      const res: number[] = [];
      for (let i = 0; i < 1200; i++) {
        // Every 50th reading arrives again, late, after the next one.
        det.evaluate(s, ts[i]!, values[i]!, out);
        res.push(out.score);
        if (i % 50 === 49 && i > 0) {
          det.evaluate(s, ts[i - 1]!, values[i - 1]!, out);
          res.push(out.score);
        }
      }
      return { res, bytes: s.toBytes() };
    };
    const a = run();
    const b = run();
    expect(b.res).toEqual(a.res);
    expect(b.bytes).toEqual(a.bytes);
  });
});

describe('backtest', () => {
  it('flags nothing in the training rows and learns from them', () => {
    const { ts, values } = series(3000, 6);
    const rows = [...backtest({ ts, columns: [{ name: 't', values }] }, { trainRows: 1000 })];
    expect(rows).toHaveLength(3000);
    expect(
      rows.slice(0, 1000).every((r) => r.explanation === 'training' && r.score === 0 && !r.anomaly),
    ).toBe(true);
    // The incident at 1497 (i % 997 === 500) and the step at 2600.
    expect(rows[1497]!.anomaly).toBe(true);
    expect(rows[1497]!.pointScore).toBeGreaterThanOrEqual(0.7);
    expect(rows[1497]!.fired.length).toBeGreaterThan(0);
    expect(rows[1497]!.explanation).toContain('"observed"');
    expect(rows.slice(2600, 2700).some((r) => r.anomaly)).toBe(true);
    for (const r of rows) {
      expect(r.score).toBeGreaterThanOrEqual(r.pointScore);
      expect(r.score).toBeLessThanOrEqual(1);
    }
    // The same rows without training rows: the same detector state, so identical verdicts after them.
    const all = [...backtest({ ts, columns: [{ name: 't', values }] })];
    expect(all.slice(1000).map((r) => r.score)).toEqual(rows.slice(1000).map((r) => r.score));
  });

  it('trains the Isolation Forest online when it is enabled', () => {
    const { ts, values } = series(2500, 7);
    const other = values.map((v) => 2 * v + 1);
    const config: DetectorConfigDoc = { isolationForest: { enabled: true, trees: 16, sampleSize: 64 } };
    const input = {
      ts,
      columns: [
        { name: 'a', values },
        { name: 'b', values: other },
      ],
    };
    const rows = [...backtest(input, { config, trainRows: 600, seed: 3 })];
    const without = [...backtest(input, { trainRows: 600 })];
    expect(rows).toHaveLength(2500);
    // The models (trained at row 600, again at 1200 and 2400) take part in the scores from then on.
    const differs = (r: (typeof rows)[number], i: number) => r.pointScore !== without[i]!.pointScore;
    expect(rows.slice(0, 600).some(differs)).toBe(false);
    expect(rows.slice(600).some(differs)).toBe(true);
    expect(rows.every((r) => r.score >= 0 && r.score <= 1)).toBe(true);
    expect(rows[1497]!.anomaly).toBe(true);
  });

  it('reports a raised condition on its row', () => {
    const ts = Float64Array.from({ length: 100 }, (_, i) => T0 + i * STEP + (i >= 60 ? 3_600_000 : 0));
    const values = Float64Array.from({ length: 100 }, (_, i) => Math.sin(i));
    const rows = [...backtest({ ts, columns: [{ name: 'x', values }] })];
    expect(rows.flatMap((r, i) => (r.raised ? [i] : []))).toEqual([60]);
    expect(rows[60]!.explanation).toContain('heartbeat raised');
    expect(DETECTORS).toContain('range');
  });
});
