import type { EffectiveConfig } from '../config/effective-config.js';
import { L, type SensorState } from '../engine/sensor-state.js';
import { FIRE, levelScore } from './score.js';

/**
 * Floors of the score history's mean and standard deviation (as in Numenta's anomaly likelihood):
 * a detector that has been silent for a long time must not fire on the slightest blip.
 */
const MEAN_FLOOR = 0.03;
const SD_FLOOR = Math.sqrt(0.0003);
/** Until it has history, a detector fires only at this raw score (its z by a quarter more). */
export const UNCALIBRATED_FIRE = FIRE / 0.8;

/**
 * The anomaly likelihood of one detector on one sensor: its raw score averaged over the last
 * `window` readings, in standard deviations above the usual level of that average on this sensor
 * (an exponentially weighted mean and variance over about `history` readings). A noisy sensor's
 * detectors are judged against their own noisiness, so one threshold suits every sensor; a short
 * run of high scores counts for more than one isolated blip.
 *
 * Returns the calibrated score (FIRE at `z`); with `learn`, the reading's raw score joins the
 * history. Before `learn` readings of history, the raw score with a stricter firing level.
 */
export function likelihood(
  s: SensorState,
  k: number,
  c: EffectiveConfig['likelihood'],
  raw: number,
  learn: boolean,
): number {
  const t = s.lik;
  const at = s.likAt(k);
  const w = s.likWindow;
  const count = t[at + L.count]!;
  const filled = count < w ? count : w;
  const pos = at + L.ring + (count % w);
  // The average of this raw score and the last window - 1.
  let sum = raw;
  for (let i = 0; i < filled; i++) sum += t[at + L.ring + i]!;
  if (filled === w) sum -= t[pos]!;
  const avg = sum / (filled === w ? w : filled + 1);
  let score: number;
  if (count < c.learn) score = levelScore(raw, UNCALIBRATED_FIRE);
  else {
    const mean = t[at + L.mean]!;
    const m = mean > MEAN_FLOOR ? mean : MEAN_FLOOR;
    const sd = Math.sqrt(t[at + L.var]!);
    score = levelScore((avg - m) / (sd > SD_FLOOR ? sd : SD_FLOOR), c.z);
  }
  if (learn) {
    t[pos] = raw;
    const a = 1 / (count + 1 < c.history ? count + 1 : c.history);
    const mean = t[at + L.mean]!;
    const d = avg - mean;
    t[at + L.mean] = mean + a * d;
    t[at + L.var] = (1 - a) * (t[at + L.var]! + a * d * d);
    t[at + L.count] = count + 1;
  }
  return score;
}
