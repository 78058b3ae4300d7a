import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** One series' readings in time order, without duplicate timestamps. */
export interface SeriesRun {
  readonly ts: Float64Array;
  readonly value: Float64Array;
  readonly quality: Uint8Array;
}

/** A byte sink for LEB128 varints of values up to 2^53 (arithmetic, not 32-bit bitwise ops). */
class ByteWriter {
  private buf = new Uint8Array(1024);
  length = 0;

  byte(b: number): void {
    if (this.length === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = b;
  }

  uvarint(v: number): void {
    while (v >= 128) {
      this.byte((v % 128) + 128);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }

  svarint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  bytes(b: Uint8Array): void {
    for (const x of b) this.byte(x);
  }

  result(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

class ByteReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw new Error('chunk is truncated');
    return this.buf[this.pos++]!;
  }

  uvarint(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      v += (b & 127) * scale;
      if (b < 128) return v;
      scale *= 128;
    }
  }

  svarint(): number {
    const z = this.uvarint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  take(length: number): Uint8Array {
    if (this.pos + length > this.buf.length) throw new Error('chunk is truncated');
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
}

const VERSION = 2;
const MODE_DECIMAL = 1;
const MODE_FLOAT = 0;
const MAX_SCALED = 2 ** 50;

/** The fewest decimals (0–6) that represent every value exactly, or -1 (most sensor data has few). */
function decimalScale(values: Float64Array): number {
  outer: for (let d = 0; d <= 6; d++) {
    const f = 10 ** d;
    for (const v of values) {
      const scaled = Math.round(v * f);
      if (Math.abs(scaled) > MAX_SCALED || scaled / f !== v || Object.is(v, -0)) continue outer;
    }
    return d;
  }
  return -1;
}

/**
 * Compresses a run without a general-purpose compressor in the common case (cheap for the
 * compactor, which rewrites chunks often):
 * - timestamps: the first, then zig-zag delta-of-deltas as (value, repeat) runs — a regular
 *   interval costs a few bytes for the whole chunk;
 * - values with up to six decimals (typical of sensors): zig-zag varint deltas of the scaled
 *   integers (one or two bytes for a slowly moving signal); other doubles: XOR with the previous
 *   one, deflated (the only case that uses zlib);
 * - qualities: (length, code) runs.
 */
export function encodeChunk(run: SeriesRun): Buffer {
  const n = run.ts.length;
  const w = new ByteWriter();
  w.byte(VERSION);
  w.uvarint(n);
  if (n > 0) w.svarint(run.ts[0]!);
  let prevDelta = 0;
  let runValue = 0;
  let runLength = 0;
  for (let i = 1; i < n; i++) {
    const delta = run.ts[i]! - run.ts[i - 1]!;
    const dod = delta - prevDelta;
    prevDelta = delta;
    if (runLength > 0 && dod === runValue) {
      runLength++;
      continue;
    }
    if (runLength > 0) {
      w.svarint(runValue);
      w.uvarint(runLength);
    }
    runValue = dod;
    runLength = 1;
  }
  if (runLength > 0) {
    w.svarint(runValue);
    w.uvarint(runLength);
  }
  const d = decimalScale(run.value);
  if (d >= 0) {
    w.byte(MODE_DECIMAL);
    w.byte(d);
    const f = 10 ** d;
    let prev = 0;
    for (let i = 0; i < n; i++) {
      const scaled = Math.round(run.value[i]! * f);
      w.svarint(scaled - prev);
      prev = scaled;
    }
  } else {
    w.byte(MODE_FLOAT);
    const words = new Uint32Array(Float64Array.from(run.value).buffer);
    const xored = new Uint32Array(words.length);
    for (let i = 0; i < words.length; i++) xored[i] = i < 2 ? words[i]! : (words[i]! ^ words[i - 2]!) >>> 0;
    const packed = deflateRawSync(new Uint8Array(xored.buffer));
    w.uvarint(packed.length);
    w.bytes(packed);
  }
  for (let i = 0; i < n; ) {
    const q = run.quality[i]!;
    let j = i + 1;
    while (j < n && run.quality[j] === q) j++;
    w.uvarint(j - i);
    w.byte(q);
    i = j;
  }
  return Buffer.from(w.result());
}

export function decodeChunk(data: Uint8Array): SeriesRun {
  const r = new ByteReader(data);
  const version = r.byte();
  if (version !== VERSION) throw new Error(`chunk version ${version} is not supported`);
  const n = r.uvarint();
  if (n > 100_000_000) throw new Error('chunk is corrupt');
  const ts = new Float64Array(n);
  if (n > 0) ts[0] = r.svarint();
  let delta = 0;
  for (let i = 1; i < n; ) {
    const dod = r.svarint();
    const repeat = r.uvarint();
    if (repeat === 0 || i + repeat > n) throw new Error('chunk is corrupt');
    for (let k = 0; k < repeat; k++, i++) {
      delta += dod;
      ts[i] = ts[i - 1]! + delta;
    }
  }
  const value = new Float64Array(n);
  const mode = r.byte();
  if (mode === MODE_DECIMAL) {
    const f = 10 ** r.byte();
    let prev = 0;
    for (let i = 0; i < n; i++) {
      prev += r.svarint();
      value[i] = prev / f;
    }
  } else if (mode === MODE_FLOAT) {
    const length = r.uvarint();
    const raw = inflateRawSync(r.take(length));
    if (raw.length !== n * 8) throw new Error('chunk is corrupt');
    const bytes = new Uint8Array(raw.length);
    bytes.set(raw);
    const xored = new Uint32Array(bytes.buffer);
    const words = new Uint32Array(value.buffer);
    for (let i = 0; i < words.length; i++) words[i] = i < 2 ? xored[i]! : (xored[i]! ^ words[i - 2]!) >>> 0;
  } else {
    throw new Error('chunk is corrupt');
  }
  const quality = new Uint8Array(n);
  for (let i = 0; i < n; ) {
    const len = r.uvarint();
    const q = r.byte();
    if (len === 0 || i + len > n) throw new Error('chunk is corrupt');
    quality.fill(q, i, i + len);
    i += len;
  }
  return { ts, value, quality };
}
