import type { EffectiveConfig } from '../config/effective-config.js';
import type { Evaluation } from '../engine/evaluation.js';
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
 * (an exponentially weighted mean and variance over about `history` readings, a plain average
 * until then). A noisy sensor's detectors are judged against their own noisiness, so one
 * threshold suits every sensor; a short run of high scores counts for more than one blip.
 *
 * Writes the calibrated score (FIRE at `z`) of detector slot `d` (k-th calibrated detector) to
 * `out.scores[d]` from its raw score in `out.raw[d]`; with `learn`, the raw score joins the
 * history. Before `learn` readings of history, the raw score with a stricter firing level.
 * (Written, not returned: a returned double would be boxed on every reading.)
 */
export function likelihood(
  s: SensorState,
  k: number,
  c: EffectiveConfig['likelihood'],
  out: Evaluation,
  d: number,
  learn: boolean,
): void {
  const raw = out.raw[d]!;
  const t = s.lik;
  const w = s.likWindow;
  const at = k * (L.ring + w);
  const ring = at + L.ring;
  const count = t[at + L.count]!;
  const pos = t[at + L.pos]!;
  // The average of this raw score and the last window - 1 (the ring's oldest, at pos, drops out).
  let sum = raw;
  let m = 1;
  if (count >= w) {
    for (let i = 0; i < w; i++) if (i !== pos) sum += t[ring + i]!;
    m = w;
  } else {
    for (let i = 0; i < count; i++) sum += t[ring + i]!;
    m = count + 1;
  }
  const avg = sum / m;
  const mean = t[at + L.mean]!;
  if (count < c.learn) out.scores[d] = levelScore(raw, UNCALIBRATED_FIRE);
  else {
    const sd = Math.sqrt(t[at + L.var]!);
    const z = (avg - (mean > MEAN_FLOOR ? mean : MEAN_FLOOR)) / (sd > SD_FLOOR ? sd : SD_FLOOR);
    out.scores[d] = levelScore(z, c.z);
  }
  if (learn) {
    t[ring + pos] = raw;
    t[at + L.pos] = pos + 1 === w ? 0 : pos + 1;
    const a = 1 / (count < c.history ? count + 1 : c.history);
    const dev = avg - mean;
    t[at + L.mean] = mean + a * dev;
    t[at + L.var] = (1 - a) * (t[at + L.var]! + a * dev * dev);
    t[at + L.count] = count + 1;
  }
}
