/** The part of a threshold rule (or asset condition) that steps its state. */
export interface RuleLimits {
  readonly below: boolean;
  readonly value: number;
  readonly clear: number;
  readonly forMs: number;
  readonly clearForMs: number;
}

export const RAISED = 1;
/** Slots per rule state: active, since, clearSince. */
export const RULE_SLOTS = 3;
export const CLEARED = -1;

/** Whether a value is past the rule's limit right now (no duration, no hysteresis). */
export function violates(rule: RuleLimits, v: number): boolean {
  return rule.below ? v < rule.value : v > rule.value;
}

/**
 * Steps one rule's state (three slots of `s` from `at`: active, since, clearSince) with an
 * in-order reading, returning RAISED, CLEARED or 0. Raising needs the limit passed from a first
 * reading to one at least `forMs` later; clearing needs the value past `clear` (the hysteresis
 * band between `value` and `clear` keeps the state) for `clearForMs`.
 */
export function stepRule(s: Float64Array, at: number, rule: RuleLimits, ts: number, v: number): number {
  if (s[at] === 0) {
    if (!violates(rule, v)) {
      s[at + 1] = Number.NaN;
      return 0;
    }
    if (Number.isNaN(s[at + 1]!)) s[at + 1] = ts;
    if (ts - s[at + 1]! < rule.forMs) return 0;
    s[at] = 1;
    s[at + 1] = Number.NaN;
    s[at + 2] = Number.NaN;
    return RAISED;
  }
  const clearing = rule.below ? v > rule.clear : v < rule.clear;
  if (!clearing) {
    s[at + 2] = Number.NaN;
    return 0;
  }
  if (Number.isNaN(s[at + 2]!)) s[at + 2] = ts;
  if (ts - s[at + 2]! < rule.clearForMs) return 0;
  s[at] = 0;
  s[at + 1] = Number.NaN;
  s[at + 2] = Number.NaN;
  return CLEARED;
}
