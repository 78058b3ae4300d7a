import { describe, expect, it } from 'vitest';
import { parseTimestamp } from './batch.js';
import { parseLineProtocol, sensorKeyFor } from './line-protocol.js';
import { parseNative } from './native.js';
import { parseSenml } from './senml.js';

const NOW = Date.UTC(2026, 10, 24, 10, 0, 0);
const rows = (b: ReturnType<typeof parseNative>) =>
  Array.from({ length: b.count }, (_, i) => [b.index[i], b.sensor[i], b.ts[i], b.value[i], b.quality[i]]);

describe('native JSON', () => {
  it('reads sensor, ts (RFC 3339 or epoch ms), value and quality; ts defaults to receipt', () => {
    const b = parseNative(
      {
        readings: [
          { sensor: 'dma-7/p', ts: '2026-11-24T09:59:00Z', value: 3.2 },
          { sensor: 'dma-7/q', ts: NOW - 1000, value: -1.5, quality: 'suspect' },
          { sensor: 'dma-7/l', value: 0 },
        ],
      },
      NOW,
    );
    expect(rows(b)).toEqual([
      [0, 'dma-7/p', NOW - 60_000, 3.2, 0],
      [1, 'dma-7/q', NOW - 1000, -1.5, 1],
      [2, 'dma-7/l', NOW, 0, 0],
    ]);
    expect(b.rejected).toEqual([]);
  });

  it('refuses bad items one by one with stable codes', () => {
    const b = parseNative(
      {
        readings: [
          { sensor: 'ok', value: 1 },
          { value: 1 },
          { sensor: 'x', value: '1.0' },
          { sensor: 'x', value: Number.POSITIVE_INFINITY },
          { sensor: 'x', value: 1, ts: '24/11/2026' },
          { sensor: 'x', value: 1, ts: '2026-11-24T10:00:00' },
          { sensor: 'x', value: 1, quality: 'excellent' },
          'not an object',
        ],
      },
      NOW,
    );
    expect(b.count).toBe(1);
    expect(b.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'MISSING_SENSOR'],
      [2, 'NOT_NUMERIC'],
      [3, 'NOT_FINITE'],
      [4, 'INVALID_TIMESTAMP'],
      [5, 'INVALID_TIMESTAMP'],
      [6, 'INVALID_QUALITY'],
      [7, 'NOT_NUMERIC'],
    ]);
  });

  it('grows its columns past the initial capacity', () => {
    const readings = Array.from({ length: 300 }, (_, i) => ({ sensor: `s${i}`, ts: NOW - i, value: i }));
    const b = parseNative({ readings: readings.slice(0, 300) }, NOW);
    expect(b.count).toBe(300);
    expect(b.value[299]).toBe(299);
    expect(b.sensor[299]).toBe('s299');
  });

  it('parses timestamps strictly', () => {
    expect(parseTimestamp('2026-11-24T10:00:00.250+01:00')).toBe(NOW - 3_600_000 + 250);
    expect(parseTimestamp(Number.NaN)).toBeNaN();
    expect(parseTimestamp('yesterday')).toBeNaN();
  });
});

describe('SenML (RFC 8428)', () => {
  it('resolves base name, time and value and relative times', () => {
    const b = parseSenml(
      [
        { bn: 'urn:dev:logger-1/', bt: 1.7955e9, bv: 10, n: 'pressure', v: 2.5, u: 'bar' },
        { n: 'flow', t: 60, v: 1 },
        { bn: 'pump-3/', n: 'vibration', v: 4.2, t: -5, bt: 0 },
      ],
      NOW,
    );
    expect(rows(b)).toEqual([
      [0, 'urn:dev:logger-1/pressure', 1.7955e12, 12.5, 0],
      [1, 'urn:dev:logger-1/flow', 1.7955e12 + 60_000, 11, 0],
      // bv is still 10: base values last until changed; t below 2^28 is relative to now.
      [2, 'pump-3/vibration', NOW - 5000, 14.2, 0],
    ]);
  });

  it('refuses non-numeric and nameless records per item', () => {
    const b = parseSenml(
      [
        { n: 'door', vb: true },
        { n: 'label', vs: 'x' },
        { v: 1 },
        { n: 'ok', v: 1 },
        { n: 'big', v: Number.POSITIVE_INFINITY },
        5,
      ],
      NOW,
    );
    expect(b.count).toBe(1);
    expect(b.rejected.map((r) => [r.index, r.code])).toEqual([
      [0, 'NOT_NUMERIC'],
      [1, 'NOT_NUMERIC'],
      [2, 'MISSING_SENSOR'],
      [4, 'NOT_FINITE'],
      [5, 'NOT_NUMERIC'],
    ]);
    expect(b.rejected[0]!.detail).toMatch(/boolean value/);
  });
});

describe('InfluxDB line protocol', () => {
  it('maps points to sensor keys by the documented rule', () => {
    expect(
      sensorKeyFor(
        'cpu',
        [
          ['host', 'h1'],
          ['cpu', 'cpu0'],
        ],
        'usage_user',
      ),
    ).toBe('cpu/cpu0/h1.usage_user');
    expect(sensorKeyFor('water', [['sensor', 'dma-7/p']], 'value')).toBe('dma-7/p');
    expect(sensorKeyFor('water', [['sensor', 'dma-7']], 'temp')).toBe('dma-7.temp');
    expect(sensorKeyFor('my meas', [['site', 'Nørre Alslev']], 'v')).toBe('my_meas/N_rre_Alslev.v');
  });

  it('reads fields of every numeric type, tags, escapes, precision and default time', () => {
    const text = [
      '# comment',
      'pressure,sensor=dma-7/p value=3.25 1795516800000000000',
      'pump,site=north,id=p\\ 1 vib=4i,power=12.5e1,count=7u 1795516800000000000',
      'tank\\,farm level=2.5',
      '',
    ].join('\n');
    const b = parseLineProtocol(text, NOW);
    expect(rows(b)).toEqual([
      [0, 'dma-7/p', 1795516800000, 3.25, 0],
      [1, 'pump/p_1/north.vib', 1795516800000, 4, 0],
      [2, 'pump/p_1/north.power', 1795516800000, 125, 0],
      [3, 'pump/p_1/north.count', 1795516800000, 7, 0],
      [4, 'tank_farm.level', NOW, 2.5, 0],
    ]);
    const s = parseLineProtocol('m v=1 1795516800', NOW, 's');
    expect(s.ts[0]).toBe(1795516800000);
  });

  it('refuses string and boolean fields per item, and says which line is malformed', () => {
    const b = parseLineProtocol('m,sensor=s1 value=1,state="on",ok=true', NOW);
    expect(b.count).toBe(1);
    expect(b.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'NOT_NUMERIC'],
      [2, 'NOT_NUMERIC'],
    ]);
    expect(() => parseLineProtocol('m v=1\nbroken line here now', NOW)).toThrow(/line 2/);
    expect(() => parseLineProtocol('m v=abc', NOW)).toThrow(/bad field value "abc"/);
    expect(() => parseLineProtocol('m,tag v=1', NOW)).toThrow(/bad tag/);
    expect(() => parseLineProtocol('m v=1 12.5', NOW)).toThrow(/bad timestamp/);
    expect(() => parseLineProtocol('m v=1 2 3 4', NOW)).toThrow(/line 1/);
  });
});
