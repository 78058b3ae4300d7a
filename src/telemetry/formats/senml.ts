import { BatchBuilder, type ParsedBatch } from './batch.js';

/** RFC 8428 §4.5.3: resolved times below 2^28 seconds are relative to now. */
const RELATIVE_LIMIT_S = 2 ** 28;

interface SenmlRecord {
  bn?: unknown;
  bt?: unknown;
  bv?: unknown;
  n?: unknown;
  t?: unknown;
  v?: unknown;
  vs?: unknown;
  vb?: unknown;
  vd?: unknown;
  s?: unknown;
}

const num = (x: unknown, fallback: number) =>
  typeof x === 'number' && Number.isFinite(x) ? x : x === undefined ? fallback : Number.NaN;

/**
 * SenML JSON (RFC 8428, `application/senml+json`): base name, time and value carry over to
 * later records until changed; a record's name is `bn + n`, its time `bt + t` (seconds,
 * relative to now when below 2^28), its value `bv + v`. The resolved name is the sensor key.
 * Records with only string, boolean, data or sum values are refused as not numeric.
 */
export function parseSenml(records: readonly unknown[], receivedAt: number): ParsedBatch {
  const b = new BatchBuilder(records.length);
  let bn = '';
  let bt = 0;
  let bv = 0;
  records.forEach((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      b.reject(i, 'NOT_NUMERIC', 'each SenML record must be an object');
      return;
    }
    const r = item as SenmlRecord;
    // Base fields apply from this record on, even if the record itself is refused.
    if (r.bn !== undefined) bn = typeof r.bn === 'string' ? r.bn : bn;
    if (r.bt !== undefined) bt = num(r.bt, 0);
    if (r.bv !== undefined) bv = num(r.bv, 0);
    const name = bn + (typeof r.n === 'string' ? r.n : '');
    if (name === '' || name.length > 128) {
      b.reject(i, 'MISSING_SENSOR', 'the resolved name (bn + n) must be a sensor key of 1–128 characters');
      return;
    }
    if (r.v === undefined) {
      const kind =
        r.vs !== undefined
          ? 'string'
          : r.vb !== undefined
            ? 'boolean'
            : r.vd !== undefined
              ? 'data'
              : r.s !== undefined
                ? 'sum'
                : 'no';
      b.reject(i, 'NOT_NUMERIC', `${kind} value: only numeric values (v) are stored`);
      return;
    }
    const value = bv + num(r.v, Number.NaN);
    if (!Number.isFinite(value)) {
      b.reject(i, typeof r.v === 'number' ? 'NOT_FINITE' : 'NOT_NUMERIC', 'v must be a finite number');
      return;
    }
    const t = bt + num(r.t, 0);
    if (!Number.isFinite(t)) {
      b.reject(i, 'INVALID_TIMESTAMP', 't and bt must be numbers of seconds');
      return;
    }
    const ts = t < RELATIVE_LIMIT_S ? receivedAt + t * 1000 : t * 1000;
    b.add(i, name, ts, value);
  });
  return b.finish();
}
