/**
 * A fleet of live-stream clients for bench:stream, run as its own process (forked with an IPC
 * channel) so receiving thousands of messages never delays the bench's probes or the server.
 *
 * Opens `alarmClients` connections subscribed to `alarms` and `readingsClients` subscribed to
 * `readings` of `sensorsPerClient` sensors each (taken in turn from `readingsPool`, at
 * `maxRatePerS`), all from the loopback address `localAddress` with at most `pending` connections
 * not yet authenticated at once (the server allows 20 per address). Every connection
 * authenticates with `token` in its first message.
 *
 * Each alarm client stamps the first `alarm.raised` of every probe sensor on arrival (this
 * machine's monotonic clock, shared by all processes); once all open alarm clients of this process
 * have one, the parent is told (`got`), so it can pace the probes. Readings clients count messages
 * and rows. Messages (parent → here): `start` (these options, first), `snapshot` (counters now),
 * `report` (all arrivals), `close`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocket } from 'ws';

interface Options {
  url: string;
  token: string;
  localAddress: string;
  alarmClients: number;
  readingsClients: number;
  readingsPool: string[];
  sensorsPerClient: number;
  maxRatePerS: number;
  probeSensorIds: string[];
  pending: number;
}

/** The options come as the first IPC message (too large for a command-line argument). */
const opts = await new Promise<Options>((resolve) =>
  process.once('message', (m: { t: string; opts: Options }) => resolve(m.opts)),
);
const mono = () => Number(process.hrtime.bigint()) / 1e6;
const send = (m: unknown) => process.send?.(m);
/** How late this process's event loop runs (a starved receiver would stamp arrivals late). */
const loopDelay = monitorEventLoopDelay({ resolution: 5 });

const probeIndex = new Map(opts.probeSensorIds.map((id, i) => [id, i] as const));
/** probe → arrival time per alarm client (NaN: not yet). */
const arrivals: (Float64Array | undefined)[] = new Array(opts.probeSensorIds.length);
const arrived = new Int32Array(opts.probeSensorIds.length);
const announced = new Uint8Array(opts.probeSensorIds.length);

const counters = {
  alarmMessages: 0,
  otherAlarmMessages: 0,
  duplicateProbeAlarms: 0,
  readingsMessages: 0,
  readingsRows: 0,
  otherMessages: 0,
  errors: 0,
};
const closes: Record<string, number> = {};
const sockets: WebSocket[] = [];
/** Alarm clients that subscribed (a probe they miss afterwards is a lost delivery). */
const alarmLive: number[] = [];
let alarmOpen = 0;
let refused = 0;
let failed = 0;
let firstError: string | undefined;

/** Every probe that every open alarm client now has, not yet announced: tell the parent. */
function checkComplete(p: number): void {
  if (announced[p] || arrived[p]! < alarmOpen) return;
  announced[p] = 1;
  const a = arrivals[p]!;
  let last = 0;
  for (const t of a) if (t > last) last = t;
  send({ t: 'got', probe: p, n: arrived[p], last });
}

function onAlarm(client: number, data: string, at: number): void {
  counters.alarmMessages++;
  let m: { type?: string; payload?: { sensorId?: string } };
  try {
    m = JSON.parse(data);
  } catch {
    counters.errors++;
    return;
  }
  const p = m.type === 'alarm.raised' ? probeIndex.get(m.payload?.sensorId ?? '') : undefined;
  if (p === undefined) {
    counters.otherAlarmMessages++;
    return;
  }
  let a = arrivals[p];
  if (!a) {
    a = new Float64Array(opts.alarmClients).fill(Number.NaN);
    arrivals[p] = a;
  }
  if (!Number.isNaN(a[client]!)) {
    counters.duplicateProbeAlarms++;
    return;
  }
  a[client] = at;
  arrived[p]!++;
  checkComplete(p);
}

function onReadings(data: string): void {
  counters.readingsMessages++;
  try {
    const m = JSON.parse(data) as { payload?: { readings?: unknown[] } };
    counters.readingsRows += m.payload?.readings?.length ?? 0;
  } catch {
    counters.errors++;
  }
}

/** Opens one connection, authenticates and subscribes; resolves once subscribed (or it failed). */
function open(kind: 'alarms' | 'readings', index: number): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(opts.url, { localAddress: opts.localAddress, perMessageDeflate: false });
    let state: 'connecting' | 'auth' | 'subscribing' | 'live' | 'failed' = 'connecting';
    const fail = (why: string) => {
      if (state === 'live' || state === 'failed') return;
      failed++;
      firstError ??= why;
      state = 'failed';
      ws.terminate();
      resolve(false);
    };
    ws.on('unexpected-response', (_req, res) => {
      if (res.statusCode === 429) refused++;
      fail(`upgrade answered ${res.statusCode}`);
    });
    ws.on('error', (err) => fail(err.message));
    ws.on('open', () => {
      state = 'auth';
      ws.send(JSON.stringify({ type: 'auth', token: opts.token }));
    });
    ws.on('close', (code) => {
      if (state !== 'live') return fail(`closed ${code} before subscribing`);
      // Closed after subscribing (slow consumer, heartbeat, token expiry…): counted by code.
      closes[code] = (closes[code] ?? 0) + 1;
      if (kind === 'alarms') {
        alarmOpen--;
        for (let p = 0; p < arrived.length; p++) if (arrived[p]! > 0) checkComplete(p);
      }
    });
    ws.on('message', (raw) => {
      const at = mono();
      const data = raw.toString();
      if (state === 'live') {
        if (kind === 'alarms') return onAlarm(index, data, at);
        if (data.startsWith('{"type":"readings"')) return onReadings(data);
        counters.otherMessages++;
        return;
      }
      const m = JSON.parse(data) as { type: string; payload?: { code?: string } };
      if (state === 'auth' && m.type === 'ready') {
        state = 'subscribing';
        const sensorIds: string[] = [];
        for (let j = 0; j < opts.sensorsPerClient && kind === 'readings'; j++)
          sensorIds.push(opts.readingsPool[(index * opts.sensorsPerClient + j) % opts.readingsPool.length]!);
        ws.send(
          JSON.stringify(
            kind === 'alarms'
              ? { type: 'subscribe', channel: 'alarms' }
              : { type: 'subscribe', channel: 'readings', sensorIds, maxRatePerS: opts.maxRatePerS },
          ),
        );
      } else if (state === 'subscribing' && m.type === 'subscribed') {
        state = 'live';
        if (kind === 'alarms') {
          alarmOpen++;
          alarmLive.push(index);
        }
        sockets.push(ws);
        resolve(true);
      } else fail(`unexpected ${m.type} ${m.payload?.code ?? ''} while ${state}`);
    });
  });
}

async function connectAll(): Promise<void> {
  const jobs: ['alarms' | 'readings', number][] = [];
  // Interleaved, so a partial fleet still has both kinds.
  const total = opts.alarmClients + opts.readingsClients;
  let a = 0;
  let r = 0;
  for (let i = 0; i < total; i++) {
    const wantReadings =
      r < opts.readingsClients && (a >= opts.alarmClients || r * total < i * opts.readingsClients);
    if (wantReadings) jobs.push(['readings', r++]);
    else jobs.push(['alarms', a++]);
  }
  let next = 0;
  let done = 0;
  const started = mono();
  let lastProgress = started;
  const worker = async () => {
    while (next < jobs.length) {
      const [kind, index] = jobs[next++]!;
      // Refused at the upgrade (429: too many unauthenticated here): wait and retry a few times.
      for (let attempt = 0; attempt < 5; attempt++) {
        const before = refused;
        if (await open(kind, index)) break;
        if (refused === before) break;
        failed--;
        await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
      }
      done++;
      if (mono() - lastProgress > 2000) {
        lastProgress = mono();
        send({ t: 'progress', done, total: jobs.length, failed });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.pending) }, worker));
  loopDelay.enable();
  send({
    t: 'connected',
    alarmClients: alarmOpen,
    readingsClients: sockets.length - alarmOpen,
    failed,
    refused,
    firstError,
    seconds: (mono() - started) / 1000,
  });
}

process.on('message', (m: { t: string; id?: number }) => {
  if (m.t === 'snapshot') send({ t: 'snapshot', id: m.id, at: mono(), ...counters, alarmOpen });
  else if (m.t === 'report') {
    const list: (number | null)[][] = [];
    for (let p = 0; p < arrivals.length; p++) {
      const a = arrivals[p];
      list.push(a ? Array.from(a, (x) => (Number.isNaN(x) ? null : x)) : []);
    }
    send({
      t: 'report',
      arrivals: list,
      alarmLive,
      counters,
      closes,
      alarmOpen,
      open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length,
      rssBytes: process.memoryUsage().rss,
      loopDelayMs: {
        p50: loopDelay.percentile(50) / 1e6,
        p99: loopDelay.percentile(99) / 1e6,
        max: loopDelay.max / 1e6,
      },
    });
  } else if (m.t === 'close') {
    for (const s of sockets) s.terminate();
    process.disconnect?.();
    setTimeout(() => process.exit(0), 100).unref();
  }
});
process.on('disconnect', () => process.exit(0));

await connectAll();
