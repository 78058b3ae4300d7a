/**
 * Load generator for bench:mqtt, in its own process: `devices` clients each publish `messages`
 * QoS 1 messages of `sensors` readings (Vigil JSON on `vigil/<tenant>/<device>/readings`), with up
 * to `window` unacknowledged at a time. Each reading's ts is its publish time (unique per device),
 * so the server-side commit time of every message can be matched afterwards. Prints one JSON line.
 */
import mqtt from 'mqtt';

interface Options {
  url: string;
  tenant: string;
  devices: { key: string; token?: string }[];
  sensors: number;
  messages: number;
  window: number;
}

const opts = JSON.parse(process.argv[2]!) as Options;
const acks: number[] = [];
const started = performance.now();

async function device(d: { key: string; token?: string }): Promise<void> {
  const client = await mqtt.connectAsync(opts.url, {
    clientId: `bench-${d.key}-${process.pid}`,
    ...(d.token ? { username: d.key, password: d.token } : {}),
    reconnectPeriod: 0,
  });
  let last = 0;
  let sent = 0;
  const one = async () => {
    // Fractional milliseconds: the publish time, and unique per device however fast it publishes.
    const ts = Math.max(performance.timeOrigin + performance.now(), last + 0.001);
    last = ts;
    const readings = Array.from({ length: opts.sensors }, (_, s) => ({
      sensor: `${d.key}/s${s}`,
      ts,
      value: Math.round(Math.random() * 10000) / 100,
    }));
    const t0 = performance.now();
    await client.publishAsync(`vigil/${opts.tenant}/${d.key}/readings`, JSON.stringify({ readings }), {
      qos: 1,
    });
    acks.push(performance.now() - t0);
  };
  const lanes = Array.from({ length: opts.window }, async () => {
    while (sent < opts.messages) {
      sent++;
      await one();
    }
  });
  await Promise.all(lanes);
  await client.endAsync();
}

await Promise.all(opts.devices.map(device));
const seconds = (performance.now() - started) / 1000;
acks.sort((a, b) => a - b);
const pct = (p: number) =>
  Math.round(acks[Math.min(acks.length - 1, Math.floor((p / 100) * acks.length))]! * 10) / 10;
console.log(
  JSON.stringify({
    messages: acks.length,
    seconds,
    publishedPerSec: Math.round(acks.length / seconds),
    p50AckMs: pct(50),
    p99AckMs: pct(99),
  }),
);
