/** Provisioning and HTTP load shared by bench:ingest and bench:detect. */
import { api, benchOwner, log, run, type Vigil } from './harness.js';

/** A tenant `bench` with `sensors` sensors (`bench/s00000`…) and an API key that may write and read telemetry. */
export async function provisionSensors(
  v: Vigil,
  sensors: number,
  opts: { platformAdmin?: boolean } = {},
): Promise<{ key: string; token: string; sensorIds: string[] }> {
  const accessToken = await benchOwner(v, opts);
  for (let from = 0; from < sensors; from += 5000) {
    const rows = ['key,name,type'];
    for (let i = from; i < Math.min(sensors, from + 5000); i++) {
      const k = `bench/s${String(i).padStart(5, '0')}`;
      rows.push(`${k},${k},level`);
    }
    await api(v, 'POST', '/api/v1/sensors/import', accessToken, `${rows.join('\n')}\n`, 'text/csv');
  }
  const { key } = await api(v, 'POST', '/api/v1/api-keys', accessToken, {
    name: 'bench',
    permissions: ['telemetry:write', 'telemetry:read'],
  });
  const sensorIds: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: { id: string }[]; nextCursor: string | null } = await api(
      v,
      'GET',
      `/api/v1/sensors?limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      accessToken,
    );
    sensorIds.push(...page.items.map((s) => s.id));
    cursor = page.nextCursor;
  } while (cursor);
  return { key, token: accessToken, sensorIds };
}

export interface LoadResult {
  readingsPerSec: number;
  p50AckMs: number;
  p99AckMs: number;
  accepted: number;
  failedRequests: number;
  firstError?: string;
}

export interface LoadOptions {
  url: string;
  authorization: string;
  format: 'vigil' | 'influx';
  readings: number;
  startTs: number;
  stepMs: number;
  sensors: number;
  batch: number;
  connections: number;
}

/** Runs bench/load.ts in its own process (so it does not share the server's cores' event loop). */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const args = JSON.stringify({
    url: opts.url,
    authorization: opts.authorization,
    format: opts.format,
    sensors: opts.sensors,
    batch: opts.batch,
    requests: Math.ceil(opts.readings / opts.batch),
    connections: opts.connections,
    startTs: opts.startTs,
    stepMs: opts.stepMs,
  });
  const out = await run(process.execPath, ['--import', 'tsx', 'bench/load.ts', args], process.env);
  const result = JSON.parse(out.trim().split('\n').pop()!) as LoadResult;
  if (result.failedRequests > 0)
    log(`  ! ${result.failedRequests} requests failed, first: ${result.firstError}`);
  return result;
}
