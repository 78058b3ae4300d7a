import type { EffectiveConfig } from '../config/effective-config.js';
import { flatline, heartbeatOnArrival, learnInterval } from '../detectors/data-quality.js';
import { FEATURE_COUNT, sensorFeatures } from '../detectors/features.js';
import { likelihood } from '../detectors/likelihood.js';
import { windowPush } from '../detectors/robust-window.js';
import { levelScore } from '../detectors/score.js';
import { ewma, mad, range, rate, seasonal, shift } from '../detectors/statistics.js';
import { RAISED, stepRule, violates } from '../detectors/threshold.js';
import type { IsolationForest } from '../isolation-forest/isolation-forest.js';
import { CALIBRATED, D, DETECTORS, type Evaluation } from './evaluation.js';
import { F, RULE_SLOTS, SensorState } from './sensor-state.js';

/** A trained model in use for a sensor. */
export interface ActiveModel {
  readonly id: string;
  readonly version: number;
  readonly forest: IsolationForest;
  /** The isolation score at which it fires, calibrated when it was trained. */
  readonly threshold: number;
}

/** What the anomaly record says about a reading: why it was flagged and what was expected. */
export interface Explanation {
  readonly observed: number;
  readonly expected?: { readonly low: number; readonly high: number; readonly from: string };
  readonly detectors: readonly { readonly detector: string; readonly score: number }[];
  readonly late?: true;
  readonly model?: { readonly id: string; readonly version: number };
}

/**
 * Scores one sensor's readings with the detectors of its effective configuration. Stateless
 * itself: the state is passed in, so one detector serves every sensor sharing a configuration.
 */
export class SensorDetector {
  private readonly features = new Float64Array(FEATURE_COUNT);

  constructor(
    readonly config: EffectiveConfig,
    readonly model: ActiveModel | null = null,
    /**
     * Whether a reading after a gap in reading time raises (and clears) the gap itself. Offline
     * (backtests) that is the only way to see gaps. Live, the sweep judges silence on arrivals:
     * readings of concurrent or buffered uploads arrive out of order, and the holes between them
     * are filled moments later.
     */
    readonly gapsOnArrival = true,
  ) {}

  newState(): SensorState {
    const c = this.config;
    return new SensorState(c.rules.length, c.mad.window, c.seasonal.buckets, c.likelihood.window);
  }

  /** A checkpoint restored for this configuration, or null when it does not fit. */
  restore(bytes: Uint8Array): SensorState | null {
    const c = this.config;
    return SensorState.fromBytes(bytes, {
      rules: c.rules.length,
      window: c.mad.window,
      buckets: c.seasonal.buckets,
      likWindow: c.likelihood.window,
    });
  }

  /**
   * Scores a reading and, when it is newer than the sensor's newest, learns from it. A late
   * reading (at or before the newest) is scored against the current state without changing it,
   * so the outcome depends only on the order readings were accepted in.
   */
  evaluate(s: SensorState, ts: number, v: number, out: Evaluation, learn = true): void {
    out.reset();
    const c = this.config;
    const f = s.f;
    const inOrder = ts > f[F.lastTs]!;
    const learning = learn && inOrder;
    out.late = !inOrder;
    const n = f[F.n]!;
    const warm = n >= c.warmup;

    if (learning && c.heartbeat.enabled && n >= 1)
      heartbeatOnArrival(s, c.heartbeat, ts, out, this.gapsOnArrival);
    for (let i = 0; i < c.rules.length; i++) {
      const rule = c.rules[i]!;
      if (!learning) {
        if (violates(rule, v)) out.scores[D.threshold] = 1;
        continue;
      }
      const at = F.rules + RULE_SLOTS * i;
      const step = stepRule(f, at, rule, ts, v);
      if (f[at] === 1) out.scores[D.threshold] = 1;
      if (step !== 0) {
        out.transitions.push({
          detector: 'threshold',
          ruleId: rule.id,
          state: step === RAISED ? 'raised' : 'cleared',
          severity: rule.severity,
          detail: {
            when: rule.below ? 'below' : 'above',
            value: rule.value,
            clear: rule.clear,
            forMs: rule.forMs,
            observed: v,
          },
        });
      }
    }
    if (c.rate.enabled) rate(s, c.rate, c.ewma.alpha, ts, v, warm, out, learning);
    if (c.isolationForest.enabled && this.model && warm && sensorFeatures(s, ts, v, this.features)) {
      const iso = this.model.forest.score(this.features, 0);
      out.raw[D.iforest] = levelScore(iso - 0.5, (c.isolationForest.fireAt ?? this.model.threshold) - 0.5);
      out.scores[D.iforest] = out.raw[D.iforest]!;
    }
    if (c.ewma.enabled) ewma(s, c.ewma, v, warm, out, learning);
    // Before the MAD window learns this reading: the shift detector averages it with the window's last ones.
    if (c.shift.enabled) shift(s, c.shift, v, warm, out, learning);
    if (c.mad.enabled) mad(s, c.mad, v, warm, out, learning);
    else if (learning && c.shift.enabled) windowPush(s, v);
    if (c.seasonal.enabled) seasonal(s, c.seasonal, ts, v, warm, out, learning);
    if (c.range.enabled) range(s, c.range, ts, v, warm, out, learning);
    if (learning && c.flatline.enabled && warm) flatline(s, c.flatline, ts, v, out);
    if (learning) {
      if (c.heartbeat.enabled) learnInterval(s, ts);
      f[F.lastTs] = ts;
      f[F.lastValue] = v;
      f[F.n] = n + 1;
    }
    this.finish(s, out, warm, learning);
  }

  /**
   * The ensemble. Each calibrated point detector's raw score is judged against its own history on
   * this sensor (the anomaly likelihood); the point score is the highest of those and of the range
   * detector. After a point anomaly, further ones within the refractory period are held just below
   * the threshold (one event per episode; a new extreme still fires). The overall score adds the
   * conditions (threshold rules, flatline, heartbeat) at 1 while they are active.
   */
  private finish(s: SensorState, out: Evaluation, warm: boolean, learning: boolean): void {
    const c = this.config;
    const f = s.f;
    const threshold = c.threshold;
    const scores = out.scores;
    let point = 0;
    let limit = 0;
    let voters = 0;
    let agree = 0;
    for (let k = 0; k < CALIBRATED.length; k++) {
      const i = CALIBRATED[k]!;
      // A detector that did not score this reading (off, no baseline yet) learns nothing. Its
      // history starts before the warm-up: the first readings, scored against baselines still
      // forming, keep the likelihood cautious until the sensor has a long history.
      if (Number.isNaN(out.raw[i]!)) continue;
      // A configured rate limit is absolute, not judged against history.
      const absolute = i === D.rate && c.rate.maxPerS !== null;
      if (c.likelihood.enabled && !absolute) likelihood(s, k, c.likelihood, out, i, learning);
      if (!warm) {
        // Not warm: nothing counts, but a configured rate limit applies from the first readings.
        if (absolute) limit = scores[i]!;
        else scores[i] = 0;
        continue;
      }
      const x = scores[i]!;
      voters++;
      if (x >= 0.5) agree++;
      if (x > point) point = x;
    }
    const range = scores[D.range]!;
    if (!Number.isNaN(out.raw[D.range]!)) {
      voters++;
      if (range >= 0.5) agree++;
    }
    const quiet = f[F.quiet]!;
    const hold = threshold - 0.01;
    if (quiet > 0 && point >= threshold && range < threshold) {
      point = hold;
      out.suppressed = true;
    }
    if (range > point) point = range;
    if (!warm) point = 0;
    if (learning) {
      if (point >= threshold) f[F.quiet] = c.likelihood.refractory;
      else if (quiet > 0) f[F.quiet] = quiet - 1;
    }
    const condition = Math.max(scores[D.threshold]!, scores[D.flatline]!, scores[D.heartbeat]!, limit);
    const score = condition > point ? condition : point;
    out.score = score;
    out.pointScore = point;
    const warmth = Math.min(1, f[F.n]! / (4 * c.warmup));
    out.confidence = condition > limit ? 1 : warmth * (0.5 + (0.5 * agree) / Math.max(1, voters));
    out.anomaly = score >= threshold;
  }

  /** Why a reading scored as it did (built only for anomalies). */
  explain(out: Evaluation, v: number): Explanation {
    const detectors: { detector: string; score: number }[] = [];
    for (let i = 0; i < DETECTORS.length; i++) {
      const x = out.scores[i]!;
      if (x >= 0.5) detectors.push({ detector: DETECTORS[i]!, score: round(x) });
    }
    detectors.sort((a, b) => b.score - a.score);
    // The expected range of the most robust detector that has one.
    let expected: Explanation['expected'];
    // A new extreme is explained by the envelope it left.
    const from =
      out.scores[D.range]! >= 0.5 ? [D.range, D.seasonal, D.mad, D.ewma] : [D.seasonal, D.mad, D.ewma];
    for (const i of from) {
      const c = out.center[i]!;
      const w = out.scale[i]!;
      if (!Number.isNaN(c) && !Number.isNaN(w)) {
        expected = { low: round(c - w), high: round(c + w), from: DETECTORS[i]! };
        break;
      }
    }
    return {
      observed: v,
      ...(expected ? { expected } : {}),
      detectors,
      ...(out.late ? { late: true as const } : {}),
      ...(this.model && out.scores[D.iforest]! > 0
        ? { model: { id: this.model.id, version: this.model.version } }
        : {}),
    };
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
