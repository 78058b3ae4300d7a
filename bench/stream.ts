/**
 * bench:stream — 5,000 live-stream clients subscribed to alarms and 500 to conflated readings,
 * while ingest runs: how long an alarm takes to reach every client, memory per connection, and how
 * much the readings conflate (issue 9, item 7).
 *
 * `vigil serve` on SQLite (a temporary DATA_DIR) with WS_MAX_CONNECTIONS_PER_USER raised. Probe
 * sensors (type `probe`, threshold rule `high`: above 100, major) each get one ordinary reading,
 * later exactly one reading of 150 in a request of its own, one probe at a time; its ack (the
 * `200`) is timed here, and every alarm client stamps the probe's `alarm.raised` on arrival
 * (process.hrtime: the machine's monotonic clock, shared by all processes). Delivery latency =
 * arrival − ack, for every (probe, client) pair; a pair with no arrival is lost (+∞).
 *
 * Phases: (1) baseline — a handful of alarm clients, no ingest; then the fleet connects (in
 * bench/stream-clients.ts, in separate processes, from their own loopback addresses) and the
 * server's RSS is compared before/after; (2) the fleet, no ingest; (3) the fleet with background
 * ingest (bench/alarms-load.ts, its own process, paced) — the headline figures.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { api, log, startVigil, type Vigil } from './harness.js';
import { provisionSensors } from './ingest-load.js';
import {
  cpuSeconds,
  ingestClient,
  machineBusySeconds,
  mono,
  pctSorted,
  ratio,
  round,
  rssOf,
  sortedOf,
  startBackgroundLoad,
} from './probe-kit.js';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ALARM_CLIENTS = num('BENCH_STREAM_ALARM_CLIENTS', 5000);
const READINGS_CLIENTS = num('BENCH_STREAM_READINGS_CLIENTS', 500);
const SENSORS_PER_CLIENT = num('BENCH_STREAM_SENSORS_PER_CLIENT', 20);
const MAX_RATE_PER_S = num('BENCH_STREAM_MAX_RATE_PER_S', 1);
const SENSORS = num('BENCH_STREAM_SENSORS', 10_000);
/** The background sensors the readings clients watch, from the first (all of them by default). */
const WATCHED = Math.min(SENSORS, num('BENCH_STREAM_WATCHED_SENSORS', SENSORS));
const RATE = num('BENCH_STREAM_RATE', 20_000);
const BATCH = num('BENCH_STREAM_BATCH', 500);
const LOAD_CONNECTIONS = num('BENCH_STREAM_LOAD_CONNECTIONS', 8);
const PROCESSES = Math.max(1, num('BENCH_STREAM_PROCESSES', 2));
const BASELINE_CLIENTS = num('BENCH_STREAM_BASELINE_CLIENTS', 5);
const BASELINE_PROBES = num('BENCH_STREAM_BASELINE_PROBES', 50);
const IDLE_PROBES = num('BENCH_STREAM_IDLE_PROBES', 50);
const PROBES = num('BENCH_STREAM_PROBES', 150);
const GAP_MS = num('BENCH_STREAM_GAP_MS', 100);
const WARMUP_S = num('BENCH_STREAM_WARMUP_S', 10);
const PROBE_WAIT_MS = num('BENCH_STREAM_PROBE_WAIT_MS', 5000);
/** Not yet authenticated at once, per client process (the server allows 20 per address). */
const PENDING = Math.min(20, num('BENCH_STREAM_PENDING', 16));
/** Sent first and not counted: the first alarms pay for compiling their code paths. */
const WARM_PROBES = 5;
const TARGET_P99_MS = 100;

const spread = (values: number[]) => {
  const s = sortedOf(values);
  return { p50: pctSorted(s, 50), p99: pctSorted(s, 99), max: pctSorted(s, 100) };
};

/** A few counters from the server's /metrics (Prometheus text), summed over labels. */
async function metrics(v: Vigil): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const text = await (await fetch(`${v.url}/metrics`)).text();
    for (const line of text.split('\n')) {
      const m = /^(vigil_ws_[a-z_]+)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      const key = m[1]! + (m[2] ?? '');
      out[key] = (out[key] ?? 0) + Number(m[3]);
    }
  } catch {
    // not served: the figures are null
  }
  return out;
}
const metric = (m: Record<string, number>, name: string) => m[name] ?? null;

type Phase = 'warm' | 'baseline' | 'idle' | 'loaded';
interface Probe {
  index: number;
  key: string;
  sensorId: string;
  phase: Phase;
  sentAt?: number;
  ackAt?: number;
  status?: number;
}

interface Report {
  arrivals: (number | null)[][];
  alarmLive: number[];
  counters: Record<string, number>;
  closes: Record<string, number>;
  alarmOpen: number;
  open: number;
  rssBytes: number;
  loopDelayMs: { p50: number; p99: number; max: number };
}
interface Snapshot {
  at: number;
  readingsMessages: number;
  readingsRows: number;
  alarmMessages: number;
  otherAlarmMessages: number;
}

/** One client process (bench/stream-clients.ts) and its answers. */
class Fleet {
  readonly child: ChildProcess;
  readonly connected: Promise<{
    alarmClients: number;
    readingsClients: number;
    failed: number;
    refused: number;
    firstError?: string;
    seconds: number;
  }>;
  readonly got = new Set<number>();
  private waiters: (() => void)[] = [];
  private answers = new Map<string, (m: never) => void>();
  private seq = 0;

  constructor(
    readonly name: string,
    opts: Record<string, unknown>,
  ) {
    this.child = fork('bench/stream-clients.ts', [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let connected: (m: never) => void = () => undefined;
    this.connected = new Promise((r) => {
      connected = r;
    });
    this.child.on(
      'message',
      (m: { t: string; probe?: number; id?: number; done?: number; total?: number }) => {
        if (m.t === 'got') {
          this.got.add(m.probe!);
          for (const w of this.waiters.splice(0)) w();
        } else if (m.t === 'progress') log(`  ${name}: ${m.done}/${m.total} connections opened`);
        else if (m.t === 'connected') connected(m as never);
        else this.answers.get(`${m.t}:${m.id ?? ''}`)?.(m as never);
      },
    );
    this.child.send({ t: 'start', opts });
  }

  /** Resolves when this fleet's clients all have probe `p`, or at `until` (monotonic ms). */
  async waitFor(p: number, until: number): Promise<boolean> {
    while (!this.got.has(p)) {
      const left = until - mono();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  private ask<T>(t: string): Promise<T> {
    const id = t === 'snapshot' ? ++this.seq : undefined;
    return new Promise<T>((resolve) => {
      this.answers.set(`${t}:${id ?? ''}`, resolve as (m: never) => void);
      this.child.send({ t, id });
    });
  }
  snapshot = () => this.ask<Snapshot>('snapshot');
  report = () => this.ask<Report>('report');

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ t: 'close' });
    await Promise.race([exited, sleep(5000)]);
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-stream-'));
log(`sqlite: vigil serve (${dataDir})`);
const v: Vigil = await startVigil({
  DATA_DIR: dataDir,
  WS_MAX_CONNECTIONS_PER_USER: String(Math.min(100_000, ALARM_CLIENTS + READINGS_CLIENTS + 100)),
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: String(Math.max(200, SENSORS_PER_CLIENT + 10)),
  // The run lasts a few minutes; the default (15 min) would do, but no connection should expire.
  ACCESS_TOKEN_TTL_S: '3600',
  // Compaction as configured by default (the harness's 2 s is for bench:ingest's bytes per reading).
  STORAGE_COMPACT_MAX_AGE_MS: process.env.STORAGE_COMPACT_MAX_AGE_MS ?? '300000',
});
const fleets: Fleet[] = [];
/** The last line, printed once Vigil has stopped (its own output shares this stdout). */
let result: Record<string, unknown> | undefined;
let loadChild: ChildProcess | undefined;
let observer: WebSocket | undefined;
try {
  const probes: Probe[] = [];
  const phaseSizes: [Phase, number][] = [
    ['warm', WARM_PROBES],
    ['baseline', BASELINE_PROBES],
    ['idle', IDLE_PROBES],
    ['loaded', PROBES],
  ];
  const totalProbes = phaseSizes.reduce((a, [, n]) => a + n, 0);
  log(`  provisioning ${SENSORS.toLocaleString('en')} background sensors and ${totalProbes} probe sensors`);
  const { key, token, sensorIds } = await provisionSensors(v, SENSORS, { platformAdmin: true });
  const type = await api(v, 'POST', '/api/v1/sensor-types', token, {
    key: 'probe',
    name: 'Probe',
    unit: '%',
  });
  await api(v, 'PUT', `/api/v1/sensor-types/${type.id}/detectors`, token, {
    rules: [{ id: 'high', when: 'above', value: 100, clear: 90, severity: 'major' }],
  });
  const rows = ['key,name,type'];
  for (let i = 0; i < totalProbes; i++) rows.push(`probe/p${String(i).padStart(4, '0')},probe ${i},probe`);
  await api(v, 'POST', '/api/v1/sensors/import', token, `${rows.join('\n')}\n`, 'text/csv');
  let cursor: string | null = null;
  do {
    const page: { items: { id: string; key: string }[]; nextCursor: string | null } = await api(
      v,
      'GET',
      `/api/v1/sensors?typeId=${type.id}&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      token,
    );
    for (const s of page.items)
      probes.push({ index: probes.length, key: s.key, sensorId: s.id, phase: 'warm' });
    cursor = page.nextCursor;
  } while (cursor);
  if (probes.length !== totalProbes) throw new Error(`got ${probes.length} probe sensors`);
  let at = 0;
  for (const [phase, n] of phaseSizes) for (let i = 0; i < n; i++) probes[at++]!.phase = phase;
  // The background sensors in key order (bench/s00000…), as the load generator numbers them.
  const keyed: { id: string; key: string }[] = [];
  cursor = null;
  do {
    const page: { items: { id: string; key: string }[]; nextCursor: string | null } = await api(
      v,
      'GET',
      `/api/v1/sensors?limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      token,
    );
    keyed.push(...page.items.filter((s) => s.key.startsWith('bench/s')));
    cursor = page.nextCursor;
  } while (cursor);
  keyed.sort((a, b) => (a.key < b.key ? -1 : 1));
  const watchedPool = keyed.slice(0, WATCHED).map((s) => s.id);
  if (sensorIds.length < SENSORS || watchedPool.length !== WATCHED)
    throw new Error(`got ${watchedPool.length} background sensors`);
  // What every live client uses: an API key that may read alarms and telemetry, nothing else.
  const { key: streamKey } = await api(v, 'POST', '/api/v1/api-keys', token, {
    name: 'bench-stream',
    permissions: ['alarms:read', 'telemetry:read'],
  });

  const ingest = ingestClient(v.url, key);
  const detection = () => api(v, 'GET', '/api/v1/admin/detection', token);

  // Probe sensors are live sensors: one ordinary reading each, scored, before any probe.
  await ingest(probes.map((p) => ({ sensor: p.key, ts: Date.now() - 1000, value: 50 })));
  while ((await detection()).queued > 0) await sleep(50);

  // One platform administrator's connection on `system`: the server's own view (connections, heap).
  let status: { streamConnections?: number; heapUsedBytes?: number; rssBytes?: number } = {};
  const port = new URL(v.url).port;
  observer = new WebSocket(`ws://127.0.0.1:${port}/api/v1/stream`);
  await new Promise<void>((resolve, reject) => {
    observer!.on('error', reject);
    observer!.on('open', () => observer!.send(JSON.stringify({ type: 'auth', token })));
    observer!.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { type: string; payload: typeof status };
      if (m.type === 'ready') observer!.send(JSON.stringify({ type: 'subscribe', channel: 'system' }));
      else if (m.type === 'subscribed') resolve();
      else if (m.type === 'system.status') status = m.payload;
    });
  });
  const freshStatus = async () => {
    const before = status;
    const until = mono() + 6000;
    while (status === before && mono() < until) await sleep(50);
    return status;
  };

  const wsUrl = `ws://127.0.0.1:${port}/api/v1/stream`;
  const probeSensorIds = probes.map((p) => p.sensorId);
  const startFleet = async (name: string, alarmClients: number, readingsClients: number, n: number) => {
    const started = mono();
    const list: Fleet[] = [];
    for (let i = 0; i < n; i++) {
      const a = Math.floor(alarmClients / n) + (i < alarmClients % n ? 1 : 0);
      const r = Math.floor(readingsClients / n) + (i < readingsClients % n ? 1 : 0);
      // Each process's readings clients take the next sensors of the pool.
      const offset = (i * Math.floor(readingsClients / n) * SENSORS_PER_CLIENT) % watchedPool.length || 0;
      list.push(
        new Fleet(`${name}${n > 1 ? ` ${i + 1}` : ''}`, {
          url: wsUrl,
          token: streamKey,
          localAddress: `127.0.0.${2 + fleets.length + list.length}`,
          alarmClients: a,
          readingsClients: r,
          readingsPool: [...watchedPool.slice(offset), ...watchedPool.slice(0, offset)],
          sensorsPerClient: SENSORS_PER_CLIENT,
          maxRatePerS: MAX_RATE_PER_S,
          probeSensorIds,
          pending: PENDING,
        }),
      );
    }
    fleets.push(...list);
    const results = await Promise.all(list.map((f) => f.connected));
    const sum = {
      alarmClients: results.reduce((s, x) => s + x.alarmClients, 0),
      readingsClients: results.reduce((s, x) => s + x.readingsClients, 0),
      failed: results.reduce((s, x) => s + x.failed, 0),
      refused429: results.reduce((s, x) => s + x.refused, 0),
      firstError: results.find((x) => x.firstError)?.firstError,
      seconds: round((mono() - started) / 1000, 1),
    };
    log(
      `  ${name}: ${sum.alarmClients} alarm + ${sum.readingsClients} readings clients connected in ${sum.seconds} s (${sum.failed} failed${sum.firstError ? `, first: ${sum.firstError}` : ''}; ${sum.refused429} upgrades refused with 429 and retried)`,
    );
    return { list, ...sum };
  };

  /** Probes one at a time: each waits until every client has its alarm (or PROBE_WAIT_MS), then a jittered gap. */
  async function runProbes(phase: Phase, on: Fleet[]): Promise<void> {
    const list = probes.filter((p) => p.phase === phase);
    let slow = 0;
    for (const [i, p] of list.entries()) {
      await ingest([{ sensor: p.key, ts: Date.now(), value: 150 }], p).catch((err: Error) =>
        log(`  ! probe ${p.key}: ${err.message}`),
      );
      if (p.status === 200) {
        const until = mono() + PROBE_WAIT_MS;
        const all = await Promise.all(on.map((f) => f.waitFor(p.index, until)));
        if (all.includes(false)) slow++;
      }
      if ((i + 1) % 50 === 0) log(`  ${phase}: ${i + 1}/${list.length} probes`);
      await sleep(GAP_MS * (0.5 + Math.random()));
    }
    if (slow) log(`  ${phase}: ${slow} probes not delivered to every client within ${PROBE_WAIT_MS} ms`);
  }

  /** Latency of every (probe, subscribed alarm client) pair of a phase, from the fleets' reports. */
  function summary(phase: Phase, reports: Report[]) {
    const list = probes.filter((p) => p.phase === phase && p.status === 200);
    const fromAck: number[] = [];
    const fromSend: number[] = [];
    const lastClient: number[] = [];
    let lost = 0;
    for (const p of list) {
      let last = Number.NEGATIVE_INFINITY;
      for (const r of reports) {
        const a = r.arrivals[p.index] ?? [];
        for (const c of r.alarmLive) {
          const t = a[c];
          if (t === null || t === undefined) {
            lost++;
            fromAck.push(Number.POSITIVE_INFINITY);
            fromSend.push(Number.POSITIVE_INFINITY);
            last = Number.POSITIVE_INFINITY;
          } else {
            fromAck.push(t - p.ackAt!);
            fromSend.push(t - p.sentAt!);
            last = Math.max(last, t - p.ackAt!);
          }
        }
      }
      lastClient.push(last);
    }
    const ack = sortedOf(fromAck);
    const clients = reports.reduce((s, r) => s + r.alarmLive.length, 0);
    return {
      clients,
      probes: list.length,
      failedProbes: probes.filter((p) => p.phase === phase).length - list.length,
      deliveries: fromAck.length - lost,
      lostDeliveries: lost,
      p50Ms: pctSorted(ack, 50),
      p99Ms: pctSorted(ack, 99),
      maxMs: pctSorted(ack, 100),
      minMs: ack.length ? round(ack[0]!) : null,
      /** Per probe: until the last client had it. */
      lastClientMs: spread(lastClient),
      /** From the probe request's send (its ack included). */
      fromSendMs: spread(fromSend),
      probeAckMs: spread(list.map((p) => p.ackAt! - p.sentAt!)),
    };
  }
  const show = (name: string, s: ReturnType<typeof summary>) =>
    log(
      `  ${name}: ${s.clients} clients × ${s.probes} probes: ack→delivered p50 ${s.p50Ms} / p99 ${s.p99Ms} / max ${s.maxMs} ms; until the last client p50 ${s.lastClientMs.p50} / p99 ${s.lastClientMs.p99} ms; probe ack p50 ${s.probeAckMs.p50} / p99 ${s.probeAckMs.p99} ms; ${s.lostDeliveries} lost`,
    );

  // Phase 1: the baseline — a handful of clients, no ingest.
  const base = await startFleet('baseline', BASELINE_CLIENTS, 0, 1);
  log(`  warm-up: ${WARM_PROBES} probes, not counted`);
  await runProbes('warm', base.list);
  log(`  baseline: ${BASELINE_PROBES} probes, ${BASELINE_CLIENTS} clients, no ingest`);
  await runProbes('baseline', base.list);
  await sleep(500);
  const baseline = summary('baseline', [await base.list[0]!.report()]);
  show('baseline', baseline);
  for (const f of base.list) await f.close();
  fleets.length = 0;

  // The fleet: server memory before and after (the second after the connections settled).
  await sleep(3000);
  const rssBefore = rssOf(v.child.pid);
  const heapBefore = (await freshStatus()).heapUsedBytes ?? null;
  log(
    `  connecting ${ALARM_CLIENTS.toLocaleString('en')} alarm + ${READINGS_CLIENTS} readings clients (${SENSORS_PER_CLIENT} sensors each, ≤ ${MAX_RATE_PER_S}/s) from ${PROCESSES} processes; server RSS ${round((rssBefore ?? 0) / 2 ** 20, 1)} MiB`,
  );
  const fleet = await startFleet('fleet', ALARM_CLIENTS, READINGS_CLIENTS, PROCESSES);
  const connected = fleet.alarmClients + fleet.readingsClients;
  await sleep(5000);
  const rssAfter = rssOf(v.child.pid);
  const serverView = await freshStatus();
  const heapAfter = serverView.heapUsedBytes ?? null;
  const bytesPerConnection =
    rssBefore !== null && rssAfter !== null && connected > 0
      ? Math.round((rssAfter - rssBefore) / connected)
      : null;
  const clientRss = fleet.list.reduce((s, f) => s + (rssOf(f.child.pid) ?? 0), 0);
  log(
    `  server: RSS ${round((rssAfter ?? 0) / 2 ** 20, 1)} MiB (${bytesPerConnection?.toLocaleString('en')} bytes per connection), heap used ${round((heapBefore ?? 0) / 2 ** 20, 1)} → ${round((heapAfter ?? 0) / 2 ** 20, 1)} MiB, ${serverView.streamConnections} stream connections by its own count`,
  );

  // Phase 2: the fleet, no ingest.
  log(`  fleet, no ingest: ${IDLE_PROBES} probes`);
  await runProbes('idle', fleet.list);

  // Phase 3: the fleet with background ingest in its own process.
  log(
    `  loaded: background ${RATE.toLocaleString('en')} readings/s over ${SENSORS.toLocaleString('en')} sensors (${BATCH} per request), ${WARMUP_S} s warm-up, then ${PROBES} probes`,
  );
  const loadOptions = {
    url: `${v.url}/api/v1/ingest`,
    authorization: `Bearer ${key}`,
    sensors: SENSORS,
    batch: BATCH,
    rate: RATE,
    connections: LOAD_CONNECTIONS,
    seconds: WARMUP_S + (PROBES * (GAP_MS * 1.5 + PROBE_WAIT_MS)) / 1000 + 30,
  };
  const load = startBackgroundLoad(loadOptions);
  const child = load.child;
  loadChild = child;
  const exited = load.exited;
  await sleep(WARMUP_S * 1000);
  const cpuOf = () => ({
    vigil: cpuSeconds(v.child.pid),
    load: cpuSeconds(child.pid),
    clients: fleet.list.reduce((s, f) => s + (cpuSeconds(f.child.pid) ?? 0), 0),
    machine: machineBusySeconds(),
  });
  const startCpu = cpuOf();
  const startLoad = load.latest;
  const startSnaps = await Promise.all(fleet.list.map((f) => f.snapshot()));
  const startMetrics = await metrics(v);
  let maxQueued = 0;
  const watch = setInterval(() => {
    detection().then(
      (s: { queued: number }) => {
        maxQueued = Math.max(maxQueued, s.queued);
      },
      () => undefined,
    );
  }, 500);
  await runProbes('loaded', fleet.list);
  clearInterval(watch);
  const endCpu = cpuOf();
  const endLoad = load.latest;
  const endSnaps = await Promise.all(fleet.list.map((f) => f.snapshot()));
  const endMetrics = await metrics(v);
  child.stdin!.end();
  await exited;
  loadChild = undefined;

  const windowS = (endLoad.at - startLoad.at) / 1000;
  const backgroundReadingsPerSec = Math.round((endLoad.accepted - startLoad.accepted) / windowS);
  const reports = await Promise.all(fleet.list.map((f) => f.report()));
  const idle = summary('idle', reports);
  const loaded = summary('loaded', reports);
  show('fleet, no ingest', idle);
  show('fleet + ingest', loaded);

  // Readings while probing: what the clients got against what was ingested for their sensors
  // (the load spreads readings evenly over the background sensors).
  const sumSnap = (list: Snapshot[], k: keyof Snapshot) => list.reduce((s, x) => s + x[k], 0);
  const readingsMessages = sumSnap(endSnaps, 'readingsMessages') - sumSnap(startSnaps, 'readingsMessages');
  const readingsRows = sumSnap(endSnaps, 'readingsRows') - sumSnap(startSnaps, 'readingsRows');
  const clientWindowS =
    (Math.max(...endSnaps.map((s) => s.at)) - Math.min(...startSnaps.map((s) => s.at))) / 1000;
  const ingestedForWatched = Math.round(
    fleet.readingsClients * SENSORS_PER_CLIENT * ((endLoad.accepted - startLoad.accepted) / SENSORS),
  );
  const delta = (name: string) => {
    const a = metric(endMetrics, name);
    const b = metric(startMetrics, name);
    return a === null || b === null ? null : a - b;
  };
  const readings = {
    clients: fleet.readingsClients,
    sensorsPerClient: SENSORS_PER_CLIENT,
    maxRatePerS: MAX_RATE_PER_S,
    watchedSensors: WATCHED,
    windowS: round(clientWindowS, 1),
    messages: readingsMessages,
    messagesPerClientPerS: round(readingsMessages / Math.max(1, fleet.readingsClients) / clientWindowS),
    rowsDelivered: readingsRows,
    ingestedForWatched,
    conflated: Math.max(0, ingestedForWatched - readingsRows),
    conflatedRatio: ingestedForWatched ? round(1 - readingsRows / ingestedForWatched, 3) : null,
    /** The server's own count (per connection, latest wins; the relay's conflation at the source is not counted there). */
    serverConflated: delta('vigil_ws_messages_conflated_total'),
    serverSentReadings: delta('vigil_ws_messages_sent_total{channel="readings"}'),
  };
  log(`  readings while probing: ${JSON.stringify(readings)}`);
  const cores = (a: number | null, b: number | null) =>
    a === null || b === null ? null : round((b - a) / windowS);
  const cpuCores = {
    vigil: cores(startCpu.vigil, endCpu.vigil),
    clients: cores(startCpu.clients, endCpu.clients),
    load: cores(startCpu.load, endCpu.load),
    machine: cores(startCpu.machine, endCpu.machine),
  };
  log(
    `  background while probing: ${backgroundReadingsPerSec.toLocaleString('en')} readings/s of ${RATE.toLocaleString('en')} (ack p50 ${load.final?.p50AckMs} / p99 ${load.final?.p99AckMs} ms${load.final?.firstError ? `, first error: ${load.final.firstError}` : ''}); detection queue ≤ ${maxQueued}; CPU cores of ${os.cpus().length}: ${JSON.stringify(cpuCores)}`,
  );
  const closes: Record<string, number> = {};
  for (const r of reports) for (const [c, n] of Object.entries(r.closes)) closes[c] = (closes[c] ?? 0) + n;
  const counters: Record<string, number> = {};
  for (const r of reports)
    for (const [c, n] of Object.entries(r.counters)) counters[c] = (counters[c] ?? 0) + n;
  const stillOpen = reports.reduce((s, r) => s + r.open, 0);
  const endMetricsAll = await metrics(v);

  result = {
    store: 'sqlite',
    p50AlarmDeliveryMs: loaded.p50Ms,
    p99AlarmDeliveryMs: loaded.p99Ms,
    maxAlarmDeliveryMs: loaded.maxMs,
    p50AllClientsMs: loaded.lastClientMs.p50,
    p99AllClientsMs: loaded.lastClientMs.p99,
    bytesPerConnection,
    clients: connected,
    clientsRequested: ALARM_CLIENTS + READINGS_CLIENTS,
    alarmClients: fleet.alarmClients,
    readingsClients: fleet.readingsClients,
    clientsOpenAtEnd: stillOpen,
    failedConnections: fleet.failed,
    connectSeconds: fleet.seconds,
    targetP99Ms: TARGET_P99_MS,
    targetMet:
      loaded.p99Ms !== null &&
      loaded.p99Ms < TARGET_P99_MS &&
      connected === ALARM_CLIENTS + READINGS_CLIENTS &&
      backgroundReadingsPerSec >= RATE * 0.95,
    probes: loaded.probes,
    deliveries: loaded.deliveries,
    lostDeliveries: loaded.lostDeliveries,
    backgroundReadingsPerSec,
    backgroundTargetPerSec: RATE,
    backgroundP99AckMs: load.final?.p99AckMs ?? null,
    loaded,
    fleetNoIngest: idle,
    baseline,
    p99VsBaseline: ratio(loaded.p99Ms, baseline.p99Ms),
    p50VsBaseline: ratio(loaded.p50Ms, baseline.p50Ms),
    p99NoIngestVsBaseline: ratio(idle.p99Ms, baseline.p99Ms),
    readings,
    memory: {
      serverRssBeforeBytes: rssBefore,
      serverRssAfterBytes: rssAfter,
      serverHeapBeforeBytes: heapBefore,
      serverHeapAfterBytes: heapAfter,
      clientProcessesRssBytesPerConnection: connected ? Math.round(clientRss / connected) : null,
    },
    serverStreamConnections: serverView.streamConnections ?? null,
    closesAfterSubscribe: closes,
    clientCounters: counters,
    // A labelled counter appears once incremented: absent from a served /metrics means none.
    serverSlowConsumerDisconnects:
      Object.keys(endMetricsAll).length === 0
        ? null
        : (metric(endMetricsAll, 'vigil_ws_disconnects_total{reason="slow-consumer"}') ?? 0),
    maxDetectionQueue: maxQueued,
    cpuCores,
    processes: PROCESSES,
    clientLoopDelayP99Ms: round(Math.max(...reports.map((r) => r.loopDelayMs.p99))),
  };
} finally {
  observer?.terminate();
  if (loadChild) {
    loadChild.stdin?.end();
    loadChild.kill('SIGTERM');
  }
  for (const f of fleets) await f.close();
  await v.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
if (result) console.log(JSON.stringify(result));
