import type { AutoClear } from '../db/schema.js';

/** The detectors an alarm rule can name: `anomaly` stands for point anomalies, whichever detector found them. */
export const RULE_DETECTORS = ['*', 'anomaly', 'threshold', 'asset-rule', 'heartbeat', 'flatline'] as const;

/** Which detector output becomes which alarm, and how (docs/alarms.md, "Alarm rules"). */
export interface AlarmRule {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly sensorTypeId: string | null;
  readonly assetId: string | null;
  readonly sensorId: string | null;
  readonly detectors: readonly string[];
  readonly ruleIds: readonly string[] | null;
  readonly action: 'raise' | 'ignore';
  /** Overrides the detector's severity (null: keep it). */
  readonly severity: string | null;
  readonly minScore: number;
  readonly delayS: number;
  readonly minOccurrences: number;
  readonly withinS: number;
  readonly autoClear: AutoClear;
  readonly quietS: number;
  readonly createdAt: number;
}

/** How one detection event becomes an alarm. */
export interface AlarmPolicy {
  /** The alarm rule that applies (null: the built-in default). */
  readonly ruleId: string | null;
  readonly action: 'raise' | 'ignore';
  readonly severity: string | null;
  readonly minScore: number;
  readonly delayMs: number;
  readonly minOccurrences: number;
  readonly withinMs: number;
  readonly autoClear: AutoClear;
  readonly quietMs: number;
}

const HOUR = 3_600_000;

/**
 * Without a rule: every detector output raises. Point anomalies have no "cleared" event, so their
 * alarm resolves after an hour without another; conditions (rules, gaps, stuck values) resolve
 * when they clear, with the detector's own hysteresis.
 */
export function defaultPolicy(detector: string): AlarmPolicy {
  const base = {
    ruleId: null,
    action: 'raise' as const,
    severity: null,
    minScore: 0,
    delayMs: 0,
    minOccurrences: 1,
    withinMs: 0,
  };
  return detector === 'anomaly'
    ? { ...base, autoClear: 'after-quiet', quietMs: HOUR }
    : { ...base, autoClear: 'on-clear', quietMs: 0 };
}

/** What an event is about, for matching rules to it. */
export interface RuleSubject {
  /** Null for an asset's alarm (asset rules). */
  readonly sensorId: string | null;
  readonly sensorTypeId: string | null;
  readonly assetId: string | null;
  /** `anomaly` for point anomalies, else the detector. */
  readonly detector: string;
  readonly ruleId: string | null;
}

function scopeRank(r: AlarmRule, s: RuleSubject): number {
  if (r.sensorId !== null) return r.sensorId === s.sensorId ? 3 : -1;
  if (r.assetId !== null) return r.assetId === s.assetId ? 2 : -1;
  if (r.sensorTypeId !== null) return r.sensorTypeId === s.sensorTypeId ? 1 : -1;
  return 0;
}

/**
 * The enabled rule that applies to the subject: the most specific scope (sensor, then asset, then
 * sensor type, then the whole tenant), then one naming the detector over `*`, then one naming
 * rule ids over one that does not; the oldest rule breaks a tie. None: the built-in default.
 */
export function policyFor(rules: readonly AlarmRule[], s: RuleSubject): AlarmPolicy {
  let best: AlarmRule | undefined;
  let bestRank = -1;
  for (const r of rules) {
    if (!r.enabled) continue;
    const scope = scopeRank(r, s);
    if (scope < 0) continue;
    const named = r.detectors.includes(s.detector);
    if (!named && !r.detectors.includes('*')) continue;
    if (r.ruleIds !== null && (s.ruleId === null || !r.ruleIds.includes(s.ruleId))) continue;
    const rank = scope * 4 + (named ? 2 : 0) + (r.ruleIds !== null ? 1 : 0);
    if (rank > bestRank || (rank === bestRank && best && r.createdAt < best.createdAt)) {
      best = r;
      bestRank = rank;
    }
  }
  if (!best) return defaultPolicy(s.detector);
  return {
    ruleId: best.id,
    action: best.action,
    severity: best.severity,
    minScore: best.minScore,
    delayMs: best.delayS * 1000,
    minOccurrences: best.minOccurrences,
    withinMs: best.withinS * 1000,
    autoClear: best.autoClear,
    quietMs: best.quietS * 1000,
  };
}

/** Whether an alarm under this policy is held back before it raises. */
export const holdsBack = (p: AlarmPolicy): boolean => p.delayMs > 0 || p.minOccurrences > 1;
