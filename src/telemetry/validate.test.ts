import { describe, expect, it } from 'vitest';
import { parseNative } from './formats/native.js';
import { type SensorDirectory, type SensorInfo, validateBatch } from './validate.js';

const NOW = Date.UTC(2026, 10, 24, 10, 0, 0);

function directory(sensors: SensorInfo[], tenantId = 't1'): SensorDirectory {
  return {
    resolve: async (tenant, refs) => {
      const out = new Map<string, SensorInfo>();
      if (tenant !== tenantId) return out;
      for (const ref of refs) {
        const s = sensors.find((x) => x.id === ref || x.key === ref);
        if (s) out.set(ref, s);
      }
      return out;
    },
  };
}

const base = { deviceStatus: 'active' as const, active: true, validMin: null, validMax: null };
const dir = directory([
  { ...base, id: 'id-p', key: 'dma-7/p', deviceId: 'dev-1', validMin: 0, validMax: 16 },
  { ...base, id: 'id-q', key: 'dma-7/q', deviceId: 'dev-2' },
  { ...base, id: 'id-x', key: 'old/x', deviceId: 'dev-1', active: false },
  { ...base, id: 'id-z', key: 'quarantined/z', deviceId: 'dev-3', deviceStatus: 'quarantined' },
]);

describe('validateBatch', () => {
  it('resolves keys and ids, keeps order of what it accepts, and marks out-of-range values suspect', async () => {
    const batch = parseNative(
      {
        readings: [
          { sensor: 'dma-7/p', value: 3 },
          { sensor: 'id-p', value: 20, ts: NOW - 1000 },
          { sensor: 'dma-7/q', value: -4 },
        ],
      },
      NOW,
    );
    const v = await validateBatch(batch, { kind: 'api-key', tenantId: 't1' }, dir, NOW);
    expect(v.sensorId).toEqual(['id-p', 'id-p', 'id-q']);
    expect([...v.quality]).toEqual([0, 1, 0]);
    expect([...v.index]).toEqual([0, 1, 2]);
    expect(v.rejected).toEqual([]);
  });

  it('lets a device write only its own sensors and refuses unknown, inactive and quarantined ones', async () => {
    const batch = parseNative(
      {
        readings: [
          { sensor: 'dma-7/p', value: 1 },
          { sensor: 'dma-7/q', value: 1 },
          { sensor: 'nope', value: 1 },
          { sensor: 'old/x', value: 1 },
          { sensor: 'quarantined/z', value: 1 },
          { value: 1 },
        ],
      },
      NOW,
    );
    const asDevice1 = await validateBatch(
      batch,
      { kind: 'device', tenantId: 't1', deviceId: 'dev-1' },
      dir,
      NOW,
    );
    expect(asDevice1.sensorId).toEqual(['id-p']);
    expect(asDevice1.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'NOT_OWNED'],
      [2, 'UNKNOWN_SENSOR'],
      [3, 'UNKNOWN_SENSOR'],
      [4, 'NOT_OWNED'],
      [5, 'MISSING_SENSOR'],
    ]);
    const asDevice3 = await validateBatch(
      batch,
      { kind: 'device', tenantId: 't1', deviceId: 'dev-3' },
      dir,
      NOW,
    );
    expect(asDevice3.rejected.find((r) => r.index === 4)?.code).toBe('DEVICE_QUARANTINED');
    expect(asDevice3.quarantinedRefusals.get('dev-3')).toBe(1);
    const otherTenant = await validateBatch(batch, { kind: 'api-key', tenantId: 't2' }, dir, NOW);
    expect(otherTenant.count).toBe(0);
  });

  it('accepts backfill within the limit and refuses older or future readings', async () => {
    const day = 24 * 3600 * 1000;
    const batch = parseNative(
      {
        readings: [
          { sensor: 'dma-7/q', value: 1, ts: NOW - 29 * day },
          { sensor: 'dma-7/q', value: 1, ts: NOW - 31 * day },
          { sensor: 'dma-7/q', value: 1, ts: NOW + 4 * 60 * 1000 },
          { sensor: 'dma-7/q', value: 1, ts: NOW + 6 * 60 * 1000 },
        ],
      },
      NOW,
    );
    const v = await validateBatch(batch, { kind: 'api-key', tenantId: 't1' }, dir, NOW);
    expect([...v.index]).toEqual([0, 2]);
    expect(v.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'TIMESTAMP_TOO_OLD'],
      [3, 'TIMESTAMP_IN_FUTURE'],
    ]);
  });
});
