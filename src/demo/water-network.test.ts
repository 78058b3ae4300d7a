import { describe, expect, it } from 'vitest';
import {
  ASSET_DETECTOR_DOCS,
  ASSETS,
  DEVICES,
  defaultScenario,
  demand,
  SENSOR_TYPES,
  SENSORS,
  valueAt,
} from './water-network.js';

const MIN = 60_000;

describe('demo water network', () => {
  const start = Date.UTC(2026, 10, 24, 2, 0);
  const s = defaultScenario(start);
  const at = (key: string, ts: number, frozen = new Map<string, number>()) => valueAt(key, ts, s, frozen);

  it('every sensor has a known type and device, and a value inside its valid range before the events', () => {
    for (const sensor of SENSORS) {
      const type = SENSOR_TYPES.find((t) => t.key === sensor.type)!;
      expect(type).toBeDefined();
      expect(DEVICES.some((d) => d.key === sensor.device)).toBe(true);
      const v = at(sensor.key, start - 60 * MIN)!;
      expect(v).toBeGreaterThanOrEqual(type.validMin);
      expect(v).toBeLessThanOrEqual(type.validMax);
    }
  });

  it('demand follows a day: low at night, high at the morning peak', () => {
    expect(demand(Date.UTC(2026, 0, 1, 3))).toBeLessThan(0.6);
    expect(demand(Date.UTC(2026, 0, 1, 7, 30))).toBeGreaterThan(1.1);
  });

  it('the leak raises night flow and lowers pressure in Old Town', () => {
    const before = at('dma-l1/flow', s.leakAt - MIN)!;
    const after = at('dma-l1/flow', s.leakAt + MIN)!;
    expect(after - before).toBeGreaterThan(30);
    expect(at('dma-l1/pressure', s.leakAt + MIN)!).toBeLessThan(at('dma-l1/pressure', s.leakAt - MIN)! - 0.3);
  });

  it('the leak, and only the leak, meets every condition of the Old Town leak-suspected rule, at any time of day', () => {
    const rule = ASSET_DETECTOR_DOCS['meter-l1']!.assetRules!.find((r) => r.id === 'leak-suspected')!;
    expect(rule.op).toBe('and');
    const meter = ASSETS.find((a) => a.key === 'meter-l1')!;
    for (const c of rule.conditions) expect(SENSORS.find((x) => x.key === c.sensor)!.asset).toBe(meter.key);
    /** Per condition: whether the value is past `limit` (its raising value, or its clear level). */
    const past = (ts: number, sc: typeof s, limit: 'value' | 'clear') =>
      rule.conditions.map((c) => {
        const v = valueAt(c.sensor, ts, sc, new Map())!;
        const at = limit === 'clear' ? (c.clear ?? c.value) : c.value;
        return c.when === 'below' ? v < at : v > at;
      });
    // A day in steps of 7 s (so the noise varies too), without the leak and with it.
    const day = Date.UTC(2026, 10, 24);
    const noLeak = defaultScenario(day + 2 * 86_400_000);
    const leaking = defaultScenario(day - 86_400_000);
    for (let ts = day; ts < day + 86_400_000; ts += 7_000) {
      const when = new Date(ts).toISOString();
      // Without a leak some condition is outside even its clear level: the rule neither raises
      // nor stays raised...
      expect(past(ts, noLeak, 'clear').every(Boolean), when).toBe(false);
      // ...and with it every condition holds, at night and at the demand peaks alike.
      expect(past(ts, leaking, 'value'), when).toEqual([true, true]);
    }
  });

  it('the leak can start sooner (for tests); by default two minutes in', () => {
    expect(s.leakAt - start).toBe(2 * MIN);
    expect(defaultScenario(start, { leakAfterMs: 5_000 }).leakAt).toBe(start + 5_000);
  });

  it('pump 2 vibration keeps rising; the chlorine analyser freezes; the town tank logger goes silent', () => {
    expect(at('pump-2/vibration', start + 6 * 60 * MIN)!).toBeGreaterThan(at('pump-2/vibration', start)! + 3);
    const frozen = new Map<string, number>();
    const last = at('dma-l1/chlorine', s.stuckAt - MIN, frozen);
    for (let i = 0; i < 10; i++) expect(at('dma-l1/chlorine', s.stuckAt + i * MIN, frozen)).toBe(last);
    expect(at('tank-low/level', s.silentAt - MIN)).not.toBeNull();
    expect(at('tank-low/level', s.silentAt + MIN)).toBeNull();
  });
});
