/**
 * bench:guard — the threat guard and rate limits: their cost on realistic API traffic (requests/s
 * and p99 with both on and both off, two Vigil processes measured alternately in the same run),
 * and the guard's detection rate on ../shared/datasets/payloads and false-positive rate on
 * bench/guard/benign-corpus.ts. Prints progress, then one JSON object as its last line.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scoreValues } from '../src/security/guard/detectors.js';
import { benignCorpus } from './guard/benign-corpus.js';
import { api, benchOwner, log, run, startVigil, type Vigil } from './harness.js';

const SECONDS = Number(process.env.BENCH_GUARD_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_GUARD_ROUNDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_GUARD_CONNECTIONS ?? 16);
const FLAG = 0.8;
const PAYLOADS = path.resolve(process.env.BENCH_GUARD_PAYLOADS ?? '../shared/datasets/payloads');

function detection() {
  const byCategory: Record<string, { total: number; detected: number }> = {};
  for (const category of readdirSync(PAYLOADS).filter((d) => !d.includes('.'))) {
    const c = { total: 0, detected: 0 };
    byCategory[category] = c;
    for (const file of readdirSync(path.join(PAYLOADS, category))) {
      for (const line of readFileSync(path.join(PAYLOADS, category, file), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        c.total++;
        if (scoreValues([line]).score >= FLAG) c.detected++;
      }
    }
  }
  const total = Object.values(byCategory).reduce((s, c) => s + c.total, 0);
  const detected = Object.values(byCategory).reduce((s, c) => s + c.detected, 0);
  return { total, detected, rate: detected / total, byCategory };
}

function falsePositives() {
  const corpus = benignCorpus();
  const flagged = corpus.filter((text) => scoreValues([text]).score >= FLAG);
  return {
    total: corpus.length,
    flagged: flagged.length,
    rate: flagged.length / corpus.length,
    examples: flagged.slice(0, 10),
  };
}

async function prepare(v: Vigil, queries: string[]): Promise<{ authorization: string; paths: string[] }> {
  const token = await benchOwner(v);
  const csv = Array.from(
    { length: 200 },
    (_, i) => `pump-${i},Pump ${i} ${queries[i % queries.length]!.replace(/[,"\n]/g, ' ').slice(0, 60)}`,
  );
  await api(v, 'POST', '/api/v1/devices/import', token, `key,name\n${csv.join('\n')}\n`, 'text/csv');
  const { items } = await api(v, 'GET', '/api/v1/devices?limit=1', token);
  const device = (items as { id: string }[])[0]!.id;
  const paths = [
    '/api/v1/tenant',
    `/api/v1/devices/${device}`,
    '/api/v1/devices?limit=20',
    // Many distinct searches (the guard caches what it saw recently; real dashboards repeat less than one URL).
    ...queries.slice(0, 2000).map((q) => `/api/v1/devices?limit=20&q=${encodeURIComponent(q.slice(0, 100))}`),
  ];
  return { authorization: `Bearer ${token}`, paths };
}

async function load(v: Vigil, prepared: { authorization: string; paths: string[] }) {
  const args = JSON.stringify({ url: v.url, seconds: SECONDS, connections: CONNECTIONS, ...prepared });
  const out = await run(process.execPath, ['--import', 'tsx', 'bench/guard/api-load.ts'], process.env, args);
  return JSON.parse(out.trim().split('\n').pop()!) as {
    requestsPerSec: number;
    p50Ms: number;
    p99Ms: number;
    errors: number;
    firstError?: number;
  };
}

if (!existsSync(PAYLOADS)) throw new Error(`payloads not found at ${PAYLOADS} (BENCH_GUARD_PAYLOADS)`);
log('detection on the payload dataset…');
const det = detection();
for (const [c, v] of Object.entries(det.byCategory))
  log(`  ${c}: ${v.detected}/${v.total} (${((v.detected / v.total) * 100).toFixed(1)} %)`);
log(`  all: ${det.detected}/${det.total} (${(det.rate * 100).toFixed(2)} %)`);
const fp = falsePositives();
log(`false positives on the benign corpus: ${fp.flagged}/${fp.total} (${(fp.rate * 100).toFixed(3)} %)`);
for (const e of fp.examples) log(`  flagged: ${e.slice(0, 120)}`);

const dirs = [
  mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-guard-on-')),
  mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-guard-off-')),
];
// BENCH_GUARD_CONTROL=1: both servers without guard and limits (an A/A run: how far apart two
// identical servers measure on this machine).
// BENCH_GUARD_ONLY=guard|limits: the measured server has only that one on (where the cost is).
const control = process.env.BENCH_GUARD_CONTROL === '1';
const only = process.env.BENCH_GUARD_ONLY;
const on = await startVigil({
  DATA_DIR: dirs[0],
  MQTT_ENABLED: 'false',
  GUARD_ENABLED: control || only === 'limits' ? 'false' : 'true',
  ENABLE_RATE_LIMIT: control || only === 'guard' ? 'false' : 'true',
});
const off = await startVigil({
  DATA_DIR: dirs[1],
  MQTT_ENABLED: 'false',
  GUARD_ENABLED: 'false',
  ENABLE_RATE_LIMIT: 'false',
});
try {
  const queries = benignCorpus().filter((q) => q.length < 100);
  const preparedOn = await prepare(on, queries);
  const preparedOff = await prepare(off, queries);
  const results: { on: Awaited<ReturnType<typeof load>>[]; off: Awaited<ReturnType<typeof load>>[] } = {
    on: [],
    off: [],
  };
  log(`warm-up, then ${ROUNDS} rounds of ${SECONDS} s each way, ${CONNECTIONS} connections`);
  await load(off, preparedOff);
  await load(on, preparedOn);
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first: the second of a pair measures differently on a shared machine.
    const [a, b] =
      r % 2 === 0
        ? [await load(off, preparedOff), await load(on, preparedOn)]
        : await load(on, preparedOn).then(async (y) => [await load(off, preparedOff), y] as const);
    if (a.errors || b.errors)
      throw new Error(`requests failed: off ${a.errors} (${a.firstError}), on ${b.errors} (${b.firstError})`);
    results.off.push(a);
    results.on.push(b);
    log(
      `  round ${r + 1}: off ${a.requestsPerSec} req/s p99 ${a.p99Ms} ms; on ${b.requestsPerSec} req/s p99 ${b.p99Ms} ms`,
    );
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const rpsOff = mean(results.off.map((x) => x.requestsPerSec));
  const rpsOn = mean(results.on.map((x) => x.requestsPerSec));
  const p99Off = mean(results.off.map((x) => x.p99Ms));
  const p99On = mean(results.on.map((x) => x.p99Ms));
  const overheadPct = Math.round(((rpsOff - rpsOn) / rpsOff) * 1000) / 10;
  log(
    `overhead: ${overheadPct} % requests/s (${Math.round(rpsOff)} → ${Math.round(rpsOn)}), p99 ${p99Off.toFixed(1)} → ${p99On.toFixed(1)} ms`,
  );
  console.log(
    JSON.stringify({
      overheadPct,
      detectionRate: Math.round(det.rate * 10000) / 10000,
      falsePositiveRate: Math.round(fp.rate * 100000) / 100000,
      requestsPerSec: { guardOff: Math.round(rpsOff), guardOn: Math.round(rpsOn) },
      p99Ms: { guardOff: Math.round(p99Off * 10) / 10, guardOn: Math.round(p99On * 10) / 10 },
      payloads: { total: det.total, detected: det.detected, byCategory: det.byCategory },
      benign: { total: fp.total, flagged: fp.flagged },
      flagThreshold: FLAG,
    }),
  );
} finally {
  await Promise.all([on.stop(), off.stop()]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
