/** What the probe benchmarks (bench:alarms, bench:stream) share: clocks, percentiles, /proc readings, the probe's ingest call. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';

/** Milliseconds on the machine-wide monotonic clock (comparable across processes and threads). */
export const mono = () => Number(process.hrtime.bigint()) / 1e6;
export const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
export const ratio = (a: number | null, b: number | null) =>
  a === null || b === null || b === 0 ? null : round(a / b);

/** Nearest-rank percentile of sorted values; a lost probe counts as +∞ (a percentile landing on one is null). */
export function pctSorted(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const v = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return Number.isFinite(v) ? round(v) : null;
}
export const sortedOf = (values: number[]) => Float64Array.from(values).sort();
export const pct = (values: number[], p: number) => pctSorted(sortedOf(values), p);

/** Resident memory of a process (bytes, from /proc: Linux); null elsewhere. */
export function rssOf(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); null elsewhere. */
export function cpuSeconds(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return null;
  }
}

/** CPU seconds the whole machine spent busy (all but idle and iowait, from /proc/stat); null elsewhere. */
export function machineBusySeconds(): number | null {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const t = ticks.map(Number);
    return (t.reduce((a, b) => a + b, 0) - t[3]! - t[4]!) / 100;
  } catch {
    return null;
  }
}

/** The times a probe's request was sent and acknowledged (monotonic ms) and its status. */
export interface ProbeTimes {
  sentAt?: number;
  ackAt?: number;
  status?: number;
}

/**
 * POST /api/v1/ingest over a small keep-alive pool; with `probe`, stamps when the request was sent
 * and when its answer arrived. Rejects on anything but 200.
 */
export function ingestClient(baseUrl: string, key: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const target = new URL(baseUrl);
  return (readings: { sensor: string; ts: number; value: number }[], probe?: ProbeTimes) =>
    new Promise<void>((resolve, reject) => {
      const payload = JSON.stringify({ readings });
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: '/api/v1/ingest',
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (probe) {
              probe.ackAt = mono();
              probe.status = res.statusCode;
            }
            if (res.statusCode === 200) resolve();
            else
              reject(
                new Error(`ingest: ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`),
              );
          });
        },
      );
      req.on('error', reject);
      if (probe) probe.sentAt = mono();
      req.end(payload);
    });
}

/** bench/alarms-load.ts's counters, one JSON line every 250 ms. */
export interface LoadCounters {
  at: number;
  accepted: number;
  requests: number;
  failed: number;
}

/** Its last line: totals and acknowledgement latencies. */
export interface LoadTotals extends LoadCounters {
  readingsPerSec: number;
  p50AckMs: number;
  p99AckMs: number;
  firstError?: string;
}

/**
 * Starts bench/alarms-load.ts (paced background ingest) in its own process, so it never shares the
 * bench's event loop; `latest` follows its counters, `final` is its last line once it has ended.
 */
export function startBackgroundLoad(options: object) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/alarms-load.ts', JSON.stringify(options)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const load = {
    child,
    latest: { at: 0, accepted: 0, requests: 0, failed: 0 } as LoadCounters,
    final: undefined as LoadTotals | undefined,
    exited: new Promise((resolve) => child.once('exit', resolve)),
  };
  let buffered = '';
  child.stdout!.on('data', (c: Buffer) => {
    buffered += c.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const m = JSON.parse(buffered.slice(0, nl)) as LoadTotals & { done?: boolean };
      buffered = buffered.slice(nl + 1);
      if (m.done) load.final = m;
      else load.latest = m;
    }
  });
  return load;
}
