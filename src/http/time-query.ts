import { Type } from 'typebox';
import { parseTimestamp } from '../telemetry/formats/batch.js';
import { AppError } from './errors/catalogue.js';

/** A time in a query string. */
export const Time = Type.String({
  maxLength: 40,
  description: 'RFC 3339 with offset, or epoch milliseconds',
});

/** A query time (RFC 3339 with offset, or epoch ms) as epoch ms; 400 naming `pointer` when invalid. */
export function time(raw: string | undefined, fallback: number, pointer: string): number {
  if (raw === undefined) return fallback;
  const t = /^-?\d{1,16}$/.test(raw) ? Number(raw) : parseTimestamp(raw);
  // Date's own range: beyond it no time can be printed back.
  if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) {
    throw new AppError('VALIDATION_FAILED', 'Invalid time', {
      errors: [{ pointer, detail: 'must be RFC 3339 with an offset or epoch milliseconds' }],
    });
  }
  return t;
}

/** `from`/`to` of a query, defaulting to the `defaultSpan` before now; `from` must come first. */
export function window(q: { from?: string; to?: string }, defaultSpan: number): { from: number; to: number } {
  const to = time(q.to, Date.now(), '/query/to');
  const from = time(q.from, to - defaultSpan, '/query/from');
  if (from >= to) {
    throw new AppError('VALIDATION_FAILED', 'from must be before to', {
      errors: [{ pointer: '/query/from', detail: 'must be before to' }],
    });
  }
  return { from, to };
}
