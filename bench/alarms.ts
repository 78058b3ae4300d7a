/**
 * bench:alarms — how long from a reading's acknowledgement until its alarm is stored, and until its
 * webhook arrives, with and without 50,000 readings/s of background ingest (issue 8, item 7).
 *
 * One `vigil serve` per store (SQLite, then PostgreSQL when reachable). Probe sensors (type
 * `probe`, a threshold rule `high`: above 100, severity major) each get one ordinary reading
 * first (so they are loaded and scored once, as live sensors are) and later exactly one probe
 * reading of 150 (raised once: no repeat, no flapping), sent alone in its own request; its ack is
 * timed here. Then:
 * - **stored**: a worker thread polls the database about every millisecond for the probes'
 *   alarm rows (and anomaly rows, for the breakdown): SQLite read-only on the file (WAL: a commit
 *   is visible to readers at once), PostgreSQL with its own connection;
 * - **webhook**: a loopback HTTP server in this process receives the channel's deliveries
 *   (minSeverity `major`, so background alarms — minor anomalies, warnings — are not sent) and
 *   matches them by sensor id.
 * All times are this machine's monotonic clock (process.hrtime), shared by threads.
 * Phase 1 (baseline): probes with no other load. Phase 2: the same with the background load from
 * bench/alarms-load.ts in its own process (paced; the rate reached is reported).
 */
import type { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { api, log, startVigil, type Vigil } from './harness.js';
import { provisionSensors } from './ingest-load.js';
import {
  cpuSeconds,
  ingestClient,
  machineBusySeconds,
  mono,
  pct,
  ratio,
  round,
  startBackgroundLoad,
} from './probe-kit.js';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const RATE = num('BENCH_ALARMS_RATE', 50_000);
const SENSORS = num('BENCH_ALARMS_SENSORS', 10_000);
const BATCH = num('BENCH_ALARMS_BATCH', 500);
const CONNECTIONS = num('BENCH_ALARMS_CONNECTIONS', 8);
const PROBES = num('BENCH_ALARMS_PROBES', 300);
const IDLE_PROBES = num('BENCH_ALARMS_IDLE_PROBES', 150);
const INTERVAL_MS = num('BENCH_ALARMS_INTERVAL_MS', 100);
const WARMUP_S = num('BENCH_ALARMS_WARMUP_S', 15);
const TIMEOUT_MS = num('BENCH_ALARMS_TIMEOUT_MS', 15_000);
const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ONLY = process.env.BENCH_ALARMS_ONLY as 'sqlite' | 'postgres' | undefined;
/** Sent first and not counted: the first alarms of a process pay for compiling its code paths. */
const WARM_PROBES = 10;
const TARGET_P99_STORED_MS = 20;

const requireHere = createRequire(import.meta.url);

type Phase = 'warm' | 'idle' | 'loaded';
interface Probe {
  key: string;
  sensorId: string;
  phase: Phase;
  ts?: number;
  sentAt?: number;
  ackAt?: number;
  status?: number;
  anomalyAt?: number;
  storedAt?: number;
  /** The alarm row's created_at (the server's wall clock, whole ms), on the monotonic clock. */
  createdAt?: number;
  webhookAt?: number;
}

const spread = (values: number[]) => ({ p50: pct(values, 50), p99: pct(values, 99) });

/**
 * The poller, plain JavaScript in a worker thread. Each poll reads one snapshot, stamped with the
 * time it began: what it sees was committed before then. SQLite: new rows by rowid, synchronously,
 * napping 1 ms between polls. PostgreSQL: one statement per poll, only while a probe is out (new
 * anomalies by id with a margin for out-of-order commits; the probes' alarms raised since the
 * oldest probe not yet seen).
 */
const POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
const mono = () => Number(process.hrtime.bigint()) / 1e6;
const stop = new Int32Array(workerData.stop);
const probes = new Set(workerData.sensorIds);
const pending = new Map();
parentPort.on('message', (m) => pending.set(m.s, m.ts));
const seenAlarm = new Set(), seenAnomaly = new Set();
const gaps = [];
let prev = 0;
function began() {
  const at = mono();
  if (prev && Atomics.load(stop, 1) === 1) gaps.push(at - prev);
  prev = at;
  return at;
}
function alarm(s, d, c, at) {
  if (d !== 'threshold' || !probes.has(s) || seenAlarm.has(s)) return;
  seenAlarm.add(s);
  pending.delete(s);
  parentPort.postMessage({ t: 'stored', s, at, createdAt: Number(c) });
}
function anomaly(s, k, at) {
  if (k !== 'raised' || !probes.has(s) || seenAnomaly.has(s)) return;
  seenAnomaly.add(s);
  parentPort.postMessage({ t: 'anomaly', s, at });
}
function done(counts) {
  gaps.sort((a, b) => a - b);
  const q = (p) => (gaps.length ? gaps[Math.min(gaps.length - 1, Math.ceil(p * gaps.length) - 1)] : null);
  const alarms = {};
  for (const r of counts) alarms[r.d] = Number(r.n);
  parentPort.postMessage({ t: 'done', polls: gaps.length, meanMs: gaps.reduce((a, b) => a + b, 0) / (gaps.length || 1), p99Ms: q(0.99), maxMs: q(1), alarms });
}
const COUNTS = 'select detector as d, count(*) as n from alarms group by detector';
if (workerData.sqlitePath) {
  const Database = require(workerData.sqliteDriver);
  const db = new Database(workerData.sqlitePath, { readonly: true, fileMustExist: true, timeout: 5000 });
  const alarms = db.prepare('select rowid as r, sensor_id as s, detector as d, created_at as c from alarms where rowid > ? order by rowid');
  const anomalies = db.prepare('select id as r, sensor_id as s, kind as k from anomalies where id > ? order by id');
  const poll = db.transaction(() => [alarms.all(lastAlarm), anomalies.all(lastAnomaly)]);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let lastAlarm = 0, lastAnomaly = 0;
  while (Atomics.load(stop, 0) === 0) {
    const at = began();
    const [a, n] = poll();
    for (const r of a) { lastAlarm = r.r; alarm(r.s, r.d, r.c, at); }
    for (const r of n) { lastAnomaly = r.r; anomaly(r.s, r.k, at); }
    Atomics.wait(nap, 0, 0, 1);
  }
  done(db.prepare(COUNTS).all());
  db.close();
} else {
  const { Client } = require(workerData.pgDriver);
  (async () => {
    const client = new Client({ connectionString: workerData.pgUrl });
    await client.connect();
    const tenant = (await client.query('select tenant_id from sensors where id = $1', [workerData.sensorIds[0]])).rows[0].tenant_id;
    let lastAnomaly = 0;
    const SQL = "select 'n' as t, id::float8 as r, sensor_id as s, kind as k, 0::float8 as c from anomalies where id > $1 " +
      "union all select 'a', 0, sensor_id, detector, created_at::float8 from alarms where tenant_id = $2 and raised_at >= $3 and detector = 'threshold'";
    while (Atomics.load(stop, 0) === 0) {
      // Only while a probe is out: spare the server the queries (and PostgreSQL the CPU) between probes.
      if (pending.size === 0) {
        prev = 0;
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      let since = Number.MAX_SAFE_INTEGER;
      for (const ts of pending.values()) since = Math.min(since, ts);
      const at = began();
      const { rows } = await client.query(SQL, [Math.max(0, lastAnomaly - 500), tenant, since]);
      for (const r of rows) {
        if (r.t === 'a') alarm(r.s, r.k, r.c, at);
        else { lastAnomaly = Math.max(lastAnomaly, r.r); anomaly(r.s, r.k, at); }
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    done((await client.query(COUNTS)).rows);
    await client.end();
  })().catch((err) => { throw err; });
}
`;

async function measure(store: 'sqlite' | 'postgres') {
  const probes: Probe[] = [];
  const bySensor = new Map<string, Probe>();
  let webhooksOther = 0;

  // The loopback receiver: note the arrival first, answer 204, then match.
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = mono();
      res.writeHead(204).end();
      try {
        const b = JSON.parse(Buffer.concat(chunks).toString()) as {
          event?: string;
          alarm?: { sensorId?: string; dedupKey?: string };
        };
        const p = b.alarm?.sensorId ? bySensor.get(b.alarm.sensorId) : undefined;
        if (p && b.event === 'raised' && b.alarm?.dedupKey?.endsWith(':threshold:high')) p.webhookAt ??= at;
        else webhooksOther++;
      } catch {
        webhooksOther++;
      }
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const receiverPort = (receiver.address() as { port: number }).port;

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-alarms-'));
  let pgUrl: string | undefined;
  if (store === 'postgres') {
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query('drop database if exists vigil_bench_alarms');
    await admin.query('create database vigil_bench_alarms');
    await admin.end();
    const url = new URL(PG_ADMIN_URL);
    url.pathname = '/vigil_bench_alarms';
    pgUrl = url.href;
  }
  log(`${store}: vigil serve (${store === 'sqlite' ? dataDir : pgUrl})`);
  const v: Vigil = await startVigil({
    DATA_DIR: dataDir,
    ...(pgUrl ? { DATABASE_URL: pgUrl, DATABASE_POOL_MAX: '20' } : {}),
    WEBHOOK_ALLOWED_PRIVATE: '127.0.0.1/32',
    // The harness compacts every 2 s (for bench:ingest's bytes per reading); here compaction runs
    // as configured by default (every 1 M readings or 5 min), as in production.
    STORAGE_COMPACT_MAX_AGE_MS: process.env.STORAGE_COMPACT_MAX_AGE_MS ?? '300000',
  });
  let loadChild: ReturnType<typeof spawn> | undefined;
  let poller: Worker | undefined;
  try {
    log(
      `  provisioning ${SENSORS.toLocaleString('en')} background sensors and ${WARM_PROBES + IDLE_PROBES + PROBES} probe sensors`,
    );
    const { key, token } = await provisionSensors(v, SENSORS, { platformAdmin: true });
    const type = await api(v, 'POST', '/api/v1/sensor-types', token, {
      key: 'probe',
      name: 'Probe',
      unit: '%',
    });
    await api(v, 'PUT', `/api/v1/sensor-types/${type.id}/detectors`, token, {
      rules: [{ id: 'high', when: 'above', value: 100, clear: 90, severity: 'major' }],
    });
    const rows = ['key,name,type'];
    for (let i = 0; i < WARM_PROBES + IDLE_PROBES + PROBES; i++)
      rows.push(`probe/p${String(i).padStart(4, '0')},probe ${i},probe`);
    await api(v, 'POST', '/api/v1/sensors/import', token, `${rows.join('\n')}\n`, 'text/csv');
    let cursor: string | null = null;
    do {
      const page: { items: { id: string; key: string }[]; nextCursor: string | null } = await api(
        v,
        'GET',
        `/api/v1/sensors?typeId=${type.id}&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
        token,
      );
      for (const s of page.items) {
        const n = probes.length;
        const phase: Phase = n < WARM_PROBES ? 'warm' : n < WARM_PROBES + IDLE_PROBES ? 'idle' : 'loaded';
        const p: Probe = { key: s.key, sensorId: s.id, phase };
        probes.push(p);
        bySensor.set(s.id, p);
      }
      cursor = page.nextCursor;
    } while (cursor);
    if (probes.length !== WARM_PROBES + IDLE_PROBES + PROBES)
      throw new Error(`got ${probes.length} probe sensors`);

    // The channel, with `rateLimitPerMinute` 0 (unlimited) where the API has it; the answer says
    // what applies (null: the API has no per-channel limit).
    const channel = {
      name: 'bench',
      type: 'webhook',
      url: `http://127.0.0.1:${receiverPort}/hook`,
      minSeverity: 'major',
    };
    let created: { channel: { rateLimitPerMinute?: number } };
    try {
      created = await api(v, 'POST', '/api/v1/notification-channels', token, {
        ...channel,
        rateLimitPerMinute: 0,
      });
    } catch (err) {
      if (!/\b400\b/.test((err as Error).message)) throw err;
      created = await api(v, 'POST', '/api/v1/notification-channels', token, channel);
    }
    const channelRateLimitPerMinute = created.channel.rateLimitPerMinute ?? null;
    log(
      `  webhook channel → 127.0.0.1:${receiverPort}, per-channel rate limit: ${channelRateLimitPerMinute === null ? 'none in this API' : channelRateLimitPerMinute === 0 ? 'off (0)' : `${channelRateLimitPerMinute}/min`}`,
    );

    const ingest = ingestClient(v.url, key);
    const status = () => api(v, 'GET', '/api/v1/admin/detection', token);

    // Probe sensors are live sensors: one ordinary reading each, scored, before any probe.
    const warmTs = Date.now() - 1000;
    await ingest(probes.map((p) => ({ sensor: p.key, ts: warmTs, value: 50 })));
    while ((await status()).queued > 0) await sleep(50);

    const stopFlags = new Int32Array(new SharedArrayBuffer(8));
    poller = new Worker(POLLER, {
      eval: true,
      workerData: {
        sensorIds: probes.map((p) => p.sensorId),
        stop: stopFlags.buffer,
        ...(store === 'sqlite'
          ? {
              sqliteDriver: requireHere.resolve('better-sqlite3'),
              sqlitePath: path.join(dataDir, 'vigil.db'),
            }
          : { pgDriver: requireHere.resolve('pg'), pgUrl }),
      },
    });
    // Wall clock minus monotonic clock, to place the server's created_at (epoch ms) on our clock.
    const wallMinusMono = performance.timeOrigin + performance.now() - mono();
    type PollStats = {
      polls: number;
      meanMs: number;
      p99Ms: number | null;
      maxMs: number | null;
      alarms: Record<string, number>;
    };
    let pollStats: PollStats | undefined;
    const pollerDone = new Promise<void>((resolve, reject) => {
      poller!.on('message', (m: { t: string; s: string; at: number; createdAt?: number } & PollStats) => {
        if (m.t === 'done') {
          pollStats = m;
          resolve();
        }
        const p = bySensor.get(m.s);
        if (!p) return;
        if (m.t === 'stored' && p.storedAt === undefined) {
          p.storedAt = m.at;
          p.createdAt = m.createdAt! - wallMinusMono;
        } else if (m.t === 'anomaly') p.anomalyAt ??= m.at;
      });
      poller!.on('error', reject);
    });

    /** Sends the phase's probes one at a time at a jittered pace, then waits for their alarms and webhooks. */
    async function runProbes(phase: Phase): Promise<void> {
      const list = probes.filter((p) => p.phase === phase);
      const sends: Promise<void>[] = [];
      for (const [i, p] of list.entries()) {
        p.ts = Date.now();
        poller!.postMessage({ s: p.sensorId, ts: p.ts });
        sends.push(
          ingest([{ sensor: p.key, ts: p.ts, value: 150 }], p).catch((err: Error) => {
            log(`  ! probe ${p.key}: ${err.message}`);
          }),
        );
        if ((i + 1) % 100 === 0) log(`  ${phase}: ${i + 1}/${list.length} probes sent`);
        // Jittered (0.5–1.5 × the interval) so probes do not fall into step with periodic work.
        await sleep(INTERVAL_MS * (0.5 + Math.random()));
      }
      await Promise.all(sends);
      const until = mono() + TIMEOUT_MS;
      const open = () =>
        list.some((p) => p.status === 200 && (p.storedAt === undefined || p.webhookAt === undefined));
      while (mono() < until && open()) await sleep(20);
    }

    function summary(phase: Phase) {
      const list = probes.filter((p) => p.phase === phase && p.status === 200);
      const since = (from: number, at: number | undefined) =>
        at === undefined ? Number.POSITIVE_INFINITY : at - from;
      const stored = list.map((p) => since(p.ackAt!, p.storedAt));
      const webhook = list.map((p) => since(p.ackAt!, p.webhookAt));
      const all = list.filter(
        (p) => p.anomalyAt !== undefined && p.storedAt !== undefined && p.webhookAt !== undefined,
      );
      return {
        probes: list.length,
        failedProbes: probes.filter((p) => p.phase === phase).length - list.length,
        lostStored: list.filter((p) => p.storedAt === undefined).length,
        lostWebhook: list.filter((p) => p.webhookAt === undefined).length,
        p50ToStoredMs: pct(stored, 50),
        p99ToStoredMs: pct(stored, 99),
        maxToStoredMs: pct(stored, 100),
        p50ToWebhookMs: pct(webhook, 50),
        p99ToWebhookMs: pct(webhook, 99),
        maxToWebhookMs: pct(webhook, 100),
        /** The probe's own request: sent → acknowledged (its commit), and sent → alarm stored. */
        ackMs: spread(list.map((p) => p.ackAt! - p.sentAt!)),
        sendToStoredMs: spread(list.map((p) => since(p.sentAt!, p.storedAt))),
        // Where the time goes, for the probes that completed every step: ack → its anomaly
        // visible, anomaly → alarm visible (0: one transaction), alarm visible → webhook received;
        // and how late the poller saw the alarm after the server stamped it (commit + poll delay).
        breakdown: {
          ackToAnomalyMs: spread(all.map((p) => p.anomalyAt! - p.ackAt!)),
          anomalyToAlarmMs: spread(all.map((p) => p.storedAt! - p.anomalyAt!)),
          storedToWebhookMs: spread(all.map((p) => p.webhookAt! - p.storedAt!)),
          alarmCreatedToSeenMs: spread(all.map((p) => p.storedAt! - p.createdAt!)),
        },
      };
    }
    const show = (name: string, s: ReturnType<typeof summary>) =>
      log(
        `  ${name}: ack→stored p50 ${s.p50ToStoredMs} / p99 ${s.p99ToStoredMs} / max ${s.maxToStoredMs} ms; ack→webhook p50 ${s.p50ToWebhookMs} / p99 ${s.p99ToWebhookMs} / max ${s.maxToWebhookMs} ms; probe ack p50 ${s.ackMs.p50} / p99 ${s.ackMs.p99} ms; lost ${s.lostStored} stored, ${s.lostWebhook} webhooks\n    breakdown ${JSON.stringify(s.breakdown)}`,
      );

    log(`  warm-up: ${WARM_PROBES} probes, not counted`);
    await runProbes('warm');

    // Phase 1: the baseline, nothing else running.
    Atomics.store(stopFlags, 1, 1);
    log(`  idle: ${IDLE_PROBES} probes, one every ~${INTERVAL_MS} ms, no background load`);
    await runProbes('idle');
    const idle = summary('idle');
    show('idle', idle);

    // Phase 2: the background load in its own process, warmed up, then the probes.
    log(
      `  loaded: background ${RATE.toLocaleString('en')} readings/s over ${SENSORS.toLocaleString('en')} sensors (${BATCH} per request, ≤ ${CONNECTIONS} in flight), ${WARMUP_S} s warm-up, then ${PROBES} probes`,
    );
    const loadOptions = {
      url: `${v.url}/api/v1/ingest`,
      authorization: `Bearer ${key}`,
      sensors: SENSORS,
      batch: BATCH,
      rate: RATE,
      connections: CONNECTIONS,
      seconds: WARMUP_S + (PROBES * INTERVAL_MS * 1.5) / 1000 + TIMEOUT_MS / 1000 + 30,
    };
    const load = startBackgroundLoad(loadOptions);
    const child = load.child;
    loadChild = child;
    const exited = load.exited;
    await sleep(WARMUP_S * 1000);
    const start = {
      ...load.latest,
      vigil: cpuSeconds(v.child.pid),
      load: cpuSeconds(child.pid),
      machine: machineBusySeconds(),
      bench: process.cpuUsage(),
    };
    let maxQueued = 0;
    const watchStart = mono();
    const watch = setInterval(() => {
      status().then(
        (s: { queued: number }) => {
          maxQueued = Math.max(maxQueued, s.queued);
          // Scoring more than 50 ms behind the load: worth seeing next to the probes' figures.
          if (s.queued > RATE / 20)
            log(
              `  detection queue ${s.queued.toLocaleString('en')} readings at +${round((mono() - watchStart) / 1000, 1)} s`,
            );
        },
        () => undefined,
      );
    }, 500);
    await runProbes('loaded');
    clearInterval(watch);
    const end = {
      ...load.latest,
      vigil: cpuSeconds(v.child.pid),
      load: cpuSeconds(child.pid),
      machine: machineBusySeconds(),
      bench: process.cpuUsage(start.bench),
    };
    child.stdin!.end();
    await exited;
    loadChild = undefined;
    const windowS = (end.at - start.at) / 1000;
    const backgroundReadingsPerSec = Math.round((end.accepted - start.accepted) / windowS);
    const loaded = summary('loaded');
    show('loaded', loaded);
    log(
      `  background while probing: ${backgroundReadingsPerSec.toLocaleString('en')} readings/s of ${RATE.toLocaleString('en')} targeted (whole run ${load.final?.readingsPerSec.toLocaleString('en')}/s, ack p50 ${load.final?.p50AckMs} / p99 ${load.final?.p99AckMs} ms, ${end.failed} failed requests${load.final?.firstError ? `, first: ${load.final.firstError}` : ''}); detection queue ≤ ${maxQueued.toLocaleString('en')} readings`,
    );
    const detection = await status();
    Atomics.store(stopFlags, 0, 1);
    await pollerDone;
    await poller.terminate();
    poller = undefined;
    const cores = (a: number | null, b: number | null) =>
      a === null || b === null ? null : round((b - a) / windowS);
    const cpu = {
      vigil: cores(start.vigil, end.vigil),
      load: cores(start.load, end.load),
      bench: round((end.bench.user + end.bench.system) / 1e6 / windowS),
      // Everything busy on the machine: the above, PostgreSQL, and whatever else shares it.
      machine: cores(start.machine, end.machine),
    };
    log(
      `  CPU while probing (cores of ${os.cpus().length}): vigil ${cpu.vigil}, load generator ${cpu.load}, this process (probes, receiver, poller) ${cpu.bench}; the whole machine ${cpu.machine}`,
    );
    log(
      `  poller: ${pollStats?.polls} polls, one every ${round(pollStats?.meanMs ?? 0, 3)} ms on average (p99 gap ${round(pollStats?.p99Ms ?? 0)} ms, max ${round(pollStats?.maxMs ?? 0)} ms); alarms in the database by detector ${JSON.stringify(pollStats?.alarms)}; ${webhooksOther} other webhook deliveries`,
    );
    return {
      loaded,
      idle,
      backgroundReadingsPerSec,
      backgroundP99AckMs: load.final?.p99AckMs ?? null,
      detectionCommitToScoredMs: detection.lagMs as { p50: number; p99: number; samples: number },
      maxDetectionQueue: maxQueued,
      cpuCores: cpu,
      pollEveryMs: pollStats ? round(pollStats.meanMs, 3) : null,
      pollGapP99Ms: pollStats?.p99Ms ? round(pollStats.p99Ms) : null,
      alarmsByDetector: pollStats?.alarms ?? null,
      channelRateLimitPerMinute,
    };
  } finally {
    if (loadChild) {
      loadChild.stdin?.end();
      loadChild.kill('SIGTERM');
    }
    await poller?.terminate();
    receiver.close();
    await v.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (pgUrl) {
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query('drop database if exists vigil_bench_alarms');
      await admin.end();
    }
  }
}

/** The figures of one store: ack → stored and ack → webhook, loaded and idle, and their ratios. */
function figures(r: Awaited<ReturnType<typeof measure>>) {
  const { loaded, idle } = r;
  return {
    p50ToStoredMs: loaded.p50ToStoredMs,
    p99ToStoredMs: loaded.p99ToStoredMs,
    p50ToWebhookMs: loaded.p50ToWebhookMs,
    p99ToWebhookMs: loaded.p99ToWebhookMs,
    maxToStoredMs: loaded.maxToStoredMs,
    maxToWebhookMs: loaded.maxToWebhookMs,
    idleP50ToStoredMs: idle.p50ToStoredMs,
    idleP99ToStoredMs: idle.p99ToStoredMs,
    idleP50ToWebhookMs: idle.p50ToWebhookMs,
    idleP99ToWebhookMs: idle.p99ToWebhookMs,
    storedP99LoadedVsIdle: ratio(loaded.p99ToStoredMs, idle.p99ToStoredMs),
    webhookP99LoadedVsIdle: ratio(loaded.p99ToWebhookMs, idle.p99ToWebhookMs),
    backgroundReadingsPerSec: r.backgroundReadingsPerSec,
    backgroundP99AckMs: r.backgroundP99AckMs,
    probeAckMs: { idle: idle.ackMs, loaded: loaded.ackMs },
    sendToStoredMs: { idle: idle.sendToStoredMs, loaded: loaded.sendToStoredMs },
    probes: loaded.probes,
    idleProbes: idle.probes,
    lostProbes: {
      stored: loaded.lostStored + idle.lostStored,
      webhook: loaded.lostWebhook + idle.lostWebhook,
    },
    failedProbes: loaded.failedProbes + idle.failedProbes,
    breakdown: { idle: idle.breakdown, loaded: loaded.breakdown },
    detectionCommitToScoredMs: r.detectionCommitToScoredMs,
    maxDetectionQueue: r.maxDetectionQueue,
    cpuCores: r.cpuCores,
    pollEveryMs: r.pollEveryMs,
    pollGapP99Ms: r.pollGapP99Ms,
    alarmsByDetector: r.alarmsByDetector,
    channelRateLimitPerMinute: r.channelRateLimitPerMinute,
  };
}

/** Whether the PostgreSQL server answers (the second pass is skipped, and says so, when not). */
async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (err) {
    log(`postgres: skipped, ${PG_ADMIN_URL} unreachable (${(err as Error).message})`);
    return false;
  }
}
const sqlite = ONLY === 'postgres' ? null : figures(await measure('sqlite'));
const postgres =
  ONLY === 'sqlite' || !(await postgresReachable()) ? null : figures(await measure('postgres'));
// The top-level figures are SQLite's (the default store), or PostgreSQL's when it ran alone.
const main = sqlite ?? postgres;
if (!main) throw new Error('nothing measured: PostgreSQL is unreachable and BENCH_ALARMS_ONLY=postgres');
console.log(
  JSON.stringify({
    store: sqlite ? 'sqlite' : 'postgres',
    ...main,
    targetP99ToStoredMs: TARGET_P99_STORED_MS,
    targetMet:
      main.p99ToStoredMs !== null &&
      main.p99ToStoredMs < TARGET_P99_STORED_MS &&
      main.backgroundReadingsPerSec >= RATE * 0.95,
    backgroundTargetPerSec: RATE,
    postgres: sqlite ? postgres : undefined,
    sensors: SENSORS,
    batch: BATCH,
  }),
);
