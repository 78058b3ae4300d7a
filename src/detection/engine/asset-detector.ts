import type { AssetRule } from '../config/effective-config.js';
import { levelScore } from '../detectors/score.js';
import { RULE_SLOTS, stepRule } from '../detectors/threshold.js';
import type { Transition } from './evaluation.js';
import type { ActiveModel } from './sensor-detector.js';

/** An asset's state: its rules' condition slots and whole-rule flags, and its sensors' latest values. */
export interface AssetState {
  readonly rules: Float64Array;
  readonly latest: Float64Array;
}

export interface AssetVerdict {
  /** The multivariate model's score (0 when it has no model or not every sensor has reported). */
  score: number;
  transitions: Transition[];
}

/**
 * Detection across the sensors of one asset: AND/OR rules over conditions on several sensors
 * (each condition with its own hysteresis and duration), and a multivariate Isolation Forest over
 * the latest value of every member sensor.
 */
export class AssetDetector {
  /** Slot of each rule's condition block, and of its whole-rule flag. */
  private readonly offsets: number[] = [];
  private readonly size: number;

  constructor(
    readonly rules: readonly AssetRule[],
    /** Member sensors' keys in the model's feature order. */
    readonly members: readonly string[],
    readonly model: ActiveModel | null = null,
    /** Configured firing level; null: the model's calibrated one. */
    readonly fireAt: number | null = null,
  ) {
    let at = 0;
    for (const r of rules) {
      this.offsets.push(at);
      at += RULE_SLOTS * r.conditions.length + 1;
    }
    this.size = at;
  }

  newState(): AssetState {
    const rules = new Float64Array(this.size);
    for (let i = 0; i < this.rules.length; i++) {
      const base = this.offsets[i]!;
      for (let j = 0; j < this.rules[i]!.conditions.length; j++) {
        rules[base + RULE_SLOTS * j + 1] = Number.NaN;
        rules[base + RULE_SLOTS * j + 2] = Number.NaN;
      }
    }
    return { rules, latest: new Float64Array(this.members.length).fill(Number.NaN) };
  }

  /** An in-order reading of member `sensorKey` (late readings are not passed here). */
  evaluate(s: AssetState, sensorKey: string, ts: number, v: number): AssetVerdict {
    const out: AssetVerdict = { score: 0, transitions: [] };
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      const base = this.offsets[i]!;
      let touched = false;
      for (let j = 0; j < rule.conditions.length; j++) {
        const c = rule.conditions[j]!;
        if (c.sensor !== sensorKey) continue;
        stepRule(s.rules, base + RULE_SLOTS * j, c, ts, v);
        touched = true;
      }
      if (!touched) continue;
      let all = true;
      let any = false;
      for (let j = 0; j < rule.conditions.length; j++) {
        const on = s.rules[base + RULE_SLOTS * j] === 1;
        all &&= on;
        any ||= on;
      }
      const flag = base + RULE_SLOTS * rule.conditions.length;
      const now = rule.and ? all : any;
      const was = s.rules[flag] === 1;
      if (now === was) continue;
      s.rules[flag] = now ? 1 : 0;
      out.transitions.push({
        detector: 'asset-rule',
        ruleId: rule.id,
        state: now ? 'raised' : 'cleared',
        severity: rule.severity,
        detail: {
          op: rule.and ? 'and' : 'or',
          trigger: { sensor: sensorKey, value: v },
          conditions: rule.conditions.map((c, j) => ({
            sensor: c.sensor,
            when: c.below ? 'below' : 'above',
            value: c.value,
            met: s.rules[base + RULE_SLOTS * j] === 1,
          })),
        },
      });
    }
    const m = this.members.indexOf(sensorKey);
    if (m >= 0) {
      s.latest[m] = v;
      if (this.model && s.latest.every((x) => !Number.isNaN(x))) {
        out.score = levelScore(
          this.model.forest.score(s.latest, 0) - 0.5,
          (this.fireAt ?? this.model.threshold) - 0.5,
        );
      }
    }
    return out;
  }

  /** Whether a rule is raised now (tests, status). */
  isRaised(s: AssetState, ruleId: string): boolean {
    const i = this.rules.findIndex((r) => r.id === ruleId);
    return i >= 0 && s.rules[this.offsets[i]! + RULE_SLOTS * this.rules[i]!.conditions.length] === 1;
  }
}
