import { F, type SensorState } from '../engine/sensor-state.js';

/** The Isolation Forest's view of a reading, computed from the state before it learns the reading. */
export const FEATURES = ['value', 'delta', 'deviation', 'spread', 'hourSin', 'hourCos'] as const;
export const FEATURE_COUNT = FEATURES.length;

const DAY = 86_400_000;

/** Writes the reading's features at `out[at..]`; false until the sensor has a previous reading. */
export function sensorFeatures(s: SensorState, ts: number, v: number, out: Float64Array, at = 0): boolean {
  const f = s.f;
  if (f[F.n]! < 1) return false;
  const phase = (2 * Math.PI * (((ts % DAY) + DAY) % DAY)) / DAY;
  out[at] = v;
  out[at + 1] = v - f[F.lastValue]!;
  out[at + 2] = v - f[F.mean]!;
  out[at + 3] = Math.sqrt(Math.max(0, f[F.var]!));
  out[at + 4] = Math.sin(phase);
  out[at + 5] = Math.cos(phase);
  return true;
}
