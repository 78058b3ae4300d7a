import type { DetectorConfigDoc } from '../detection/config/detector-config.schema.js';
/**
 * The demo's water network: what exists (sites, assets, loggers, sensors) and how each sensor
 * behaves over a day, including the injected events the detection and alarm stages should find.
 * Pure data and functions of time, so the simulation is reproducible and testable.
 */

export interface SensorTypeSpec {
  readonly key: string;
  readonly name: string;
  readonly unit: string;
  readonly validMin: number;
  readonly validMax: number;
  readonly expectedIntervalS: number;
}

export const SENSOR_TYPES: readonly SensorTypeSpec[] = [
  { key: 'pressure', name: 'Pressure', unit: 'bar', validMin: 0, validMax: 16, expectedIntervalS: 60 },
  { key: 'flow', name: 'Flow', unit: 'm³/h', validMin: 0, validMax: 2000, expectedIntervalS: 60 },
  { key: 'level', name: 'Level', unit: 'm', validMin: 0, validMax: 12, expectedIntervalS: 60 },
  { key: 'chlorine', name: 'Free chlorine', unit: 'mg/L', validMin: 0, validMax: 5, expectedIntervalS: 60 },
  {
    key: 'vibration',
    name: 'Vibration (RMS velocity)',
    unit: 'mm/s',
    validMin: 0,
    validMax: 50,
    expectedIntervalS: 60,
  },
  { key: 'power', name: 'Power', unit: 'kW', validMin: 0, validMax: 400, expectedIntervalS: 60 },
];

/**
 * Detector documents per sensor type, stored through the API at set-up: the limits an operator of
 * such a network would set (the statistical detectors, gaps and stuck values need nothing).
 */
export const DETECTOR_DOCS: Readonly<Record<string, DetectorConfigDoc>> = {
  pressure: {
    rules: [
      {
        id: 'low-pressure',
        when: 'below',
        value: 2.5,
        clear: 2.8,
        forS: 300,
        severity: 'major',
        description: 'Supply pressure below the 2.5 bar service level for 5 minutes',
      },
    ],
  },
  level: {
    rules: [{ id: 'tank-low', when: 'below', value: 1, clear: 1.5, forS: 120, severity: 'critical' }],
  },
  chlorine: {
    rules: [
      { id: 'chlorine-low', when: 'below', value: 0.2, clear: 0.25, forS: 600, severity: 'critical' },
      { id: 'chlorine-high', when: 'above', value: 4, clear: 3.5, forS: 600, severity: 'major' },
    ],
  },
  vibration: {
    // ISO 10816-3 zone C/D boundary for a medium pump on a rigid foundation.
    rules: [{ id: 'vibration-high', when: 'above', value: 7.1, clear: 6.5, forS: 60, severity: 'major' }],
  },
};

/**
 * Detector documents per asset (keyed by the asset's key), stored through the API once the asset's
 * sensors exist: rules across an asset's sensors.
 *
 * Old Town is a pressure-managed DMA: its inlet valve follows a time schedule that holds the
 * critical point at 3.0–3.2 bar through the day, so the demand curve that moves inlet flow by a
 * factor of three barely moves that pressure. A leak adds flow (and head loss) the schedule does not
 * know about: the critical point falls under its band while the inlet keeps drawing water, whatever
 * the time of day. Low pressure with low inflow would rather be a supply fault (a closed valve),
 * hence the flow condition, set above the DMA's legitimate night use (~80 m³/h).
 */
export const ASSET_DETECTOR_DOCS: Readonly<Record<string, DetectorConfigDoc>> = {
  'meter-l1': {
    assetRules: [
      {
        id: 'leak-suspected',
        op: 'and',
        conditions: [
          { sensor: 'dma-l1/pressure', when: 'below', value: 2.85, clear: 2.9, forS: 60 },
          { sensor: 'dma-l1/flow', when: 'above', value: 100, clear: 95 },
        ],
        severity: 'major',
        description:
          'Old Town critical point under its managed pressure band for a minute while inflow is above the night use: a leak or burst',
      },
    ],
  },
};

/**
 * Alarm rules per sensor type (the defaults an operator of such a network would set), stored
 * through the API at set-up; what they do not cover follows the built-in defaults.
 */
export const ALARM_RULES: Readonly<Record<string, readonly Record<string, unknown>[]>> = {
  pressure: [
    {
      name: 'Pressure anomalies: three within 15 minutes',
      detectors: ['anomaly'],
      minOccurrences: 3,
      withinS: 900,
      severity: 'major',
      autoClear: 'after-quiet',
      quietS: 3600,
    },
  ],
  flow: [{ name: 'Flow anomalies: strong ones only', detectors: ['anomaly'], minScore: 0.8 }],
  level: [{ name: 'A silent tank level logger is critical', detectors: ['heartbeat'], severity: 'critical' }],
  chlorine: [
    {
      name: 'A chlorine analyser silent for 5 minutes',
      detectors: ['heartbeat'],
      severity: 'major',
      delayS: 300,
    },
  ],
};

export interface SiteSpec {
  readonly key: string;
  readonly name: string;
  readonly kind: 'utility' | 'zone' | 'dma';
  readonly parent?: string;
}

export const SITES: readonly SiteSpec[] = [
  { key: 'utility', name: 'Riverside Water', kind: 'utility' },
  { key: 'zone-high', name: 'High pressure zone', kind: 'zone', parent: 'utility' },
  { key: 'zone-low', name: 'Low pressure zone', kind: 'zone', parent: 'utility' },
  { key: 'dma-h1', name: 'DMA Hillside', kind: 'dma', parent: 'zone-high' },
  { key: 'dma-l1', name: 'DMA Old Town', kind: 'dma', parent: 'zone-low' },
];

export interface AssetSpec {
  readonly key: string;
  readonly name: string;
  readonly kind: 'reservoir' | 'pump' | 'tank' | 'meter' | 'pipeline';
  readonly site: string;
  /** [longitude, latitude] (a point) or a line of them; drawn by the UI's schematic. */
  readonly coordinates: [number, number] | [number, number][];
}

export const ASSETS: readonly AssetSpec[] = [
  {
    key: 'reservoir',
    name: 'Main reservoir',
    kind: 'reservoir',
    site: 'utility',
    coordinates: [4.35, 50.85],
  },
  { key: 'pump-1', name: 'Booster pump 1', kind: 'pump', site: 'zone-high', coordinates: [4.36, 50.853] },
  { key: 'pump-2', name: 'Booster pump 2', kind: 'pump', site: 'zone-high', coordinates: [4.361, 50.853] },
  { key: 'tank-high', name: 'Hill tank', kind: 'tank', site: 'zone-high', coordinates: [4.375, 50.86] },
  { key: 'tank-low', name: 'Town tank', kind: 'tank', site: 'zone-low', coordinates: [4.34, 50.84] },
  {
    key: 'meter-h1',
    name: 'Hillside inlet meter',
    kind: 'meter',
    site: 'dma-h1',
    coordinates: [4.38, 50.862],
  },
  {
    key: 'meter-l1',
    name: 'Old Town inlet meter',
    kind: 'meter',
    site: 'dma-l1',
    coordinates: [4.335, 50.836],
  },
  {
    key: 'main-high',
    name: 'Trunk main to the hill',
    kind: 'pipeline',
    site: 'zone-high',
    coordinates: [
      [4.35, 50.85],
      [4.361, 50.853],
      [4.375, 50.86],
    ],
  },
];

export interface DeviceSpec {
  readonly key: string;
  readonly name: string;
}

export const DEVICES: readonly DeviceSpec[] = [
  { key: 'logger-reservoir', name: 'Reservoir logger' },
  { key: 'logger-pumps', name: 'Pump station RTU' },
  { key: 'logger-tank-high', name: 'Hill tank logger' },
  { key: 'logger-tank-low', name: 'Town tank logger' },
  { key: 'logger-dma-h1', name: 'Hillside DMA logger' },
  { key: 'logger-dma-l1', name: 'Old Town DMA logger' },
];

export interface SensorSpec {
  readonly key: string;
  readonly name: string;
  readonly type: string;
  readonly device: string;
  readonly asset: string;
}

export const SENSORS: readonly SensorSpec[] = [
  {
    key: 'reservoir/level',
    name: 'Reservoir level',
    type: 'level',
    device: 'logger-reservoir',
    asset: 'reservoir',
  },
  {
    key: 'reservoir/chlorine',
    name: 'Reservoir outlet chlorine',
    type: 'chlorine',
    device: 'logger-reservoir',
    asset: 'reservoir',
  },
  {
    key: 'pump-1/vibration',
    name: 'Pump 1 vibration',
    type: 'vibration',
    device: 'logger-pumps',
    asset: 'pump-1',
  },
  { key: 'pump-1/power', name: 'Pump 1 power', type: 'power', device: 'logger-pumps', asset: 'pump-1' },
  {
    key: 'pump-2/vibration',
    name: 'Pump 2 vibration',
    type: 'vibration',
    device: 'logger-pumps',
    asset: 'pump-2',
  },
  { key: 'pump-2/power', name: 'Pump 2 power', type: 'power', device: 'logger-pumps', asset: 'pump-2' },
  {
    key: 'pumps/discharge-pressure',
    name: 'Pump station discharge pressure',
    type: 'pressure',
    device: 'logger-pumps',
    asset: 'pump-1',
  },
  {
    key: 'tank-high/level',
    name: 'Hill tank level',
    type: 'level',
    device: 'logger-tank-high',
    asset: 'tank-high',
  },
  {
    key: 'tank-low/level',
    name: 'Town tank level',
    type: 'level',
    device: 'logger-tank-low',
    asset: 'tank-low',
  },
  {
    key: 'dma-h1/flow',
    name: 'Hillside inlet flow',
    type: 'flow',
    device: 'logger-dma-h1',
    asset: 'meter-h1',
  },
  {
    key: 'dma-h1/pressure',
    name: 'Hillside critical-point pressure',
    type: 'pressure',
    device: 'logger-dma-h1',
    asset: 'meter-h1',
  },
  {
    key: 'dma-l1/flow',
    name: 'Old Town inlet flow',
    type: 'flow',
    device: 'logger-dma-l1',
    asset: 'meter-l1',
  },
  {
    key: 'dma-l1/pressure',
    name: 'Old Town critical-point pressure',
    type: 'pressure',
    device: 'logger-dma-l1',
    asset: 'meter-l1',
  },
  {
    key: 'dma-l1/chlorine',
    name: 'Old Town chlorine',
    type: 'chlorine',
    device: 'logger-dma-l1',
    asset: 'meter-l1',
  },
];

/** When the injected events happen, in ms after the demo starts. */
export interface Scenario {
  readonly startedAt: number;
  /** Old Town leak: extra flow (night flow rises) and lower pressure (raises `leak-suspected`). */
  readonly leakAt: number;
  /** Pump 2 bearing wear: vibration climbs steadily from here. */
  readonly bearingWearAt: number;
  /** Old Town chlorine analyser freezes at its last value. */
  readonly stuckAt: number;
  /** The town tank logger stops sending. */
  readonly silentAt: number;
}

/** The demo's events, with the leak two minutes in unless `leakAfterMs` says otherwise. */
export function defaultScenario(startedAt: number, { leakAfterMs = 2 * 60_000 } = {}): Scenario {
  const min = 60_000;
  return {
    startedAt,
    bearingWearAt: startedAt - 6 * 60 * min,
    leakAt: startedAt + leakAfterMs,
    stuckAt: startedAt + 3 * min,
    silentAt: startedAt + 5 * min,
  };
}

const HOUR = 3_600_000;

/** Water demand through the day (1 = average): low at night, peaks at 07:00 and 19:00 (local = UTC here). */
export function demand(ts: number): number {
  const h = (((ts % (24 * HOUR)) + 24 * HOUR) % (24 * HOUR)) / HOUR;
  const peak = (centre: number, width: number) => Math.exp(-(((h - centre) / width) ** 2));
  return 0.45 + 0.85 * peak(7.5, 1.6) + 0.65 * peak(19, 2.2) + 0.25 * peak(13, 3);
}

/** Deterministic noise in [-1, 1] from a sensor index and a time (same inputs, same value). */
export function noise(seed: number, ts: number): number {
  let x = Math.imul(seed + 1, 0x9e3779b1) ^ Math.floor(ts / 1000);
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  x ^= x >>> 16;
  return ((x >>> 0) / 0xffffffff) * 2 - 1;
}

const round = (v: number, decimals: number) => Math.round(v * 10 ** decimals) / 10 ** decimals;

/**
 * The value of a sensor at a time, or null when it sends nothing (the silent logger).
 * `frozen` holds the value the stuck sensor froze at.
 */
export function valueAt(key: string, ts: number, s: Scenario, frozen: Map<string, number>): number | null {
  const i = SENSORS.findIndex((x) => x.key === key);
  const n = (amp: number) => amp * noise(i, ts);
  const d = demand(ts);
  const leak = ts >= s.leakAt ? 1 : 0;
  switch (key) {
    case 'reservoir/level':
      return round(6.2 - 0.6 * Math.sin((ts / (24 * HOUR)) * 2 * Math.PI) + n(0.02), 3);
    case 'reservoir/chlorine':
      return round(0.85 + n(0.03), 3);
    case 'pump-1/vibration':
      return round(2.4 + 0.3 * d + n(0.15), 2);
    case 'pump-2/vibration': {
      const wearHours = Math.max(0, ts - s.bearingWearAt) / HOUR;
      return round(2.6 + 0.3 * d + 0.9 * wearHours + 0.04 * wearHours ** 2 + n(0.2 + 0.05 * wearHours), 2);
    }
    case 'pump-1/power':
      return round(55 + 40 * d + n(2), 1);
    case 'pump-2/power': {
      const wearHours = Math.max(0, ts - s.bearingWearAt) / HOUR;
      return round(52 + 38 * d + 0.8 * wearHours + n(2), 1);
    }
    case 'pumps/discharge-pressure':
      return round(7.8 - 0.6 * d + n(0.05), 3);
    case 'tank-high/level':
      return round(4.5 - 1.2 * Math.sin(((ts / HOUR - 4) / 24) * 2 * Math.PI) + n(0.01), 3);
    case 'tank-low/level':
      if (ts >= s.silentAt) return null;
      return round(3.8 - 0.9 * Math.sin(((ts / HOUR - 5) / 24) * 2 * Math.PI) + n(0.01), 3);
    case 'dma-h1/flow':
      return round(120 * d + n(3), 1);
    case 'dma-h1/pressure':
      return round(4.1 - 0.9 * d ** 2 + n(0.04), 3);
    case 'dma-l1/flow':
      return round(180 * d + leak * 45 + n(4), 1);
    case 'dma-l1/pressure':
      // Pressure-managed (see ASSET_DETECTOR_DOCS): demand moves it by a tenth of a bar at most.
      return round(3.2 - 0.1 * d ** 2 - leak * 0.45 + n(0.04), 3);
    case 'dma-l1/chlorine': {
      const v = round(0.62 - 0.08 * d + n(0.02), 3);
      if (ts < s.stuckAt) {
        frozen.set(key, v);
        return v;
      }
      return frozen.get(key) ?? v;
    }
    default:
      return null;
  }
}
