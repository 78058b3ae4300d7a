import { sql } from 'kysely';
import type { DbOrTrx } from '../../db/database.js';

export interface Checkpoint {
  readonly sensorId: string;
  readonly digest: string;
  readonly lastTs: number;
  readonly state: Uint8Array;
}

/** Saved states of the given sensors. */
export async function loadCheckpoints(
  db: DbOrTrx,
  sensorIds: readonly string[],
): Promise<Map<string, Checkpoint>> {
  const out = new Map<string, Checkpoint>();
  for (let i = 0; i < sensorIds.length; i += 500) {
    const rows = await db
      .selectFrom('detection_state')
      .select(['sensor_id', 'digest', 'last_ts', 'state'])
      .where('sensor_id', 'in', sensorIds.slice(i, i + 500))
      .execute();
    for (const r of rows) {
      out.set(r.sensor_id, {
        sensorId: r.sensor_id,
        digest: r.digest,
        lastTs: Number(r.last_ts),
        state: new Uint8Array(r.state),
      });
    }
  }
  return out;
}

/** Writes states (insert or replace), in one statement per 200. */
export async function saveCheckpoints(
  db: DbOrTrx,
  rows: readonly (Checkpoint & { tenantId: string })[],
  now: number,
): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    await db
      .insertInto('detection_state')
      .values(
        rows.slice(i, i + 200).map((r) => ({
          sensor_id: r.sensorId,
          tenant_id: r.tenantId,
          digest: r.digest,
          last_ts: r.lastTs,
          state: r.state,
          updated_at: now,
        })),
      )
      .onConflict((oc) =>
        oc.column('sensor_id').doUpdateSet({
          digest: sql.ref('excluded.digest'),
          last_ts: sql.ref('excluded.last_ts'),
          state: sql.ref('excluded.state'),
          updated_at: sql.ref('excluded.updated_at'),
        }),
      )
      .execute();
  }
}
