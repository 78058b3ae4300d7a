import { createHash } from 'node:crypto';
import type {
  AssetRuleDoc,
  DetectorConfigDoc,
  Severity,
  ThresholdRuleDoc,
} from './detector-config.schema.js';

/** A threshold rule with every default filled (times in ms). */
export interface ThresholdRule {
  readonly id: string;
  readonly below: boolean;
  readonly value: number;
  readonly clear: number;
  readonly forMs: number;
  readonly clearForMs: number;
  readonly severity: Severity;
  readonly description: string | undefined;
}

export interface AssetCondition {
  readonly sensor: string;
  readonly below: boolean;
  readonly value: number;
  readonly clear: number;
  readonly forMs: number;
  readonly clearForMs: number;
}

export interface AssetRule {
  readonly id: string;
  readonly and: boolean;
  readonly conditions: readonly AssetCondition[];
  readonly severity: Severity;
  readonly description: string | undefined;
}

/** What a sensor's detectors run with: the defaults, under the sensor type's document, under the sensor's. */
export interface EffectiveConfig {
  readonly threshold: number;
  readonly warmup: number;
  readonly rules: readonly ThresholdRule[];
  readonly rate: { readonly enabled: boolean; readonly maxPerS: number | null; readonly z: number };
  readonly flatline: {
    readonly enabled: boolean;
    readonly minDurationMs: number | null;
    readonly minReadings: number;
    readonly tolerance: number;
  };
  readonly heartbeat: { readonly enabled: boolean; readonly k: number; readonly expectedMs: number | null };
  readonly ewma: { readonly enabled: boolean; readonly alpha: number; readonly z: number };
  readonly mad: { readonly enabled: boolean; readonly window: number; readonly z: number };
  readonly shift: {
    readonly enabled: boolean;
    readonly window: number;
    readonly alpha: number;
    readonly z: number;
  };
  readonly range: { readonly enabled: boolean; readonly tolerance: number };
  readonly likelihood: {
    readonly enabled: boolean;
    readonly window: number;
    readonly learn: number;
    readonly history: number;
    readonly z: number;
    readonly refractory: number;
  };
  readonly seasonal: {
    readonly enabled: boolean;
    /** Hour-of-day buckets (24), hour-of-week (168), or both (192: day first). */
    readonly buckets: 24 | 168 | 192;
    readonly alpha: number;
    readonly z: number;
    readonly utcOffsetMs: number;
  };
  readonly isolationForest: {
    readonly enabled: boolean;
    readonly trees: number;
    readonly sampleSize: number;
    /** Isolation score at which it fires; null: each model's own, calibrated on its training data. */
    readonly fireAt: number | null;
    readonly trainWindowDays: number;
  };
  /** Stable digest: a sensor whose digest changes gets fresh state, warmed from its history. */
  readonly digest: string;
}

/** The built-in defaults (documented in docs/detection.md). */
export const DEFAULT_DOC: Required<Omit<DetectorConfigDoc, 'assetRules'>> = {
  threshold: 0.7,
  warmup: 30,
  rules: [],
  rateOfChange: { enabled: true, z: 8 },
  flatline: { enabled: true, minReadings: 20, tolerance: 0 },
  heartbeat: { enabled: true, k: 5 },
  ewma: { enabled: true, alpha: 0.02, z: 6 },
  mad: { enabled: true, window: 32, z: 7 },
  shift: { enabled: true, window: 8, alpha: 0.005, z: 6 },
  range: { enabled: true, tolerance: 0.02 },
  likelihood: { enabled: true, window: 3, learn: 360, history: 8640, z: 7.5, refractory: 200 },
  seasonal: { enabled: true, period: 'day+week', alpha: 0.1, z: 6, utcOffsetMin: 0 },
  isolationForest: { enabled: false, trees: 32, sampleSize: 256, trainWindowDays: 14 },
};

function rule(r: ThresholdRuleDoc): ThresholdRule {
  return {
    id: r.id,
    below: r.when === 'below',
    value: r.value,
    clear: r.clear ?? r.value,
    forMs: (r.forS ?? 0) * 1000,
    clearForMs: (r.clearForS ?? 0) * 1000,
    severity: r.severity ?? 'warning',
    description: r.description,
  };
}

/** Semantic checks the JSON schema cannot express; each problem with its JSON pointer. */
export function checkDoc(doc: DetectorConfigDoc, pointer = ''): { pointer: string; detail: string }[] {
  const problems: { pointer: string; detail: string }[] = [];
  const hysteresis = (
    r: { when: 'above' | 'below'; value: number; clear?: number | undefined },
    at: string,
  ) => {
    if (r.clear === undefined) return;
    if (r.when === 'below' && r.clear < r.value)
      problems.push({ pointer: `${at}/clear`, detail: 'a "below" rule must clear at or above its value' });
    if (r.when === 'above' && r.clear > r.value)
      problems.push({ pointer: `${at}/clear`, detail: 'an "above" rule must clear at or below its value' });
  };
  const seen = new Set<string>();
  doc.rules?.forEach((r, i) => {
    hysteresis(r, `${pointer}/rules/${i}`);
    if (seen.has(r.id)) problems.push({ pointer: `${pointer}/rules/${i}/id`, detail: 'duplicate rule id' });
    seen.add(r.id);
  });
  const assetSeen = new Set<string>();
  doc.assetRules?.forEach((r, i) => {
    r.conditions.forEach((c, j) => {
      hysteresis(c, `${pointer}/assetRules/${i}/conditions/${j}`);
    });
    if (assetSeen.has(r.id))
      problems.push({ pointer: `${pointer}/assetRules/${i}/id`, detail: 'duplicate rule id' });
    assetSeen.add(r.id);
  });
  return problems;
}

/** Merges documents (later wins, per detector section; `rules` is replaced whole) over the defaults. */
export function effectiveConfig(...docs: readonly (DetectorConfigDoc | null | undefined)[]): EffectiveConfig {
  const d: DetectorConfigDoc = { ...DEFAULT_DOC };
  const sections = [
    'rateOfChange',
    'flatline',
    'heartbeat',
    'ewma',
    'mad',
    'shift',
    'range',
    'likelihood',
    'seasonal',
    'isolationForest',
  ] as const;
  for (const doc of docs) {
    if (!doc) continue;
    if (doc.threshold !== undefined) d.threshold = doc.threshold;
    if (doc.warmup !== undefined) d.warmup = doc.warmup;
    if (doc.rules !== undefined) d.rules = doc.rules;
    for (const s of sections) {
      const over = doc[s];
      // Spread of an optional section: TypeScript cannot relate the union per key, hence the cast.
      if (over) (d as Record<string, unknown>)[s] = { ...(d[s] as object), ...over };
    }
  }
  const r = d.rateOfChange!;
  const f = d.flatline!;
  const h = d.heartbeat!;
  const e = d.ewma!;
  const m = d.mad!;
  const sh = d.shift!;
  const rg = d.range!;
  const l = d.likelihood!;
  const s = d.seasonal!;
  const i = d.isolationForest!;
  const body = {
    threshold: d.threshold!,
    warmup: d.warmup!,
    rules: (d.rules ?? []).map(rule),
    rate: { enabled: r.enabled !== false, maxPerS: r.maxPerS ?? null, z: r.z ?? 8 },
    flatline: {
      enabled: f.enabled !== false,
      minDurationMs: f.minDurationS === undefined ? null : f.minDurationS * 1000,
      minReadings: f.minReadings ?? 20,
      tolerance: f.tolerance ?? 0,
    },
    heartbeat: {
      enabled: h.enabled !== false,
      k: h.k ?? 5,
      expectedMs: h.expectedIntervalS === undefined ? null : h.expectedIntervalS * 1000,
    },
    ewma: { enabled: e.enabled !== false, alpha: e.alpha ?? 0.02, z: e.z ?? 6 },
    mad: { enabled: m.enabled !== false, window: m.window ?? 32, z: m.z ?? 7 },
    shift: {
      enabled: sh.enabled !== false,
      window: Math.min(sh.window ?? 8, m.window ?? 32),
      alpha: sh.alpha ?? 0.005,
      z: sh.z ?? 6,
    },
    range: { enabled: rg.enabled !== false, tolerance: rg.tolerance ?? 0.02 },
    likelihood: {
      enabled: l.enabled !== false,
      window: l.window ?? 3,
      learn: l.learn ?? 360,
      history: l.history ?? 8640,
      z: l.z ?? 7.5,
      refractory: l.refractory ?? 200,
    },
    seasonal: {
      enabled: s.enabled !== false,
      buckets: s.period === 'week' ? 168 : s.period === 'day' ? 24 : 192,
      alpha: s.alpha ?? 0.1,
      z: s.z ?? 6,
      utcOffsetMs: (s.utcOffsetMin ?? 0) * 60_000,
    },
    isolationForest: {
      enabled: i.enabled === true,
      trees: i.trees ?? 32,
      sampleSize: i.sampleSize ?? 256,
      fireAt: i.fireAt ?? null,
      trainWindowDays: i.trainWindowDays ?? 14,
    },
  } as const;
  const digest = createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 16);
  return { ...body, digest };
}

/** An asset document's rules with defaults filled. */
export function assetRules(doc: DetectorConfigDoc | null | undefined): AssetRule[] {
  return (doc?.assetRules ?? []).map((r: AssetRuleDoc) => ({
    id: r.id,
    and: r.op === 'and',
    severity: r.severity ?? 'warning',
    description: r.description,
    conditions: r.conditions.map((c) => ({
      sensor: c.sensor,
      below: c.when === 'below',
      value: c.value,
      clear: c.clear ?? c.value,
      forMs: (c.forS ?? 0) * 1000,
      clearForMs: (c.clearForS ?? 0) * 1000,
    })),
  }));
}
