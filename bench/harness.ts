/** What the benchmarks share: ports, starting Vigil as its own process, calling its API. */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const log = (msg: string) => process.stderr.write(`${msg}\n`);

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor(url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  throw new Error(`${url} did not come up`);
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`)),
    );
    child.stdin.end(input ?? '');
  });
}

export interface Vigil {
  url: string;
  env: NodeJS.ProcessEnv;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startVigil(extra: NodeJS.ProcessEnv): Promise<Vigil> {
  const port = await freePort();
  const env = {
    ...process.env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    API_DOCS: 'false',
    // Compact promptly once the load stops, so bytes per reading are measured on compacted data.
    STORAGE_COMPACT_MAX_AGE_MS: '2000',
    // Limits stay on (their cost is part of what is measured) but far above the load.
    RATE_LIMIT_DEFAULT: '1000000/minute',
    RATE_LIMIT_INGEST: '100000000/minute',
    RATE_LIMIT_ANALYTICS: '1000000/minute',
    INGEST_TENANT_READINGS_PER_S: '100000000',
    ...extra,
  };
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, 'dist/main.js', 'serve'], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`);
  return {
    url,
    env,
    child,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export async function api(
  v: Vigil,
  method: string,
  url: string,
  token: string | undefined,
  body?: unknown,
  type = 'application/json',
) {
  const res = await fetch(v.url + url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': type } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * A user (made with the CLI, as an operator would) of the tenant `bench`, logged in, with a sensor
 * type `level`; a platform administrator too when asked (to read instance status).
 */
export async function benchOwner(v: Vigil, opts: { platformAdmin?: boolean } = {}): Promise<string> {
  const password = 'Bench-Password-Long-9';
  const args = ['dist/main.js', 'admin', 'create-user', '--email', 'bench@example.com', '--tenant', 'bench'];
  if (opts.platformAdmin) args.push('--platform-admin');
  await run(process.execPath, [...args, '--password-stdin'], v.env, `${password}\n`);
  const { accessToken } = await api(v, 'POST', '/api/v1/auth/login', undefined, {
    email: 'bench@example.com',
    password,
  });
  await api(v, 'POST', '/api/v1/sensor-types', accessToken, { key: 'level', name: 'Level', unit: '%' });
  return accessToken;
}
