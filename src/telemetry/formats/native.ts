import {
  BatchBuilder,
  type ParsedBatch,
  parseTimestamp,
  QUALITIES,
  QUALITY_CODE,
  type Quality,
} from './batch.js';

/**
 * Vigil's own JSON: `{"readings":[{"sensor":"<id or key>","ts":"<RFC 3339 or epoch ms>",
 * "value":1.23,"quality":"good"}]}`. `ts` defaults to the time of receipt, `quality` to good.
 * Each item is checked on its own; a bad item is refused with a code, the rest go on.
 */
export function parseNative(body: { readings: readonly unknown[] }, receivedAt: number): ParsedBatch {
  const b = new BatchBuilder(body.readings.length);
  body.readings.forEach((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      b.reject(i, 'NOT_NUMERIC', 'each reading must be an object');
      return;
    }
    const r = item as { sensor?: unknown; ts?: unknown; value?: unknown; quality?: unknown };
    if (typeof r.sensor !== 'string' || r.sensor === '' || r.sensor.length > 128) {
      b.reject(i, 'MISSING_SENSOR', 'sensor must be a sensor id or key (1–128 characters)');
      return;
    }
    if (typeof r.value !== 'number') {
      b.reject(i, 'NOT_NUMERIC', 'value must be a number');
      return;
    }
    if (!Number.isFinite(r.value)) {
      b.reject(i, 'NOT_FINITE', 'value must be finite');
      return;
    }
    const ts = r.ts === undefined ? receivedAt : parseTimestamp(r.ts);
    if (Number.isNaN(ts)) {
      b.reject(
        i,
        'INVALID_TIMESTAMP',
        'ts must be RFC 3339 with an offset (2026-11-24T10:00:00Z) or epoch milliseconds',
      );
      return;
    }
    let quality = 0;
    if (r.quality !== undefined) {
      if (typeof r.quality !== 'string' || !(QUALITIES as readonly string[]).includes(r.quality)) {
        b.reject(i, 'INVALID_QUALITY', `quality must be one of ${QUALITIES.join(', ')}`);
        return;
      }
      quality = QUALITY_CODE[r.quality as Quality];
    }
    b.add(i, r.sensor, ts, r.value, quality);
  });
  return b.finish();
}
