/**
 * bench:mqtt — MQTT ingestion through the embedded broker and through Mosquitto (external mode),
 * against the ceiling of a bare mqtt.js subscriber on the same broker with the same load (see
 * bench/README.md). Prints progress, then one JSON object as its last line.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import mqtt from 'mqtt';
import { decodeLogBlock } from '../src/telemetry/storage/log-codec.js';
import { api, benchOwner, freePort, log, run, startVigil, type Vigil } from './harness.js';

const DEVICES = Number(process.env.BENCH_MQTT_DEVICES ?? 20);
const SENSORS = Number(process.env.BENCH_MQTT_SENSORS ?? 10);
const MESSAGES = Number(process.env.BENCH_MQTT_MESSAGES ?? 2000);
const WINDOW = Number(process.env.BENCH_MQTT_WINDOW ?? 8);
const BROKER = process.env.BENCH_MQTT_BROKER ?? 'mqtt://127.0.0.1:1883';
const TOTAL = DEVICES * MESSAGES;
const deviceKeys = Array.from({ length: DEVICES }, (_, i) => `d${String(i).padStart(3, '0')}`);
// The log keeps every batch with its commit time: compaction is held off for the run.
const KEEP_LOG = { STORAGE_COMPACT_MIN_READINGS: '100000000', STORAGE_COMPACT_MAX_AGE_MS: '86400000' };

/** The bench tenant: devices, their sensors, and a token per device. */
async function provision(v: Vigil): Promise<Map<string, string>> {
  const accessToken = await benchOwner(v);
  await api(
    v,
    'POST',
    '/api/v1/devices/import',
    accessToken,
    `key,name\n${deviceKeys.map((k) => `${k},${k}`).join('\n')}\n`,
    'text/csv',
  );
  const sensors = deviceKeys.flatMap((d) =>
    Array.from({ length: SENSORS }, (_, s) => `${d}/s${s},${d}/s${s},level,${d}`),
  );
  await api(
    v,
    'POST',
    '/api/v1/sensors/import',
    accessToken,
    `key,name,type,device\n${sensors.join('\n')}\n`,
    'text/csv',
  );
  const { items } = await api(v, 'GET', '/api/v1/devices?limit=500', accessToken);
  const tokens = new Map<string, string>();
  for (const d of items as { id: string; key: string }[]) {
    tokens.set(
      d.key,
      (await api(v, 'POST', '/api/v1/device-credentials', accessToken, { deviceId: d.id })).token,
    );
  }
  return tokens;
}

async function load(url: string, tokens?: Map<string, string>) {
  const args = JSON.stringify({
    url,
    tenant: 'bench',
    devices: deviceKeys.map((key) => ({ key, ...(tokens ? { token: tokens.get(key) } : {}) })),
    sensors: SENSORS,
    messages: MESSAGES,
    window: WINDOW,
  });
  const out = await run(process.execPath, ['--import', 'tsx', 'bench/mqtt-load.ts', args], process.env);
  return JSON.parse(out.trim().split('\n').pop()!) as {
    messages: number;
    seconds: number;
    publishedPerSec: number;
    p99AckMs: number;
  };
}

/**
 * Publish-to-commit from the reading log: each batch row has its commit time, each reading its
 * publish time. Waits until every message is committed.
 */
async function committed(file: string) {
  const db = new SQLite(file, { readonly: true });
  try {
    for (let i = 0; i < 600; i++) {
      const { n } = db.prepare('select coalesce(sum(count), 0) as n from reading_log').get() as { n: number };
      if (n >= TOTAL * SENSORS) break;
      await sleep(200);
    }
    const latencies: number[] = [];
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    let readings = 0;
    for (const row of db.prepare('select created_at, data from reading_log').all() as {
      created_at: number;
      data: Buffer;
    }[]) {
      const block = decodeLogBlock(row.data);
      readings += block.count;
      last = Math.max(last, row.created_at);
      for (let i = 0; i < block.count; i += SENSORS) {
        first = Math.min(first, block.ts[i]!);
        latencies.push(row.created_at - block.ts[i]!);
      }
    }
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
    const seconds = (last - first) / 1000;
    return {
      messagesPerSec: Math.round(readings / SENSORS / seconds),
      readingsPerSec: Math.round(readings / seconds),
      p50Ms: pct(50),
      p99Ms: pct(99),
      stored: readings,
    };
  } finally {
    db.close();
  }
}

async function embedded() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-mqtt-'));
  const port = await freePort();
  const v = await startVigil({ DATA_DIR: dir, MQTT_PORT: String(port), ...KEEP_LOG });
  try {
    log('embedded: provisioning');
    const tokens = await provision(v);
    log(
      `embedded: ${DEVICES} devices × ${MESSAGES} messages of ${SENSORS} readings, QoS 1, window ${WINDOW}`,
    );
    const l = await load(`mqtt://127.0.0.1:${port}`, tokens);
    const r = await committed(path.join(dir, 'vigil.db'));
    log(
      `  ${r.messagesPerSec} messages/s, ${r.readingsPerSec} readings/s, publish-to-commit p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms (PUBACK p99 ${l.p99AckMs} ms)`,
    );
    return r;
  } finally {
    await v.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function external() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-mqtt-ext-'));
  const id = randomBytes(4).toString('hex');
  const v = await startVigil({
    DATA_DIR: dir,
    MQTT_URL: BROKER,
    MQTT_SHARE_GROUP: `bench${id}`,
    MQTT_CLIENT_ID: `vigil-bench-${id}`,
    MQTT_SESSION_EXPIRY_S: '60',
    ...KEEP_LOG,
  });
  try {
    log('external: provisioning');
    await provision(v);
    await sleep(1000); // the subscription is made in the background at start
    log(`external (${BROKER}): same load`);
    await load(BROKER);
    const r = await committed(path.join(dir, 'vigil.db'));
    log(
      `  ${r.messagesPerSec} messages/s, ${r.readingsPerSec} readings/s, publish-to-commit p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`,
    );
    return r;
  } finally {
    await v.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The ceiling: a subscriber that does nothing but receive (and acknowledge) on the same broker. */
async function bareSubscriber() {
  const sub = await mqtt.connectAsync(BROKER, {
    clientId: `bare-${randomBytes(4).toString('hex')}`,
    reconnectPeriod: 0,
  });
  let received = 0;
  let firstAt = 0;
  let lastAt = 0;
  sub.on('message', () => {
    received++;
    lastAt = performance.now();
    if (received === 1) firstAt = lastAt;
  });
  await sub.subscribeAsync(`$share/bare${randomBytes(4).toString('hex')}/vigil/bench/+/readings`, { qos: 1 });
  log('bare subscriber: same load');
  const started = performance.now();
  await load(BROKER);
  for (let i = 0; i < 600 && received < TOTAL; i++) await sleep(100);
  await sub.endAsync();
  const messagesPerSec = Math.round(received / ((lastAt - Math.min(started, firstAt)) / 1000));
  log(`  ${messagesPerSec} messages/s (${received}/${TOTAL} received)`);
  return { messagesPerSec };
}

// BENCH_MQTT_ONLY=external (or embedded, bare) runs one part, for experiments; the JSON then has
// null for the parts skipped.
const only = process.env.BENCH_MQTT_ONLY;
const emb = !only || only === 'embedded' ? await embedded() : null;
const ext = !only || only === 'external' ? await external() : null;
const bare = !only || only === 'bare' ? await bareSubscriber() : null;
console.log(
  JSON.stringify({
    devices: DEVICES,
    readingsPerMessage: SENSORS,
    messages: TOTAL,
    window: WINDOW,
    embedded: emb,
    external: ext,
    bareSubscriber: bare,
    ratioToBare: ext && bare ? Math.round((ext.messagesPerSec / bare.messagesPerSec) * 100) / 100 : null,
  }),
);
