import type { Anomaly, Bucket, MaintenanceWindow, Reading, ThresholdRule } from '../api/types';

export const BUCKETS = [
  { key: '1m', ms: 60_000 },
  { key: '5m', ms: 300_000 },
  { key: '15m', ms: 900_000 },
  { key: '1h', ms: 3_600_000 },
  { key: '6h', ms: 21_600_000 },
  { key: '1d', ms: 86_400_000 },
] as const;

/** Raw readings up to this span; beyond it, buckets. */
export const RAW_MAX_SPAN_MS = 6 * 3_600_000;
/** Aim for no more buckets than the chart has pixels to show them. */
export const MAX_POINTS = 1500;

export type Resolution =
  | { readonly kind: 'raw' }
  | { readonly kind: 'bucket'; readonly bucket: string; readonly ms: number };

/** Raw readings for short spans, else the finest bucket that keeps the chart under MAX_POINTS. */
export function resolutionFor(spanMs: number): Resolution {
  if (spanMs <= RAW_MAX_SPAN_MS) return { kind: 'raw' };
  const b = BUCKETS.find((x) => spanMs / x.ms <= MAX_POINTS) ?? BUCKETS[BUCKETS.length - 1]!;
  return { kind: 'bucket', bucket: b.key, ms: b.ms };
}

/** Series for the chart: times in seconds (uPlot's unit), the value (or bucket average), min and max. */
export interface Series {
  readonly t: number[];
  readonly v: (number | null)[];
  readonly min: (number | null)[];
  readonly max: (number | null)[];
}

export const emptySeries = (): Series => ({ t: [], v: [], min: [], max: [] });

export function fromReadings(items: readonly Reading[]): Series {
  const s = emptySeries();
  for (const r of items) {
    s.t.push(Date.parse(r.ts) / 1000);
    s.v.push(r.value);
    s.min.push(null);
    s.max.push(null);
  }
  return s;
}

export function fromBuckets(buckets: readonly Bucket[]): Series {
  const s = emptySeries();
  for (const b of buckets) {
    s.t.push(Date.parse(b.ts) / 1000);
    s.v.push(b.empty ? null : b.avg);
    s.min.push(b.empty ? null : b.min);
    s.max.push(b.empty ? null : b.max);
  }
  return s;
}

/** The loaded series with live readings after its end appended (in time order, no repeats). */
export function withLiveTail(base: Series, live: readonly { ts: number; value: number }[]): Series {
  const end = base.t.length > 0 ? base.t[base.t.length - 1]! : Number.NEGATIVE_INFINITY;
  const tail = live.filter((r) => r.ts / 1000 > end).sort((a, b) => a.ts - b.ts);
  if (tail.length === 0) return base;
  return {
    t: [...base.t, ...tail.map((r) => r.ts / 1000)],
    v: [...base.v, ...tail.map((r) => r.value)],
    min: [...base.min, ...tail.map(() => null)],
    max: [...base.max, ...tail.map(() => null)],
  };
}

/**
 * Threshold rules from `/sensors/{id}/detectors/effective`, which answers in the engine's shape
 * (`below: true`, `forMs`) rather than the document's (`when: "below"`, `forS`): either becomes
 * the document's.
 */
export function normalizeRules(raw: unknown): ThresholdRule[] {
  if (!Array.isArray(raw)) return [];
  const out: ThresholdRule[] = [];
  for (const r of raw as Record<string, unknown>[]) {
    if (typeof r?.value !== 'number' || typeof r.id !== 'string') continue;
    const when = r.when === 'below' || r.when === 'above' ? r.when : r.below === true ? 'below' : 'above';
    const forS =
      typeof r.forS === 'number' ? r.forS : typeof r.forMs === 'number' ? r.forMs / 1000 : undefined;
    out.push({
      id: r.id,
      when,
      value: r.value,
      ...(typeof r.clear === 'number' ? { clear: r.clear } : {}),
      ...(forS !== undefined ? { forS } : {}),
      ...(typeof r.severity === 'string' ? { severity: r.severity as ThresholdRule['severity'] } : {}),
      ...(typeof r.description === 'string' ? { description: r.description } : {}),
    } as ThresholdRule);
  }
  return out;
}

/**
 * The normal operating range from the threshold rules: above the highest "below" limit and under
 * the lowest "above" limit (an open side is unbounded).
 */
export function normalRange(rules: readonly ThresholdRule[]): { low: number | null; high: number | null } {
  let low: number | null = null;
  let high: number | null = null;
  for (const r of rules) {
    if (r.when === 'below') low = low === null ? r.value : Math.max(low, r.value);
    if (r.when === 'above') high = high === null ? r.value : Math.min(high, r.value);
  }
  return { low, high };
}

/** The occurrences of maintenance windows (one-off, daily, weekly) that overlap [from, to] (ms). */
export function windowsIn(
  windows: readonly MaintenanceWindow[],
  from: number,
  to: number,
): { start: number; end: number; title: string }[] {
  const out: { start: number; end: number; title: string }[] = [];
  for (const w of windows) {
    const start = Date.parse(w.startsAt);
    const len = Date.parse(w.endsAt) - start;
    const period = w.recurrence === 'daily' ? 86_400_000 : w.recurrence === 'weekly' ? 7 * 86_400_000 : 0;
    const until = w.until ? Date.parse(w.until) : Number.POSITIVE_INFINITY;
    if (!period) {
      if (start < to && start + len > from) out.push({ start, end: start + len, title: w.title });
      continue;
    }
    const first = Math.max(0, Math.floor((from - start - len) / period));
    for (let k = first; k < first + 500; k++) {
      const s = start + k * period;
      if (s >= to || s > until) break;
      if (s + len > from) out.push({ start: s, end: s + len, title: w.title });
    }
  }
  return out;
}

const num = (v: number | undefined) =>
  v === undefined ? '?' : Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);

/** An anomaly's explanation in one sentence (for the chart's tooltip and the list below it). */
export function explain(a: Anomaly, unit = ''): string {
  const e = a.explanation ?? {};
  const u = unit ? ` ${unit}` : '';
  if (a.kind === 'raised' || a.kind === 'cleared') {
    const rule = a.ruleId ? `Rule ${a.ruleId}` : a.detector;
    if (a.detector === 'threshold' && e.when !== undefined) {
      const held = e.forMs ? ` for ${Math.round(e.forMs / 60_000)} min` : '';
      return a.kind === 'raised'
        ? `${rule} raised: ${num(e.observed)}${u} ${e.when} ${num(e.value)}${u}${held}`
        : `${rule} cleared: back past ${num(e.clear ?? e.value)}${u}`;
    }
    if (a.detector === 'heartbeat')
      return a.kind === 'raised' ? 'No data: the sensor went silent' : 'Data again';
    if (a.detector === 'flatline')
      return a.kind === 'raised' ? `Stuck value at ${num(e.observed)}${u}` : 'Values moving again';
    return `${rule} ${a.kind}`;
  }
  const parts = [`Anomaly (score ${a.score.toFixed(2)})`];
  if (e.observed !== undefined) parts.push(`observed ${num(e.observed)}${u}`);
  if (e.expected) parts.push(`expected ${num(e.expected.low)}–${num(e.expected.high)}${u}`);
  const dets = (e.detectors ?? []).map((d) => `${d.detector} ${d.score.toFixed(2)}`);
  if (dets.length > 0) parts.push(`detectors: ${dets.join(', ')}`);
  if (e.late) parts.push('late reading');
  return parts.join('; ');
}
