/**
 * Paced background load for bench:alarms, run as its own process so it never shares the probe
 * client's event loop. Sends batches of `batch` readings at `rate` readings/s (open loop: request
 * i is due at start + i × batch / rate, at most `connections` in flight; when the server falls
 * behind, the backlog is capped at 250 ms so a stall is not followed by a burst), until stdin
 * closes or `seconds` pass.
 *
 * Every reading carries its send time as `ts` (strictly increasing per sensor), so the series look
 * like live sensors to detection. Counters go to stdout as one JSON line every 250 ms
 * (`{"at","accepted","requests","failed"}`, `at` = this machine's monotonic clock in ms, the same
 * clock as the bench's), progress to stderr, and a final JSON line with totals and ack latencies.
 */
import http from 'node:http';

interface Options {
  url: string;
  authorization: string;
  sensors: number;
  batch: number;
  rate: number;
  connections: number;
  seconds: number;
}

const opts = JSON.parse(process.argv[2]!) as Options;
const target = new URL(opts.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections });
const mono = () => Number(process.hrtime.bigint()) / 1e6;

const keys = Array.from({ length: opts.sensors }, (_, i) => `bench/s${String(i).padStart(5, '0')}`);
const lastTs = new Float64Array(opts.sensors);
let cursor = 0;

function body(): string {
  const now = Date.now();
  const parts: string[] = new Array(opts.batch);
  for (let j = 0; j < opts.batch; j++) {
    const s = cursor;
    cursor = (cursor + 1) % opts.sensors;
    const ts = Math.max(now, lastTs[s]! + 1);
    lastTs[s] = ts;
    // A slow daily-like wave per sensor plus noise: ordinary data, no threshold rule on this type.
    const v = 50 + 10 * Math.sin((ts / 600_000) * 2 * Math.PI + s) + Math.random();
    parts[j] = `{"sensor":"${keys[s]}","ts":${ts},"value":${Math.round(v * 100) / 100}}`;
  }
  return `{"readings":[${parts.join(',')}]}`;
}

let accepted = 0;
let requests = 0;
let failed = 0;
let firstError: string | undefined;
let inFlight = 0;
let stopping = false;
const latencies: number[] = [];

function send(payload: string): void {
  inFlight++;
  const t0 = mono();
  const req = http.request(
    {
      agent,
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: 'POST',
      headers: {
        authorization: opts.authorization,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
      },
    },
    (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        inFlight--;
        requests++;
        latencies.push(mono() - t0);
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode === 200) accepted += (JSON.parse(text) as { accepted: number }).accepted;
        else {
          failed++;
          firstError ??= `${res.statusCode} ${text.slice(0, 300)}`;
        }
        pump();
      });
    },
  );
  req.on('error', (err) => {
    inFlight--;
    failed++;
    firstError ??= err.message;
    pump();
  });
  req.end(payload);
}

const intervalMs = (opts.batch / opts.rate) * 1000;
const started = mono();
let nextAt = started;
let timer: NodeJS.Timeout | undefined;

function pump(): void {
  if (stopping) return;
  const now = mono();
  nextAt = Math.max(nextAt, now - 250);
  while (inFlight < opts.connections && nextAt <= now) {
    send(body());
    nextAt += intervalMs;
  }
  if (!timer && inFlight < opts.connections) {
    timer = setTimeout(
      () => {
        timer = undefined;
        pump();
      },
      Math.max(0, nextAt - mono()),
    );
  }
}

const counters = setInterval(() => {
  process.stdout.write(`${JSON.stringify({ at: mono(), accepted, requests, failed })}\n`);
}, 250);
let lastAccepted = 0;
let lastAt = started;
const progress = setInterval(() => {
  const now = mono();
  process.stderr.write(
    `  background: ${Math.round((accepted - lastAccepted) / ((now - lastAt) / 1000)).toLocaleString('en')} readings/s (target ${opts.rate.toLocaleString('en')}), ${inFlight} requests in flight${failed ? `, ${failed} failed` : ''}\n`,
  );
  lastAccepted = accepted;
  lastAt = now;
}, 5000);

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearTimeout(timer);
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  clearInterval(counters);
  clearInterval(progress);
  agent.destroy();
  const seconds = (mono() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies.length
      ? Math.round(
          latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]! * 10,
        ) / 10
      : null;
  process.stdout.write(
    `${JSON.stringify({ done: true, at: mono(), accepted, requests, failed, firstError, seconds, readingsPerSec: Math.round(accepted / seconds), p50AckMs: pct(50), p99AckMs: pct(99) })}\n`,
    () => process.exit(0),
  );
}

process.stdin.on('end', () => void stop());
process.stdin.on('data', () => undefined);
setTimeout(() => void stop(), opts.seconds * 1000).unref();
pump();
