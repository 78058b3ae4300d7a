/**
 * bench:ingest — Vigil's ingest throughput and query latency, measured against baselines in the
 * same run (see bench/README.md). Prints progress, then one JSON object as its last line.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { api, freePort, log, startVigil, type Vigil, waitFor } from './harness.js';
import { type LoadOptions, provisionSensors, runLoad } from './ingest-load.js';

const SENSORS = Number(process.env.BENCH_SENSORS ?? 10_000);
const BATCH = 1000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const SQLITE_READINGS = Number(process.env.BENCH_SQLITE_READINGS ?? 10_000_000);
const PG_READINGS = Number(process.env.BENCH_PG_READINGS ?? 2_000_000);
const PARSE_READINGS = Number(process.env.BENCH_PARSE_READINGS ?? 2_000_000);
const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DAY = 86_400_000;
const provision = (v: Vigil) => provisionSensors(v, SENSORS);
const load = (opts: Omit<LoadOptions, 'sensors' | 'batch' | 'connections'>) =>
  runLoad({ ...opts, sensors: SENSORS, batch: BATCH, connections: CONNECTIONS });

/** Readings are spread so that each sensor's series covers the 24 hours before now. */
function timeline(readings: number) {
  const rounds = Math.ceil(readings / SENSORS);
  const stepMs = Math.floor(DAY / rounds);
  return { startTs: Date.now() - DAY + 60_000, stepMs };
}

async function waitCompacted(countLog: () => Promise<number>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await countLog()) === 0) return;
    await sleep(500);
  }
  log('  ! the log was not fully compacted in 5 minutes');
}

async function benchSqlite() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  const v = await startVigil({ DATA_DIR: dir });
  try {
    log('sqlite: provisioning');
    const { key, token, sensorIds } = await provision(v);
    const auth = `Bearer ${key}`;
    log(`sqlite: parse-only endpoint (dryRun), ${PARSE_READINGS} readings`);
    const parseOnly = await load({
      url: `${v.url}/api/v1/ingest?dryRun=true`,
      authorization: auth,
      format: 'vigil',
      readings: PARSE_READINGS,
      ...timeline(SQLITE_READINGS),
    });
    log(`  parse-only: ${parseOnly.readingsPerSec} readings/s`);
    log(`sqlite: ingest ${SQLITE_READINGS} readings`);
    const ingest = await load({
      url: `${v.url}/api/v1/ingest`,
      authorization: auth,
      format: 'vigil',
      readings: SQLITE_READINGS,
      ...timeline(SQLITE_READINGS),
    });
    log(
      `  ingest: ${ingest.readingsPerSec} readings/s, p50 ${ingest.p50AckMs} ms, p99 ${ingest.p99AckMs} ms`,
    );
    const file = path.join(dir, 'vigil.db');
    const ro = new SQLite(file, { readonly: true });
    await waitCompacted(
      async () => (ro.prepare('select count(*) as n from reading_log').get() as { n: number }).n,
    );

    log('sqlite: queries over the stored readings');
    const bucket: number[] = [];
    const to = Date.now();
    for (let i = 0; i < 20; i++) {
      const id = sensorIds[(i * 7919) % sensorIds.length]!;
      const t0 = performance.now();
      const res = await api(
        v,
        'GET',
        `/api/v1/sensors/${id}/aggregates?bucket=1m&from=${to - DAY}&to=${to}`,
        token,
      );
      bucket.push(performance.now() - t0);
      if (i === 0)
        log(
          `  24 h in 1-minute buckets: ${res.buckets.length} buckets, ${res.buckets.filter((b: { count: number }) => b.count > 0).length} with data`,
        );
    }
    const keys = sensorIds;
    let t0 = performance.now();
    const latest = await api(v, 'POST', '/api/v1/readings/latest', token, { sensors: keys });
    const latestCold = performance.now() - t0;
    t0 = performance.now();
    await api(v, 'POST', '/api/v1/readings/latest', token, { sensors: keys });
    const latestWarm = performance.now() - t0;
    log(
      `  latest of ${latest.items.length} sensors: cold ${latestCold.toFixed(1)} ms, cached ${latestWarm.toFixed(1)} ms`,
    );
    ro.close();
    await v.stop();
    // Bytes actually used by the data (free pages left by the compacted log excluded).
    const db = new SQLite(file);
    const pages = db.pragma('page_count', { simple: true }) as number;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const stored = (db.prepare('select sum(count) as n from reading_chunks').get() as { n: number }).n;
    db.close();
    const bytesPerReading = Math.round((((pages - free) * pageSize) / stored) * 100) / 100;
    log(
      `  ${stored} readings stored, ${bytesPerReading} bytes per reading (file ${(statSync(file).size / 1e6).toFixed(0)} MB)`,
    );
    bucket.sort((a, b) => a - b);
    return {
      sqlite: {
        readingsPerSec: ingest.readingsPerSec,
        p50AckMs: ingest.p50AckMs,
        p99AckMs: ingest.p99AckMs,
        bytesPerReading,
        stored,
      },
      parseOnly: { readingsPerSec: parseOnly.readingsPerSec },
      query: {
        storedReadings: stored,
        bucket24hMs: Math.round(bucket[Math.floor(bucket.length / 2)]! * 10) / 10,
        latest10kMs: Math.round(latestCold * 10) / 10,
        latest10kCachedMs: Math.round(latestWarm * 10) / 10,
      },
    };
  } finally {
    if (v.child.exitCode === null) await v.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchPostgres() {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query('drop database if exists vigil_bench');
  await admin.query('create database vigil_bench');
  const url = new URL(PG_ADMIN_URL);
  url.pathname = '/vigil_bench';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-pg-'));
  const v = await startVigil({ DATA_DIR: dir, DATABASE_URL: url.href, DATABASE_POOL_MAX: '20' });
  try {
    log('postgres: provisioning');
    const { key } = await provision(v);
    log(`postgres: ingest ${PG_READINGS} readings`);
    const ingest = await load({
      url: `${v.url}/api/v1/ingest`,
      authorization: `Bearer ${key}`,
      format: 'vigil',
      readings: PG_READINGS,
      ...timeline(PG_READINGS),
    });
    log(
      `  ingest: ${ingest.readingsPerSec} readings/s, p50 ${ingest.p50AckMs} ms, p99 ${ingest.p99AckMs} ms`,
    );
    const client = new pg.Client({ connectionString: url.href });
    await client.connect();
    await waitCompacted(async () =>
      Number((await client.query('select count(*) as n from reading_log')).rows[0].n),
    );
    // Measure live data: compaction leaves dead tuples (deleted log rows, rewritten chunks) that
    // autovacuum would make reusable; VACUUM FULL gives the size the data itself takes.
    await client.query('vacuum full reading_log, reading_chunks, series');
    const size = await client.query(
      "select pg_total_relation_size('reading_chunks') + pg_total_relation_size('reading_log') + pg_total_relation_size('series') as bytes, (select sum(count) from reading_chunks) as stored",
    );
    const { bytes, stored } = size.rows[0] as { bytes: string; stored: string };
    const bytesPerReading = Math.round((Number(bytes) / Number(stored)) * 100) / 100;
    log(`  ${stored} readings stored, ${bytesPerReading} bytes per reading`);
    await client.end();
    return {
      readingsPerSec: ingest.readingsPerSec,
      p50AckMs: ingest.p50AckMs,
      p99AckMs: ingest.p99AckMs,
      bytesPerReading,
    };
  } finally {
    await v.stop();
    await admin.query('drop database if exists vigil_bench with (force)');
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function which(cmd: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    try {
      statSync(path.join(dir, cmd));
      return path.join(dir, cmd);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** InfluxDB 1.x on a temporary directory and loopback port, driven by the same load generator. */
async function benchInflux(): Promise<{ pointsPerSec: number; p99AckMs: number } | null> {
  const influxd = await which('influxd');
  if (!influxd) {
    log('influx: influxd not installed (apt-get install influxdb); peer comparison skipped');
    return null;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-influx-'));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'influxdb.conf');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    conf,
    `reporting-disabled = true\nbind-address = "127.0.0.1:${rpcPort}"\n[meta]\n  dir = "${dir}/meta"\n[data]\n  dir = "${dir}/data"\n  wal-dir = "${dir}/wal"\n  query-log-enabled = false\n[http]\n  bind-address = "127.0.0.1:${httpPort}"\n  log-enabled = false\n[monitor]\n  store-enabled = false\n`,
  );
  const child = spawn(influxd, ['-config', conf], { stdio: ['ignore', 'ignore', 'ignore'] });
  const url = `http://127.0.0.1:${httpPort}`;
  try {
    await waitFor(`${url}/ping`);
    await fetch(`${url}/query?q=${encodeURIComponent('CREATE DATABASE bench')}`, { method: 'POST' });
    log(`influx: ${SQLITE_READINGS} points`);
    const r = await load({
      url: `${url}/write?db=bench&precision=ms`,
      authorization: 'Token none',
      format: 'influx',
      readings: SQLITE_READINGS,
      ...timeline(SQLITE_READINGS),
    });
    log(`  influx: ${r.readingsPerSec} points/s, p99 ${r.p99AckMs} ms`);
    return { pointsPerSec: r.readingsPerSec, p99AckMs: r.p99AckMs };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const sqlite = await benchSqlite();
const postgres = process.env.BENCH_SKIP_POSTGRES ? null : await benchPostgres();
const influx = process.env.BENCH_SKIP_INFLUX ? null : await benchInflux();
const result = {
  sensors: SENSORS,
  batch: BATCH,
  connections: CONNECTIONS,
  sqlite: sqlite.sqlite,
  postgres,
  parseOnly: sqlite.parseOnly,
  storageCostRatio: Math.round((sqlite.sqlite.readingsPerSec / sqlite.parseOnly.readingsPerSec) * 100) / 100,
  query: sqlite.query,
  influx,
  ratioToInflux: influx ? Math.round((sqlite.sqlite.readingsPerSec / influx.pointsPerSec) * 100) / 100 : null,
};
console.log(JSON.stringify(result));
