import { describe, expect, it } from 'vitest';
import { averagePathLength, IsolationForest } from './isolation-forest.js';
import { Random } from './random.js';

/** Standard normal draws (Box–Muller), reproducible from seed. */
function normals(n: number, seed: number): Float64Array {
  const random = new Random(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - random.nextFloat();
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextFloat());
  }
  return out;
}

function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function ranks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const out = new Float64Array(values.length);
  order.forEach((index, rank) => {
    out[index] = rank;
  });
  return out;
}

function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (ra.length - 1) / 2;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - mean) * (rb[i]! - mean);
    da += (ra[i]! - mean) ** 2;
    db += (rb[i]! - mean) ** 2;
  }
  return num / Math.sqrt(da * db);
}

/** A 2-D standard Gaussian blob of `inliers` rows followed by the given outlier rows. */
function blobWithOutliers(
  inliers: number,
  outliers: readonly (readonly number[])[],
  seed: number,
): Float64Array {
  const data = new Float64Array((inliers + outliers.length) * 2);
  data.set(normals(inliers * 2, seed));
  outliers.forEach((row, i) => {
    data.set(row, (inliers + i) * 2);
  });
  return data;
}

const FAR = [
  [8, 8],
  [-9, 2],
  [0, -10],
  [7, -6],
  [-6, -7],
] as const;

/** CRC-32 (IEEE), to forge inputs whose checksum is right but whose content is not. */
function crc32(bytes: Uint8Array, end: number): number {
  let c = 0xffffffff;
  for (let i = 0; i < end; i++) {
    c ^= bytes[i]!;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function withFixedChecksum(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(bytes.length - 4, crc32(bytes, bytes.length - 4), true);
  return bytes;
}

/** Section offsets of the byte form, read from its header. */
function layoutOf(bytes: Uint8Array): { trees: number; leafStart: number; featureStart: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const trees = view.getUint32(12, true);
  const splits = view.getUint32(24, true);
  const leafStart = 32 + splits * 8;
  return { trees, leafStart, featureStart: leafStart + (splits + trees) * 4 };
}

/**
 * Scores x by walking the preorder byte form directly, tree by tree: an independent reference for
 * the padded complete-tree layout and the four-trees-at-a-time descent.
 */
function referenceScore(bytes: Uint8Array, x: ArrayLike<number>): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sampleSize = view.getUint32(16, true);
  const { trees, leafStart, featureStart } = layoutOf(bytes);
  const at = { threshold: 32, leaf: leafStart, feature: featureStart };
  // Returns the path length of x in the subtree starting at the cursor and moves past that subtree.
  const walk = (active: boolean): number => {
    const feature = view.getInt16(at.feature, true);
    at.feature += 2;
    if (feature === -1) {
      const value = view.getFloat32(at.leaf, true);
      at.leaf += 4;
      return active ? value : 0;
    }
    const threshold = view.getFloat64(at.threshold, true);
    at.threshold += 8;
    const left = active && x[feature]! < threshold;
    const a = walk(left);
    const b = walk(active && !left);
    return a + b;
  };
  let sum = 0;
  for (let t = 0; t < trees; t++) sum += walk(true);
  return 2 ** (-(sum / trees) / averagePathLength(sampleSize));
}

describe('averagePathLength', () => {
  it('matches c(n) = 2H(n−1) − 2(n−1)/n with the small cases pinned', () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    expect(averagePathLength(256)).toBeCloseTo(2 * (Math.log(255) + 0.5772156649) - 510 / 256, 12);
    expect(averagePathLength(256)).toBeCloseTo(10.2448, 3);
  });
});

describe('Random', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random(43);
    const seqA = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(seqA);
  });

  it('keeps floats in [0, 1) and integers in [0, n) roughly uniform', () => {
    const random = new Random(7);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const f = random.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
      const k = random.nextInt(10);
      counts[k] = counts[k]! + 1;
    }
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
});

describe('IsolationForest determinism', () => {
  const data = blobWithOutliers(1000, FAR, 11);

  it('gives byte-identical models and identical scores for the same data and seed', () => {
    const a = IsolationForest.train(data, 2, { seed: 7 });
    const b = IsolationForest.train(data, 2, { seed: 7 });
    expect(b.toBytes()).toEqual(a.toBytes());
    expect(b.scoreMany(data)).toEqual(a.scoreMany(data));
  });

  it('gives different models for different seeds that still rank points alike', () => {
    const a = IsolationForest.train(data, 2, { seed: 1 });
    const b = IsolationForest.train(data, 2, { seed: 2 });
    expect(b.toBytes()).not.toEqual(a.toBytes());
    const sa = a.scoreMany(data);
    const sb = b.scoreMany(data);
    expect(sb).not.toEqual(sa);
    expect(spearman(sa, sb)).toBeGreaterThan(0.9);
    const top = (s: Float64Array) =>
      new Set(Array.from(ranks(s)).flatMap((r, i) => (r >= s.length - 5 ? [i] : [])));
    expect(top(sb)).toEqual(top(sa));
  });
});

describe('IsolationForest scores', () => {
  it('scores far outliers of a 2-D Gaussian blob above every inlier', () => {
    const inliers = 1000;
    const data = blobWithOutliers(inliers, FAR, 3);
    const forest = IsolationForest.train(data, 2);
    const scores = forest.scoreMany(data);
    const inlierScores = scores.subarray(0, inliers);
    const inlierMedian = median(inlierScores);
    expect(inlierMedian).toBeGreaterThan(0.4);
    expect(inlierMedian).toBeLessThan(0.55);
    const inlierMax = Math.max(...inlierScores);
    for (const s of scores.subarray(inliers)) {
      expect(s).toBeGreaterThan(0.6);
      expect(s).toBeGreaterThan(inlierMax);
    }
    for (const s of scores) expect(s > 0 && s <= 1).toBe(true);
  });

  it('scores univariate outliers above the inliers', () => {
    const inliers = 2000;
    const outliers = [9, -11, 15];
    const data = new Float64Array(inliers + outliers.length);
    data.set(normals(inliers, 5));
    data.set(outliers, inliers);
    const forest = IsolationForest.train(data, 1, { seed: 3 });
    const inlierScores = forest.scoreMany(data.subarray(0, inliers));
    const inlierMedian = median(inlierScores);
    expect(inlierMedian).toBeGreaterThan(0.4);
    expect(inlierMedian).toBeLessThan(0.55);
    for (const x of outliers) {
      expect(forest.score([x])).toBeGreaterThan(0.6);
      expect(forest.score([x])).toBeGreaterThan(Math.max(...inlierScores));
    }
    // Farther out is at least as anomalous.
    expect(forest.score([30])).toBeGreaterThanOrEqual(forest.score([3]));
  });

  it('flags a point whose features are each ordinary but whose combination is not', () => {
    const rows = 2000;
    const xs = normals(rows, 21);
    const noise = normals(rows, 22);
    const data = new Float64Array(rows * 2);
    for (let i = 0; i < rows; i++) {
      data[2 * i] = xs[i]!;
      data[2 * i + 1] = xs[i]! + 0.1 * noise[i]!;
    }
    const forest = IsolationForest.train(data, 2, { seed: 9 });
    const scores = forest.scoreMany(data);
    // x = 1.5 and y = −1.5 are each well inside their marginals (about 7% of rows lie farther out).
    // Axis-parallel splits isolate such a point only moderately (≈ 0.61 here, against ≈ 0.45 for a
    // typical row): the rows at the ends of the diagonal still score higher, a known limit of iForest.
    const odd = forest.score([1.5, -1.5]);
    expect(odd).toBeGreaterThan(quantile(scores, 0.9));
    expect(odd).toBeGreaterThan(median(scores) + 0.1);
    expect(odd).toBeGreaterThan(0.58);
    // The same marginal values on the diagonal are unremarkable.
    expect(forest.score([1.5, 1.5])).toBeLessThan(odd - 0.05);
  });

  it('agrees with a direct walk of the stored trees, including a tree count not divisible by 4', () => {
    const data = normals(3 * 500, 8);
    for (const trees of [1, 3, 4, 6, 64]) {
      const forest = IsolationForest.train(data, 3, { trees, sampleSize: 100, seed: trees });
      const bytes = forest.toBytes();
      for (let r = 0; r < 40; r++) {
        const x = data.subarray(3 * r, 3 * r + 3);
        expect(forest.score(x)).toBeCloseTo(referenceScore(bytes, x), 12);
      }
      expect(forest.score([50, -50, 0])).toBeCloseTo(referenceScore(bytes, [50, -50, 0]), 12);
    }
  });

  it('scores from an offset, into a given buffer, and the same through score and scoreMany', () => {
    const data = normals(4 * 300, 2);
    const forest = IsolationForest.train(data, 4, { trees: 10 });
    const out = new Float64Array(400).fill(-1);
    expect(forest.scoreMany(data, out)).toBe(out);
    expect(out[300]).toBe(-1);
    const plain = Array.from(data);
    for (const r of [0, 17, 299]) {
      expect(forest.score(data, 4 * r)).toBe(out[r]);
      expect(forest.score(plain, 4 * r)).toBe(out[r]);
      expect(forest.score(data.subarray(4 * r, 4 * r + 4))).toBe(out[r]);
    }
  });

  it('returns NaN for a NaN coordinate and rejects out-of-range reads', () => {
    const forest = IsolationForest.train(normals(600, 4), 3, { trees: 8 });
    expect(forest.score([0, Number.NaN, 0])).toBeNaN();
    expect(forest.score([Number.POSITIVE_INFINITY, 0, 0])).toBeGreaterThan(0.5);
    expect(() => forest.score([0, 0])).toThrow(RangeError);
    expect(() => forest.score([0, 0, 0], 1)).toThrow(RangeError);
    expect(() => forest.score([0, 0, 0, 0], -1)).toThrow(RangeError);
    expect(() => forest.score([0, 0, 0, 0], 0.5)).toThrow(RangeError);
    expect(() => forest.scoreMany(new Float64Array(4))).toThrow(RangeError);
    expect(() => forest.scoreMany(new Float64Array(6), new Float64Array(1))).toThrow(RangeError);
  });

  it('uses every row when there are fewer than sampleSize, and copes with tiny or constant data', () => {
    const small = IsolationForest.train(normals(50, 6), 1);
    expect(small.sampleSize).toBe(50);
    expect(small.trees).toBe(64);
    expect(small.seed).toBe(1);

    // All rows equal: every tree is one leaf holding ψ rows, so E[h] = c(ψ) and s = 0.5 (up to the
    // Float32 rounding of stored path lengths).
    const constant = IsolationForest.train(new Float64Array(300).fill(4.2), 3, { trees: 5 });
    expect(constant.score([4.2, 4.2, 4.2])).toBeCloseTo(0.5, 6);
    expect(constant.score([-1e9, 0, 1e9])).toBeCloseTo(0.5, 6);

    // A constant feature beside a varying one never blocks splitting on the varying one.
    const mixed = new Float64Array(2 * 500);
    const xs = normals(500, 4);
    for (let i = 0; i < 500; i++) {
      mixed[2 * i] = 1;
      mixed[2 * i + 1] = xs[i]!;
    }
    const forest = IsolationForest.train(mixed, 2);
    expect(forest.score([1, 12])).toBeGreaterThan(0.6);
    expect(forest.score([1, 0])).toBeLessThan(0.55);

    // One row tells nothing apart.
    const single = IsolationForest.train(Float64Array.of(1, 2), 2);
    expect(single.sampleSize).toBe(1);
    expect(single.score([1, 2])).toBe(0.5);
    expect(IsolationForest.fromBytes(single.toBytes()).score([5, 5])).toBe(0.5);
  });
});

describe('IsolationForest bytes', () => {
  const data = blobWithOutliers(800, FAR, 13);
  const forest = IsolationForest.train(data, 2, { trees: 30, sampleSize: 200, seed: 99 });
  const bytes = forest.toBytes();

  it('round-trips to a model that scores identically and re-encodes to the same bytes', () => {
    const copy = IsolationForest.fromBytes(bytes);
    expect(copy.dims).toBe(2);
    expect(copy.trees).toBe(30);
    expect(copy.sampleSize).toBe(200);
    expect(copy.seed).toBe(99);
    expect(copy.byteLength).toBe(forest.byteLength);
    expect(copy.scoreMany(data)).toEqual(forest.scoreMany(data));
    expect(copy.score([100, -100])).toBe(forest.score([100, -100]));
    expect(copy.toBytes()).toEqual(bytes);
    expect(bytes.length).toBeLessThan(forest.byteLength);
  });

  it('reads bytes that sit at an offset inside a larger buffer', () => {
    const backing = new Uint8Array(bytes.length + 11);
    backing.set(bytes, 7);
    const copy = IsolationForest.fromBytes(backing.subarray(7, 7 + bytes.length));
    expect(copy.scoreMany(data)).toEqual(forest.scoreMany(data));
  });

  it('rejects truncated or extended input', () => {
    for (const length of [0, 1, 31, 35, 36, 100, bytes.length >> 1, bytes.length - 4, bytes.length - 1]) {
      expect(() => IsolationForest.fromBytes(bytes.slice(0, length))).toThrow(RangeError);
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => IsolationForest.fromBytes(longer)).toThrow(RangeError);
  });

  it('rejects corrupted bytes through the checksum', () => {
    for (const at of [40, bytes.length >> 1, bytes.length - 10]) {
      const bad = bytes.slice();
      bad[at] = bad[at]! ^ 0x10;
      expect(() => IsolationForest.fromBytes(bad)).toThrow(/checksum/);
    }
  });

  it('rejects a bad header', () => {
    const magic = bytes.slice();
    magic[0] = 0;
    expect(() => IsolationForest.fromBytes(magic)).toThrow(/magic/);
    const version = bytes.slice();
    version[4] = 2;
    expect(() => IsolationForest.fromBytes(version)).toThrow(/version 2/);
    const dims = bytes.slice();
    new DataView(dims.buffer).setUint32(8, 0, true);
    expect(() => IsolationForest.fromBytes(withFixedChecksum(dims))).toThrow(RangeError);
    const splits = bytes.slice();
    new DataView(splits.buffer).setUint32(24, 0xffffffff, true);
    expect(() => IsolationForest.fromBytes(withFixedChecksum(splits))).toThrow(RangeError);
  });

  it('rejects trees the trainer could not have made even when the checksum matches', () => {
    const { featureStart, leafStart } = layoutOf(bytes);
    // The root of the first tree splits on a feature that does not exist.
    const feature = bytes.slice();
    new DataView(feature.buffer).setInt16(featureStart, 2, true);
    expect(() => IsolationForest.fromBytes(withFixedChecksum(feature))).toThrow(/bad split/);
    // Turning the root into a leaf leaves the rest of the stream unaccounted for.
    const leaf = bytes.slice();
    new DataView(leaf.buffer).setInt16(featureStart, -1, true);
    expect(() => IsolationForest.fromBytes(withFixedChecksum(leaf))).toThrow(RangeError);
    const threshold = bytes.slice();
    new DataView(threshold.buffer).setFloat64(32, Number.NaN, true);
    expect(() => IsolationForest.fromBytes(withFixedChecksum(threshold))).toThrow(/bad threshold/);
    const value = bytes.slice();
    new DataView(value.buffer).setFloat32(leafStart, -1, true);
    expect(() => IsolationForest.fromBytes(withFixedChecksum(value))).toThrow(/bad leaf/);
    // Deeper than ceil(log2 ψ): claim ψ = 2, so only a root split over two leaves fits.
    const deep = bytes.slice();
    new DataView(deep.buffer).setUint32(16, 2, true);
    expect(() => IsolationForest.fromBytes(withFixedChecksum(deep))).toThrow(RangeError);
  });
});

describe('IsolationForest.train validation', () => {
  const ok = normals(40, 1);

  it('rejects empty data, bad dims and data that does not fill whole rows', () => {
    expect(() => IsolationForest.train(new Float64Array(0), 2)).toThrow(/empty/);
    expect(() => IsolationForest.train(ok, 0)).toThrow(RangeError);
    expect(() => IsolationForest.train(ok, -1)).toThrow(RangeError);
    expect(() => IsolationForest.train(ok, 1.5)).toThrow(RangeError);
    expect(() => IsolationForest.train(ok, Number.NaN)).toThrow(RangeError);
    expect(() => IsolationForest.train(ok, 3)).toThrow(/multiple of dims/);
  });

  it('rejects NaN and infinite values, naming where they are', () => {
    const nan = ok.slice();
    nan[13] = Number.NaN;
    expect(() => IsolationForest.train(nan, 4)).toThrow(/NaN at row 3, column 1/);
    const inf = ok.slice();
    inf[0] = Number.NEGATIVE_INFINITY;
    expect(() => IsolationForest.train(inf, 4)).toThrow(RangeError);
  });

  it('rejects out-of-range options', () => {
    expect(() => IsolationForest.train(ok, 2, { trees: 0 })).toThrow(/trees/);
    expect(() => IsolationForest.train(ok, 2, { trees: 2.5 })).toThrow(/trees/);
    expect(() => IsolationForest.train(ok, 2, { sampleSize: 1 })).toThrow(/sampleSize/);
    expect(() => IsolationForest.train(ok, 2, { sampleSize: 2 ** 21 })).toThrow(/sampleSize/);
    expect(() => IsolationForest.train(ok, 2, { seed: -1 })).toThrow(/seed/);
    expect(() => IsolationForest.train(ok, 2, { seed: 2 ** 32 })).toThrow(/seed/);
    expect(IsolationForest.train(ok, 2, { seed: 2 ** 32 - 1 }).seed).toBe(2 ** 32 - 1);
  });
});
