/**
 * A parsed batch of readings in columns (typed arrays, not an object per reading): the shape the
 * whole ingest path works on. Items a parser already refused are listed in `rejected` with the
 * index they had in the request.
 */
export interface ParsedBatch {
  /** Readings accepted by the parser. */
  readonly count: number;
  /** Sensor reference as sent: a sensor id or key. */
  readonly sensor: string[];
  /** Epoch milliseconds. */
  readonly ts: Float64Array;
  readonly value: Float64Array;
  readonly quality: Uint8Array;
  /** Index of each reading in the request, for per-item answers. */
  readonly index: Uint32Array;
  readonly rejected: ItemRejection[];
}

export interface ItemRejection {
  readonly index: number;
  readonly code: ItemCode;
  readonly detail: string;
}

/** Stable codes for a single refused reading (the request as a whole may still succeed). */
export type ItemCode =
  | 'MISSING_SENSOR'
  | 'NOT_NUMERIC'
  | 'NOT_FINITE'
  | 'INVALID_TIMESTAMP'
  | 'INVALID_QUALITY'
  | 'TIMESTAMP_TOO_OLD'
  | 'TIMESTAMP_IN_FUTURE'
  | 'UNKNOWN_SENSOR'
  | 'NOT_OWNED'
  | 'DEVICE_QUARANTINED'
  | 'DUPLICATE';

export const QUALITIES = ['good', 'suspect', 'bad', 'uncertain'] as const;
export type Quality = (typeof QUALITIES)[number];
export const QUALITY_CODE: Readonly<Record<Quality, number>> = { good: 0, suspect: 1, bad: 2, uncertain: 3 };

/** Grows columns as a parser accepts readings; `finish` trims them to size. */
export class BatchBuilder {
  private n = 0;
  private sensor: string[] = [];
  private ts: Float64Array;
  private value: Float64Array;
  private quality: Uint8Array;
  private index: Uint32Array;
  readonly rejected: ItemRejection[] = [];

  constructor(capacity = 64) {
    this.ts = new Float64Array(capacity);
    this.value = new Float64Array(capacity);
    this.quality = new Uint8Array(capacity);
    this.index = new Uint32Array(capacity);
  }

  add(index: number, sensor: string, ts: number, value: number, quality = 0): void {
    if (this.n === this.ts.length) this.grow();
    this.sensor.push(sensor);
    // Storage keeps whole milliseconds (BIGINT); a finer time (SenML seconds, a fractional epoch)
    // is rounded to its millisecond.
    this.ts[this.n] = Math.round(ts);
    this.value[this.n] = value;
    this.quality[this.n] = quality;
    this.index[this.n] = index;
    this.n++;
  }

  reject(index: number, code: ItemCode, detail: string): void {
    this.rejected.push({ index, code, detail });
  }

  finish(): ParsedBatch {
    return {
      count: this.n,
      sensor: this.sensor,
      ts: this.ts.subarray(0, this.n),
      value: this.value.subarray(0, this.n),
      quality: this.quality.subarray(0, this.n),
      index: this.index.subarray(0, this.n),
      rejected: this.rejected,
    };
  }

  private grow(): void {
    const size = this.ts.length * 2;
    const grow = <T extends Float64Array | Uint8Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(a);
      return next;
    };
    this.ts = grow(this.ts, (n) => new Float64Array(n));
    this.value = grow(this.value, (n) => new Float64Array(n));
    this.quality = grow(this.quality, (n) => new Uint8Array(n));
    this.index = grow(this.index, (n) => new Uint32Array(n));
  }
}

/** RFC 3339 text or epoch milliseconds to epoch ms; NaN when it is neither. */
export function parseTimestamp(ts: unknown): number {
  if (typeof ts === 'number') return Number.isFinite(ts) ? ts : Number.NaN;
  if (typeof ts !== 'string') return Number.NaN;
  // RFC 3339 requires a date, a time and an offset; Date.parse alone accepts much more.
  if (!/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(ts)) return Number.NaN;
  return Date.parse(ts);
}
