import { sql } from 'kysely';
import type { DbOrTrx } from '../../db/database.js';
import { dialectOf } from '../../db/dialect.js';

const CHUNK = 500;

/**
 * The series id of each sensor, creating the missing ones (a sensor gets a series on its first
 * reading). Safe under concurrency: the unique sensor_id makes a racing insert a no-op.
 */
export async function ensureSeries(
  db: DbOrTrx,
  tenantId: string,
  sensorIds: readonly string[],
  now: number,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < sensorIds.length; i += CHUNK) {
    const ids = sensorIds.slice(i, i + CHUNK);
    const existing = await db
      .selectFrom('series')
      .select(['id', 'sensor_id'])
      .where('sensor_id', 'in', ids)
      .execute();
    for (const r of existing) out.set(r.sensor_id, r.id);
    const missing = ids.filter((id) => !out.has(id));
    if (missing.length === 0) continue;
    await db
      .insertInto('series')
      .values(missing.map((sensor_id) => ({ sensor_id, tenant_id: tenantId, created_at: now })))
      .onConflict((oc) => oc.column('sensor_id').doNothing())
      .execute();
    const created = await db
      .selectFrom('series')
      .select(['id', 'sensor_id'])
      .where('sensor_id', 'in', missing)
      .execute();
    for (const r of created) out.set(r.sensor_id, r.id);
  }
  return out;
}

export interface SeriesRow {
  readonly id: number;
  readonly sensorId: string;
  readonly tenantId: string;
  readonly lastTs: number | null;
  readonly lastValue: number | null;
  readonly lastQuality: number | null;
}

export async function findSeries(
  db: DbOrTrx,
  by: { ids?: readonly number[]; sensorIds?: readonly string[] },
) {
  const out: SeriesRow[] = [];
  const list = by.ids ?? by.sensorIds ?? [];
  for (let i = 0; i < list.length; i += CHUNK) {
    const part = list.slice(i, i + CHUNK);
    const rows = await db
      .selectFrom('series')
      .select(['id', 'sensor_id', 'tenant_id', 'last_ts', 'last_value', 'last_quality'])
      .$if(by.ids !== undefined, (q) => q.where('id', 'in', part as number[]))
      .$if(by.sensorIds !== undefined, (q) => q.where('sensor_id', 'in', part as string[]))
      .execute();
    for (const r of rows) {
      out.push({
        id: r.id,
        sensorId: r.sensor_id,
        tenantId: r.tenant_id,
        lastTs: r.last_ts === null ? null : Number(r.last_ts),
        lastValue: r.last_value === null ? null : Number(r.last_value),
        lastQuality: r.last_quality,
      });
    }
  }
  return out;
}

/** Records each series' newest compacted reading, in one statement, only where it is newer. */
export async function updateSeriesLast(
  db: DbOrTrx,
  rows: ReadonlyArray<readonly [id: number, ts: number, value: number, quality: number]>,
): Promise<void> {
  if (rows.length === 0) return;
  const payload = JSON.stringify(rows);
  if (dialectOf(db) === 'postgres') {
    await sql`update series s set last_ts = j.ts, last_value = j.v, last_quality = j.q
      from (select (e->>0)::int as id, (e->>1)::bigint as ts, (e->>2)::float8 as v, (e->>3)::int as q
            from jsonb_array_elements(${payload}::jsonb) e) j
      where s.id = j.id and (s.last_ts is null or s.last_ts <= j.ts)`.execute(db);
    return;
  }
  await sql`update series set last_ts = j.ts, last_value = j.v, last_quality = j.q
    from (select json_extract(value, '$[0]') as id, json_extract(value, '$[1]') as ts,
                 json_extract(value, '$[2]') as v, json_extract(value, '$[3]') as q
          from json_each(${payload})) j
    where series.id = j.id and (series.last_ts is null or series.last_ts <= j.ts)`.execute(db);
}
