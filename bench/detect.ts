/**
 * bench:detect — detection throughput on one core (each detector alone, the default ensemble, the
 * ensemble with an Isolation Forest), state bytes per sensor, and ingest throughput with detection
 * on as a ratio to detection off (two servers, same load, measured in the same run). Prints
 * progress, then one JSON object as its last line. See bench/README.md.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DetectorConfigDoc } from '../src/detection/config/detector-config.schema.js';
import { effectiveConfig } from '../src/detection/config/effective-config.js';
import { FEATURE_COUNT, sensorFeatures } from '../src/detection/detectors/features.js';
import { Evaluation } from '../src/detection/engine/evaluation.js';
import { type ActiveModel, SensorDetector } from '../src/detection/engine/sensor-detector.js';
import type { SensorState } from '../src/detection/engine/sensor-state.js';
import { IsolationForest } from '../src/detection/isolation-forest/isolation-forest.js';
import { calibrateThreshold } from '../src/detection/models/model-evaluation.js';
import { api, log, startVigil, type Vigil } from './harness.js';
import { provisionSensors, runLoad } from './ingest-load.js';

const SENSORS = Number(process.env.BENCH_DETECT_SENSORS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_DETECT_ROUNDS ?? 200);
const WARM_ROUNDS = 60;
const INGEST_SENSORS = Number(process.env.BENCH_DETECT_INGEST_SENSORS ?? 2_000);
const INGEST_READINGS = Number(process.env.BENCH_DETECT_INGEST_READINGS ?? 2_000_000);
const MIN = 60_000;

const OFF = { enabled: false };
/** Every section the default configuration may hold, switched off: then the one measured on. */
function alone(section: string): DetectorConfigDoc {
  const base: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(effectiveConfig())) {
    if (v && typeof v === 'object' && 'enabled' in v) base[k === 'rate' ? 'rateOfChange' : k] = OFF;
  }
  return { ...(base as DetectorConfigDoc), [section]: { enabled: true } };
}

/** A sensor's signal: a daily cycle, noise, and a rare spike. */
function signal(sensor: number, i: number): number {
  const x =
    50 + 10 * Math.sin((i / 1440) * 2 * Math.PI + sensor) + Math.sin(i * 12.9898 + sensor * 78.233) * 0.5;
  return i % 997 === 0 ? x + 25 : x;
}

const values = new Float64Array(SENSORS * ROUNDS);
for (let s = 0; s < SENSORS; s++) for (let r = 0; r < ROUNDS; r++) values[r * SENSORS + s] = signal(s, r);
const T0 = Date.UTC(2026, 0, 1);

/** Readings per second of `evaluate` over all sensors, interleaved as they arrive, after a warm-up. */
function throughput(
  name: string,
  doc: DetectorConfigDoc,
  model: ActiveModel | null = null,
): { perSec: number; stateBytes: number } {
  const detector = new SensorDetector(effectiveConfig(doc), model);
  const states: SensorState[] = Array.from({ length: SENSORS }, () => detector.newState());
  const out = new Evaluation();
  const step = (r: number) => {
    const ts = T0 + r * MIN;
    const base = r * SENSORS;
    for (let s = 0; s < SENSORS; s++) detector.evaluate(states[s]!, ts, values[base + s]!, out);
  };
  for (let r = 0; r < WARM_ROUNDS; r++) step(r);
  const t0 = performance.now();
  for (let r = WARM_ROUNDS; r < ROUNDS; r++) step(r);
  const seconds = (performance.now() - t0) / 1000;
  const perSec = Math.round((SENSORS * (ROUNDS - WARM_ROUNDS)) / seconds);
  const stateBytes = states[0]!.byteLength;
  log(
    `  ${name.padEnd(24)} ${perSec.toLocaleString('en').padStart(12)} readings/s   state ${stateBytes} B/sensor`,
  );
  return { perSec, stateBytes };
}

/** A model trained on one sensor's features (in production each sensor has its own; scoring costs the same). */
function trainModel(): ActiveModel {
  const config = effectiveConfig();
  const d = new SensorDetector(config);
  const s = d.newState();
  const out = new Evaluation();
  const rows: number[] = [];
  const f = new Float64Array(FEATURE_COUNT);
  for (let r = 0; r < 2000; r++) {
    const ts = T0 + r * MIN;
    const v = signal(1, r);
    if (sensorFeatures(s, ts, v, f)) rows.push(...f);
    d.evaluate(s, ts, v, out);
  }
  const data = Float64Array.from(rows);
  const forest = IsolationForest.train(data, FEATURE_COUNT, {
    seed: 1,
    trees: effectiveConfig().isolationForest.trees,
  });
  const threshold = calibrateThreshold(forest, { rows: data, count: rows.length / FEATURE_COUNT });
  return { id: 'bench', version: 1, forest, threshold };
}

/** Heap held per sensor state (typed arrays and object headers), measured over 100,000 states. */
function heapPerState(): number {
  const detector = new SensorDetector(effectiveConfig());
  globalThis.gc?.();
  const before = process.memoryUsage();
  const keep = Array.from({ length: 100_000 }, () => detector.newState());
  globalThis.gc?.();
  const after = process.memoryUsage();
  const bytes = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  void keep.length;
  return Math.round(bytes / 100_000);
}

log(
  `detect: ${SENSORS.toLocaleString('en')} sensors × ${ROUNDS - WARM_ROUNDS} readings each, interleaved, one core`,
);
const each: Record<string, number> = {};
for (const [name, section] of [
  ['ewma', 'ewma'],
  ['mad (median/MAD)', 'mad'],
  ['seasonal', 'seasonal'],
  ['rate of change', 'rateOfChange'],
  ['flatline', 'flatline'],
  ['heartbeat', 'heartbeat'],
] as const) {
  each[section] = throughput(name, alone(section)).perSec;
}
each.threshold = throughput('threshold rule', {
  ...alone('ewma'),
  ewma: OFF,
  rules: [{ id: 'low', when: 'below', value: 30, clear: 32, forS: 300 }],
}).perSec;
const ensemble = throughput('default ensemble', {});
const model = trainModel();
const withForest = throughput('ensemble + isolation forest', { isolationForest: { enabled: true } }, model);
each.isolationForest = throughput('isolation forest alone', alone('isolationForest'), model).perSec;
const heap = heapPerState();
log(
  `  heap per sensor state (default configuration, measured): ${heap} B; model in memory: ${model.forest.byteLength} B`,
);
const statistical = ['ewma', 'mad', 'seasonal', 'rateOfChange'].map((k) => each[k]!);

/** Readings/s of one server over a fixed load, counted until detection has scored all of it. */
async function ingestRun(
  detection: boolean,
): Promise<{ perSec: number; ackPerSec: number; lag: { p50: number; p99: number } }> {
  const v: Vigil = await startVigil({
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-detect-')),
    DETECTION_ENABLED: String(detection),
  });
  try {
    const { key, token } = await provisionSensors(v, INGEST_SENSORS, { platformAdmin: true });
    const rounds = Math.ceil(INGEST_READINGS / INGEST_SENSORS);
    const startTs = Date.now() - 86_400_000 + 60_000;
    const t0 = performance.now();
    const r = await runLoad({
      url: `${v.url}/api/v1/ingest`,
      authorization: `Bearer ${key}`,
      format: 'vigil',
      readings: INGEST_READINGS,
      startTs,
      stepMs: Math.floor(86_400_000 / rounds),
      sensors: INGEST_SENSORS,
      batch: 1000,
      connections: 16,
    });
    let lag = { p50: 0, p99: 0 };
    if (detection) {
      // Done when every accepted reading has been scored.
      for (;;) {
        const s = await api(v, 'GET', '/api/v1/admin/detection', token);
        if (s.queued === 0 && s.scored >= r.accepted) {
          lag = s.lagMs;
          log(
            `  scored ${s.scored}, ${s.anomalies} point anomalies and ${s.transitions} condition changes stored`,
          );
          const sample = await api(v, 'GET', '/api/v1/anomalies?kind=raised&from=0&limit=1', token);
          if (sample.items[0]) log(`  e.g. ${JSON.stringify(sample.items[0])}`);
          break;
        }
        await sleep(20);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const perSec = Math.round(r.accepted / seconds);
    log(
      `  detection ${detection ? 'on ' : 'off'}: ${perSec.toLocaleString('en')} readings/s stored${detection ? ' and scored' : ''} (acknowledged at ${r.readingsPerSec.toLocaleString('en')}/s)${detection ? `; commit-to-scored p50 ${lag.p50} ms, p99 ${lag.p99} ms` : ''}`,
    );
    return { perSec, ackPerSec: r.readingsPerSec, lag };
  } finally {
    await v.stop();
  }
}

log(
  `ingest: ${INGEST_READINGS.toLocaleString('en')} readings over ${INGEST_SENSORS} sensors (SQLite), detection off then on`,
);
const off = await ingestRun(false);
const on = await ingestRun(true);
const ratio = Math.round((on.perSec / off.perSec) * 1000) / 1000;
log(`  ingest with detection ÷ without: ${ratio}`);

console.log(
  JSON.stringify({
    statisticalPerSec: Math.min(...statistical),
    isolationForestPerSec: withForest.perSec,
    ensemblePerSec: ensemble.perSec,
    stateBytesPerSensor: ensemble.stateBytes,
    heapBytesPerSensor: heap,
    ingestWithDetectionRatio: ratio,
    perDetector: each,
    ingest: { offPerSec: off.perSec, onPerSec: on.perSec, commitToScoredMs: on.lag },
    sensors: SENSORS,
  }),
);
