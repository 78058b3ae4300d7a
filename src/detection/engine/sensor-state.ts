import { RULE_SLOTS } from '../detectors/threshold.js';

export { RULE_SLOTS };

/** Slots of a sensor's scalar state (a Float64Array), then three per threshold rule. */
export const F = {
  /** In-order readings seen. */
  n: 0,
  lastTs: 1,
  lastValue: 2,
  mean: 3,
  var: 4,
  rateMean: 5,
  rateVar: 6,
  /** Learned interval between readings (ms). */
  interval: 7,
  flatSince: 8,
  flatValue: 9,
  flatCount: 10,
  flatActive: 11,
  /** A gap reported by the sweep and not yet ended by a reading. */
  gapActive: 12,
  winFill: 13,
  winPos: 14,
  reserved: 15,
  /** Slow baseline of the shift detector: level and variance. */
  slowMean: 16,
  slowVar: 17,
  /** Lowest and highest value learned (the range detector's envelope). */
  rangeLo: 18,
  rangeHi: 19,
  /** Readings left in the refractory period after a point anomaly. */
  quiet: 20,
  /** The MAD window's last computed MAD (refreshed every 4th reading: it moves slowly). */
  mad: 21,
  rules: 22,
} as const;

/** Slots per calibrated detector in `SensorState.lik`, before its ring of recent raw scores. */
export const L = {
  /** Readings of score history. */
  count: 0,
  /** Long-run mean and variance of the averaged raw score. */
  mean: 1,
  var: 2,
  /** Where the ring's next raw score goes. */
  pos: 3,
  ring: 4,
} as const;

/** Detectors with a likelihood state (the order of evaluation.ts's CALIBRATED). */
export const CALIBRATED_COUNT = 6;

const MAGIC = 0x56445332; // "VDS2"
const HEADER = 12;

/** What a state's layout depends on. */
export interface StateLayout {
  readonly rules: number;
  readonly window: number;
  readonly buckets: number;
  /** Readings averaged by the likelihood stage (its ring per calibrated detector). */
  readonly likWindow: number;
}

/**
 * One sensor's detector state in a few typed arrays (about 3 KB with the defaults), so a million
 * sensors fit in memory and a checkpoint is a byte copy. Layout depends only on the number of
 * rules, the MAD window, the seasonal bucket count and the likelihood window.
 */
export class SensorState {
  readonly f: Float64Array;
  /** MAD window: ring in arrival order, and the same values kept sorted. */
  readonly ring: Float64Array;
  readonly sorted: Float64Array;
  /** Seasonal buckets: mean, variance, count per bucket. */
  readonly seasonal: Float32Array;
  /**
   * Likelihood stage: per calibrated detector (k-th at k × (L.ring + likWindow)), the L slots then
   * a ring of `likWindow` raw scores.
   */
  readonly lik: Float64Array;

  constructor(
    readonly rules: number,
    readonly window: number,
    readonly buckets: number,
    readonly likWindow = 3,
  ) {
    this.f = new Float64Array(F.rules + RULE_SLOTS * rules);
    for (let i = 0; i < rules; i++) {
      this.f[F.rules + RULE_SLOTS * i + 1] = Number.NaN;
      this.f[F.rules + RULE_SLOTS * i + 2] = Number.NaN;
    }
    this.f[F.lastTs] = Number.NEGATIVE_INFINITY;
    this.f[F.rangeLo] = Number.POSITIVE_INFINITY;
    this.f[F.rangeHi] = Number.NEGATIVE_INFINITY;
    this.ring = new Float64Array(window);
    this.sorted = new Float64Array(window);
    this.seasonal = new Float32Array(buckets * 3);
    this.lik = new Float64Array(CALIBRATED_COUNT * (L.ring + likWindow));
  }

  /** Bytes of typed-array storage this state holds. */
  get byteLength(): number {
    return (
      this.f.byteLength +
      this.ring.byteLength +
      this.sorted.byteLength +
      this.seasonal.byteLength +
      this.lik.byteLength
    );
  }

  private get stored(): readonly (Float64Array | Float32Array)[] {
    return [this.f, this.ring, this.lik, this.seasonal];
  }

  /** Checkpoint form: a header and the arrays (the sorted window is rebuilt on restore). */
  toBytes(): Uint8Array {
    const arrays = this.stored;
    const size = HEADER + arrays.reduce((n, a) => n + a.byteLength, 0);
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint16(4, this.rules, true);
    view.setUint16(6, this.window, true);
    view.setUint16(8, this.buckets, true);
    view.setUint16(10, this.likWindow, true);
    let at = HEADER;
    for (const a of arrays) {
      out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
      at += a.byteLength;
    }
    return out;
  }

  /** Restores a checkpoint; null when it is malformed or its layout differs from the one wanted. */
  static fromBytes(bytes: Uint8Array, want: StateLayout): SensorState | null {
    if (bytes.byteLength < HEADER) return null;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0, true) !== MAGIC) return null;
    const rules = view.getUint16(4, true);
    const window = view.getUint16(6, true);
    const buckets = view.getUint16(8, true);
    const likWindow = view.getUint16(10, true);
    if (
      rules !== want.rules ||
      window !== want.window ||
      buckets !== want.buckets ||
      likWindow !== want.likWindow
    ) {
      return null;
    }
    const s = new SensorState(rules, window, buckets, likWindow);
    const arrays = s.stored;
    if (bytes.byteLength !== HEADER + arrays.reduce((n, a) => n + a.byteLength, 0)) return null;
    // Copy through a fresh buffer: the source may be unaligned for Float64Array.
    const copy = bytes.slice(HEADER);
    let at = 0;
    for (const a of arrays) {
      new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(copy.subarray(at, at + a.byteLength));
      at += a.byteLength;
    }
    const fill = s.f[F.winFill]!;
    for (let i = 0; i < fill; i++) s.sorted[i] = s.ring[i]!;
    s.sorted.subarray(0, fill).sort();
    return s;
  }
}
