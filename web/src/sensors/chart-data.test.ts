import { describe, expect, it } from 'vitest';
import type { Anomaly } from '../api/types';
import {
  explain,
  fromBuckets,
  normalizeRules,
  normalRange,
  resolutionFor,
  windowsIn,
  withLiveTail,
} from './chart-data';

const H = 3_600_000;

describe('chart data', () => {
  it('reads raw readings for short windows and the finest bucket that fits for long ones', () => {
    expect(resolutionFor(H)).toEqual({ kind: 'raw' });
    expect(resolutionFor(24 * H)).toMatchObject({ kind: 'bucket', bucket: '1m' });
    expect(resolutionFor(7 * 24 * H)).toMatchObject({ kind: 'bucket', bucket: '15m' });
    expect(resolutionFor(365 * 24 * H)).toMatchObject({ kind: 'bucket', bucket: '6h' });
  });

  it('takes threshold rules in the engine shape or the document shape, and finds the normal range', () => {
    const rules = normalizeRules([
      { id: 'high', below: false, value: 7.1, clear: 6.5, forMs: 60_000, severity: 'major' },
      { id: 'low', when: 'below', value: 2, forS: 300 },
      { id: 'broken' },
    ]);
    expect(rules).toEqual([
      { id: 'high', when: 'above', value: 7.1, clear: 6.5, forS: 60, severity: 'major' },
      { id: 'low', when: 'below', value: 2, forS: 300 },
    ]);
    expect(normalRange(rules)).toEqual({ low: 2, high: 7.1 });
    expect(normalizeRules(undefined)).toEqual([]);
  });

  it('expands daily maintenance windows into the visible range', () => {
    const start = Date.parse('2026-11-20T02:00:00Z');
    const out = windowsIn(
      [
        {
          id: 'w',
          assetId: 'a',
          siteId: null,
          title: 'Nightly flush',
          startsAt: new Date(start).toISOString(),
          endsAt: new Date(start + H).toISOString(),
          recurrence: 'daily',
          until: null,
        },
      ],
      Date.parse('2026-11-24T00:00:00Z'),
      Date.parse('2026-11-26T00:00:00Z'),
    );
    expect(out.map((w) => new Date(w.start).toISOString())).toEqual([
      '2026-11-24T02:00:00.000Z',
      '2026-11-25T02:00:00.000Z',
    ]);
  });

  it('appends live readings after the loaded history, in order and once', () => {
    const base = fromBuckets([
      { ts: '2026-11-24T00:00:00Z', empty: false, count: 2, min: 1, max: 3, avg: 2 },
      { ts: '2026-11-24T00:01:00Z', empty: true, count: 0, min: null, max: null, avg: null },
    ]);
    const t1 = Date.parse('2026-11-24T00:01:00Z');
    const s = withLiveTail(base, [
      { ts: t1 + 2000, value: 5 },
      { ts: t1 - 5000, value: 9 },
      { ts: t1 + 1000, value: 4 },
    ]);
    expect(s.v).toEqual([2, null, 4, 5]);
    expect(s.min).toEqual([1, null, null, null]);
  });

  it('explains anomalies in a sentence', () => {
    const point = {
      id: 1,
      sensorId: 's',
      assetId: null,
      ts: '2026-11-23T20:58:00.000Z',
      value: 9,
      kind: 'point',
      detector: 'range',
      ruleId: null,
      severity: null,
      score: 0.9993,
      confidence: 0.75,
      detectors: ['range', 'mad'],
      explanation: {
        observed: 9,
        expected: { low: 2.8672, high: 3.5328, from: 'range' },
        detectors: [
          { detector: 'range', score: 0.999 },
          { detector: 'mad', score: 0.506 },
        ],
      },
    } as Anomaly;
    expect(explain(point, 'bar')).toBe(
      'Anomaly (score 1.00); observed 9.00 bar; expected 2.87–3.53 bar; detectors: range 1.00, mad 0.51',
    );
    const raised = {
      ...point,
      kind: 'raised',
      detector: 'threshold',
      ruleId: 'low-pressure',
      explanation: { observed: 1.8, when: 'below', value: 2, clear: 2.3, forMs: 300_000 },
    } as Anomaly;
    expect(explain(raised, 'bar')).toBe('Rule low-pressure raised: 1.80 bar below 2.00 bar for 5 min');
  });
});
