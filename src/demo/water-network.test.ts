import { describe, expect, it } from 'vitest';
import { DEVICES, defaultScenario, demand, SENSOR_TYPES, SENSORS, valueAt } from './water-network.js';

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

  it('pump 2 vibration keeps rising; the chlorine analyser freezes; the town tank logger goes silent', () => {
    expect(at('pump-2/vibration', start + 6 * 60 * MIN)!).toBeGreaterThan(at('pump-2/vibration', start)! + 3);
    const frozen = new Map<string, number>();
    const last = at('dma-l1/chlorine', s.stuckAt - MIN, frozen);
    for (let i = 0; i < 10; i++) expect(at('dma-l1/chlorine', s.stuckAt + i * MIN, frozen)).toBe(last);
    expect(at('tank-low/level', s.silentAt - MIN)).not.toBeNull();
    expect(at('tank-low/level', s.silentAt + MIN)).toBeNull();
  });
});
