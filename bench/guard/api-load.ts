/**
 * Load generator for bench:guard, in its own process: for `seconds`, `connections` keep-alive
 * connections send a rotating mix of realistic API reads (list and search with free-text queries,
 * the tenant, one device) and print one JSON line: requests/s, p50/p99 latency, errors.
 */
import http from 'node:http';

interface Options {
  url: string;
  authorization: string;
  seconds: number;
  connections: number;
  paths: string[];
}

import { readFileSync } from 'node:fs';

// The options come on stdin: thousands of paths do not fit in a command line.
const opts = JSON.parse(readFileSync(0, 'utf8')) as Options;
const target = new URL(opts.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections });

function get(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path,
        method: 'GET',
        headers: { authorization: opts.authorization },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const latencies: number[] = [];
let done = 0;
let errors = 0;
let firstError: number | undefined;
let next = 0;
const started = performance.now();
const stopAt = started + opts.seconds * 1000;

async function worker(): Promise<void> {
  while (performance.now() < stopAt) {
    const path = opts.paths[next++ % opts.paths.length]!;
    const t0 = performance.now();
    const status = await get(path);
    latencies.push(performance.now() - t0);
    done++;
    if (status !== 200) {
      errors++;
      firstError ??= status;
    }
  }
}

await Promise.all(Array.from({ length: opts.connections }, () => worker()));
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]! * 100) /
  100;
agent.destroy();
console.log(
  JSON.stringify({
    requestsPerSec: Math.round(done / seconds),
    p50Ms: pct(50),
    p99Ms: pct(99),
    requests: done,
    errors,
    firstError,
  }),
);
