/**
 * One committed batch in the reading log: columns packed back to back so encoding is a few
 * typed-array copies and decoding is views over one buffer.
 * Layout (little-endian): u32 version | u32 n | f64 ts[n] | f64 value[n] | i32 series[n] | u8 quality[n].
 */
export interface LogBlock {
  readonly count: number;
  readonly series: Int32Array;
  readonly ts: Float64Array;
  readonly value: Float64Array;
  readonly quality: Uint8Array;
}

const VERSION = 1;
const HEADER = 8;

export function encodeLogBlock(block: LogBlock): Buffer {
  const n = block.count;
  const buffer = new ArrayBuffer(HEADER + n * 21);
  const head = new Uint32Array(buffer, 0, 2);
  head[0] = VERSION;
  head[1] = n;
  new Float64Array(buffer, HEADER, n).set(block.ts.subarray(0, n));
  new Float64Array(buffer, HEADER + 8 * n, n).set(block.value.subarray(0, n));
  new Int32Array(buffer, HEADER + 16 * n, n).set(block.series.subarray(0, n));
  new Uint8Array(buffer, HEADER + 20 * n, n).set(block.quality.subarray(0, n));
  return Buffer.from(buffer);
}

export function decodeLogBlock(data: Uint8Array): LogBlock {
  // A copy, so the typed-array views start 8-byte aligned whatever buffer the driver returned
  // (Buffer#slice would not copy: it shares the driver's pooled memory).
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  const buffer = copy.buffer;
  const head = new Uint32Array(buffer, 0, 2);
  if (head[0] !== VERSION) throw new Error(`reading log block version ${head[0]} is not supported`);
  const n = head[1]!;
  if (buffer.byteLength !== HEADER + n * 21) throw new Error('reading log block is truncated');
  return {
    count: n,
    ts: new Float64Array(buffer, HEADER, n),
    value: new Float64Array(buffer, HEADER + 8 * n, n),
    series: new Int32Array(buffer, HEADER + 16 * n, n),
    quality: new Uint8Array(buffer, HEADER + 20 * n, n),
  };
}
