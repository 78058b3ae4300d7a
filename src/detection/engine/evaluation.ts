import type { Severity } from '../config/detector-config.schema.js';

/** Detectors of one sensor, in the order of their slots in an Evaluation. */
export const DETECTORS = [
  'threshold',
  'rate',
  'flatline',
  'heartbeat',
  'ewma',
  'mad',
  'seasonal',
  'iforest',
  'shift',
  'range',
] as const;
export type DetectorName = (typeof DETECTORS)[number] | 'asset-rule' | 'iforest-asset';

export const D = {
  threshold: 0,
  rate: 1,
  flatline: 2,
  heartbeat: 3,
  ewma: 4,
  mad: 5,
  seasonal: 6,
  iforest: 7,
  shift: 8,
  range: 9,
} as const;

/** Detectors that score single readings (the rest raise and clear conditions). */
export const POINT_DETECTORS: readonly number[] = [
  D.rate,
  D.ewma,
  D.mad,
  D.seasonal,
  D.iforest,
  D.shift,
  D.range,
];

/**
 * Point detectors whose scores are calibrated against their own history on the sensor (the
 * anomaly likelihood), in the order of their slots in the sensor state. The range detector is
 * not: a value outside everything seen before is rare by construction.
 */
export const CALIBRATED: readonly number[] = [D.rate, D.ewma, D.mad, D.seasonal, D.iforest, D.shift];

/** A condition that began or ended at this reading. */
export interface Transition {
  readonly detector: 'threshold' | 'flatline' | 'heartbeat' | 'asset-rule';
  readonly ruleId: string | null;
  readonly state: 'raised' | 'cleared';
  readonly severity: Severity;
  readonly detail: Readonly<Record<string, unknown>>;
}

/**
 * The verdict on one reading, reused from reading to reading (no allocation unless something
 * happened). `center`/`scale` hold what each detector expected, for the explanation.
 */
export class Evaluation {
  score = 0;
  /**
   * The point detectors' part of the score (what a stored point anomaly is judged on): the highest
   * calibrated point score, held below the threshold for the refractory period after a point anomaly.
   */
  pointScore = 0;
  /** The point score was held below the threshold: a repeat within the refractory period. */
  suppressed = false;
  confidence = 0;
  anomaly = false;
  /** The reading was older than the sensor's newest: scored against the state, not learned from. */
  late = false;
  /**
   * Each detector's score: for the point detectors, calibrated against that detector's history on
   * this sensor once it has enough (FIRE = as unusual as the sensor's firing level), else its raw score.
   */
  readonly scores = new Float64Array(DETECTORS.length);
  /**
   * Each point detector's raw score: its deviation against its own firing level (FIRE at `z`),
   * also before the warm-up; NaN when it did not score the reading (off, no baseline yet).
   */
  readonly raw = new Float64Array(DETECTORS.length);
  readonly center = new Float64Array(DETECTORS.length);
  readonly scale = new Float64Array(DETECTORS.length);
  transitions: Transition[] = [];

  reset(): void {
    this.score = 0;
    this.pointScore = 0;
    this.suppressed = false;
    this.confidence = 0;
    this.anomaly = false;
    this.late = false;
    // A loop, not fill(): cheaper for ten slots on every reading.
    const { scores, raw, center, scale } = this;
    for (let i = 0; i < scores.length; i++) {
      scores[i] = 0;
      raw[i] = Number.NaN;
      center[i] = Number.NaN;
      scale[i] = Number.NaN;
    }
    if (this.transitions.length > 0) this.transitions = [];
  }

  /** Detectors at or above `level`, by name. */
  fired(level: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < DETECTORS.length; i++) if (this.scores[i]! >= level) out.push(DETECTORS[i]!);
    return out;
  }
}
