/**
 * Isolation forest micro-benchmark: `npx tsx bench/detect/isolation-forest.micro.ts [trees...]`.
 * Trains on Gaussian data and times scoreMany (batch) and score (one reading at a time, the streaming
 * path) on one core; ends with one JSON line like the other benchmarks.
 */
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_SAMPLE_SIZE,
  DEFAULT_TREES,
  IsolationForest,
} from '../../src/detection/isolation-forest/isolation-forest.js';
import { Random } from '../../src/detection/isolation-forest/random.js';

const TRAIN_ROWS = 20_000;
const SCORE_ROWS = 100_000;
const MIN_MS = 1_000;

function gaussian(rows: number, dims: number, seed: number): Float64Array {
  const random = new Random(seed);
  const out = new Float64Array(rows * dims);
  for (let i = 0; i < out.length; i++) {
    const u = 1 - random.nextFloat();
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextFloat());
  }
  return out;
}

/** Runs fn (scoring `rows` points per call) for at least MIN_MS after a warm-up; returns points/s. */
function rate(rows: number, fn: () => void): number {
  for (let i = 0; i < 3; i++) fn();
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    fn();
    calls++;
    elapsed = performance.now() - start;
  } while (elapsed < MIN_MS);
  return (calls * rows) / (elapsed / 1000);
}

interface Row {
  dims: number;
  trees: number;
  trainMs: number;
  batchPointsPerSec: number;
  singlePointsPerSec: number;
  modelBytes: number;
  encodedBytes: number;
}

const treeCounts = process.argv.slice(2).map(Number);
const results: Row[] = [];
let sink = 0;
for (const trees of treeCounts.length > 0 ? treeCounts : [DEFAULT_TREES]) {
  for (const dims of [1, 4, 8]) {
    const train = gaussian(TRAIN_ROWS, dims, 1);
    const test = gaussian(SCORE_ROWS, dims, 2);
    const t0 = performance.now();
    const forest = IsolationForest.train(train, dims, { trees });
    const trainMs = performance.now() - t0;
    const out = new Float64Array(SCORE_ROWS);
    const batch = rate(SCORE_ROWS, () => {
      forest.scoreMany(test, out);
    });
    const single = rate(SCORE_ROWS, () => {
      for (let r = 0; r < SCORE_ROWS; r++) sink += forest.score(test, r * dims);
    });
    const row: Row = {
      dims,
      trees,
      trainMs: Math.round(trainMs * 10) / 10,
      batchPointsPerSec: Math.round(batch),
      singlePointsPerSec: Math.round(single),
      modelBytes: forest.byteLength,
      encodedBytes: forest.toBytes().length,
    };
    results.push(row);
    console.log(
      `trees ${trees} ψ ${DEFAULT_SAMPLE_SIZE} dims ${dims}: scoreMany ${row.batchPointsPerSec.toLocaleString('en')} points/s, ` +
        `score ${row.singlePointsPerSec.toLocaleString('en')} points/s, train ${row.trainMs} ms, ` +
        `model ${row.modelBytes} B (encoded ${row.encodedBytes} B)`,
    );
  }
}
if (Number.isNaN(sink)) console.log('unreachable');
console.log(JSON.stringify({ node: process.version, sampleSize: DEFAULT_SAMPLE_SIZE, results }));
