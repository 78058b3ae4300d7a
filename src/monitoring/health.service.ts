import { once } from 'node:events';
import { connect } from 'node:net';
import type { Services } from '../services.js';

export interface CheckResult {
  readonly status: 'ok' | 'failed';
  readonly latencyMs: number;
  readonly error?: string;
}

/** A check gets a signal that aborts when its time is up, so it can release what it waits on. */
export type DependencyCheck = (signal: AbortSignal) => Promise<void>;

function withTimeout(check: DependencyCheck, ms: number, what: string): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`${what} did not answer within ${ms} ms`);
      controller.abort(err);
      reject(err);
    }, ms);
  });
  return Promise.race([check(controller.signal), timeout]).finally(() => clearTimeout(timer));
}

/** TCP reachability of a URL's host:port; enough to tell "broker down" from "broker up". */
export function tcpReachable(url: string, defaultPorts: Record<string, number>): DependencyCheck {
  const u = new URL(url);
  const port = Number(u.port) || defaultPorts[u.protocol.replace(':', '')] || 0;
  return (signal) =>
    new Promise<void>((resolve, reject) => {
      const socket = connect({ host: u.hostname, port, signal });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', (err) => {
        socket.destroy();
        reject(err);
      });
    });
}

/** The dependencies this process is configured to use, each as a named check. */
export function dependencyChecks(services: Services): Record<string, DependencyCheck> {
  const checks: Record<string, DependencyCheck> = { database: () => services.database.ping() };
  const redis = services.redis;
  if (redis) {
    checks.redis = async (signal) => {
      // Right after start (or during a reconnect) commands fail fast; give the connection the check's time budget.
      if (redis.status !== 'ready') await once(redis, 'ready', { signal });
      const pong = await redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected reply ${pong}`);
    };
  }
  if (services.config.mqttUrl) {
    const reachable = tcpReachable(services.config.mqttUrl, { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 });
    // Once the gateway runs, what counts is whether it is logged in and subscribed, not whether
    // the port answers (a broker refusing Vigil's credentials or certificate is not "ready").
    checks.mqtt = async (signal) => {
      const status = services.mqtt.current();
      if (!status) return reachable(signal);
      if (!status.connected) throw new Error('not connected to the external broker');
    };
  }
  return checks;
}

/** Runs every check concurrently, each bounded by `timeoutMs`. */
export async function runChecks(
  checks: Record<string, DependencyCheck>,
  timeoutMs: number,
): Promise<{ ok: boolean; checks: Record<string, CheckResult> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
      const started = performance.now();
      try {
        await withTimeout(check, timeoutMs, name);
        return [name, { status: 'ok', latencyMs: Math.round(performance.now() - started) }];
      } catch (err) {
        const error = err instanceof Error ? err.message || err.name : String(err);
        return [name, { status: 'failed', latencyMs: Math.round(performance.now() - started), error }];
      }
    }),
  );
  return { ok: entries.every(([, r]) => r.status === 'ok'), checks: Object.fromEntries(entries) };
}
