/**
 * Load generator for bench:ingest, run as its own process so the server under test does not share
 * its event loop. Sends `requests` batches of `batch` readings over `connections` keep-alive
 * connections and prints one JSON line: readings/s, acknowledgement latency percentiles, totals.
 *
 * Readings walk the sensors round-robin; each full pass over the sensors advances time by
 * `stepMs`, so every sensor gets a regular series (a realistic shape for storage and queries).
 */
import http from 'node:http';

interface Options {
  url: string;
  authorization: string;
  format: 'vigil' | 'influx';
  sensors: number;
  batch: number;
  requests: number;
  connections: number;
  startTs: number;
  stepMs: number;
}

const opts = JSON.parse(process.argv[2]!) as Options;
const target = new URL(opts.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections });

function sensorKey(i: number): string {
  return `bench/s${String(i).padStart(5, '0')}`;
}

function value(sensor: number, round: number): number {
  const daily = Math.sin((round / 1000) * 2 * Math.PI + sensor);
  return Math.round((50 + 10 * daily + Math.random()) * 100) / 100;
}

function body(request: number): string {
  const parts: string[] = [];
  for (let j = 0; j < opts.batch; j++) {
    const n = request * opts.batch + j;
    const sensor = n % opts.sensors;
    const round = Math.floor(n / opts.sensors);
    const ts = opts.startTs + round * opts.stepMs;
    if (opts.format === 'vigil')
      parts.push(`{"sensor":"${sensorKey(sensor)}","ts":${ts},"value":${value(sensor, round)}}`);
    else parts.push(`bench,sensor=${sensorKey(sensor)} value=${value(sensor, round)} ${ts}`);
  }
  return opts.format === 'vigil' ? `{"readings":[${parts.join(',')}]}` : parts.join('\n');
}

function send(payload: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: 'POST',
        headers: {
          authorization: opts.authorization,
          'content-type': opts.format === 'vigil' ? 'application/json' : 'text/plain',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const latencies: number[] = [];
let next = 0;
let accepted = 0;
let failed = 0;
let firstError: string | undefined;
const started = performance.now();
let lastReport = started;

async function worker(): Promise<void> {
  for (;;) {
    const i = next++;
    if (i >= opts.requests) return;
    const payload = body(i);
    const t0 = performance.now();
    const res = await send(payload);
    latencies.push(performance.now() - t0);
    if (res.status === 200) accepted += (JSON.parse(res.body) as { accepted: number }).accepted;
    else if (res.status === 204) accepted += opts.batch;
    else {
      failed++;
      firstError ??= `${res.status} ${res.body.slice(0, 300)}`;
    }
    const now = performance.now();
    if (now - lastReport > 2000) {
      lastReport = now;
      process.stderr.write(
        `  ${i + 1}/${opts.requests} requests, ${Math.round(accepted / ((now - started) / 1000))} readings/s\n`,
      );
    }
  }
}

await Promise.all(Array.from({ length: opts.connections }, () => worker()));
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]! * 10) / 10;
agent.destroy();
console.log(
  JSON.stringify({
    readingsPerSec: Math.round(accepted / seconds),
    p50AckMs: pct(50),
    p99AckMs: pct(99),
    accepted,
    failedRequests: failed,
    firstError,
    seconds: Math.round(seconds * 10) / 10,
  }),
);
