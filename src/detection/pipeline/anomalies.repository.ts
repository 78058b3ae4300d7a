import type { Insertable } from 'kysely';
import type { DbOrTrx } from '../../db/database.js';
import type { AnomaliesTable } from '../../db/schema.js';

/** A stored anomaly as the API presents it. */
export interface Anomaly {
  readonly id: number;
  readonly sensorId: string;
  readonly assetId: string | null;
  readonly ts: number;
  readonly value: number;
  readonly kind: 'point' | 'raised' | 'cleared';
  readonly detector: string;
  readonly ruleId: string | null;
  readonly severity: string | null;
  readonly score: number;
  readonly confidence: number;
  readonly detectors: string[];
  readonly explanation: Record<string, unknown>;
}

export type AnomalyRow = Insertable<AnomaliesTable>;

/** The identity of a stored anomaly: one per reading, kind, detector and rule. */
export function anomalyKey(
  sensorId: string,
  ts: number,
  kind: string,
  detector: string,
  ruleId: string,
): string {
  return `${sensorId}|${ts}|${kind}|${detector}|${ruleId}`;
}

/**
 * Stores anomalies; one already stored for the same reading, kind, detector and rule is skipped.
 * Returns the keys (anomalyKey) of those stored by this call.
 */
export async function insertAnomalies(db: DbOrTrx, rows: readonly AnomalyRow[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < rows.length; i += 500) {
    const inserted = await db
      .insertInto('anomalies')
      .values(rows.slice(i, i + 500))
      .onConflict((oc) => oc.columns(['sensor_id', 'ts', 'kind', 'detector', 'rule_id']).doNothing())
      .returning(['sensor_id', 'ts', 'kind', 'detector', 'rule_id'])
      .execute();
    for (const r of inserted) out.push(anomalyKey(r.sensor_id, Number(r.ts), r.kind, r.detector, r.rule_id));
  }
  return out;
}

export interface AnomalyQuery {
  readonly tenantId: string;
  readonly sensorId?: string;
  readonly assetId?: string;
  readonly from?: number;
  readonly to?: number;
  readonly kind?: string;
  readonly minScore?: number;
  /** Keyset cursor: anomalies before (ts, id) in the descending order. */
  readonly before?: { ts: number; id: number };
  readonly limit: number;
}

/** Newest first. */
export async function listAnomalies(db: DbOrTrx, q: AnomalyQuery): Promise<Anomaly[]> {
  let query = db.selectFrom('anomalies').selectAll().where('tenant_id', '=', q.tenantId);
  if (q.sensorId) query = query.where('sensor_id', '=', q.sensorId);
  if (q.assetId) query = query.where('asset_id', '=', q.assetId);
  if (q.from !== undefined) query = query.where('ts', '>=', q.from);
  if (q.to !== undefined) query = query.where('ts', '<', q.to);
  if (q.kind) query = query.where('kind', '=', q.kind as Anomaly['kind']);
  if (q.minScore !== undefined) query = query.where('score', '>=', q.minScore);
  const before = q.before;
  if (before) {
    query = query.where((eb) =>
      eb.or([eb('ts', '<', before.ts), eb.and([eb('ts', '=', before.ts), eb('id', '<', before.id)])]),
    );
  }
  const rows = await query.orderBy('ts', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
  return rows.map((r) => ({
    id: Number(r.id),
    sensorId: r.sensor_id,
    assetId: r.asset_id,
    ts: Number(r.ts),
    value: Number(r.value),
    kind: r.kind,
    detector: r.detector,
    ruleId: r.rule_id === '' ? null : r.rule_id,
    severity: r.severity,
    score: Number(r.score),
    confidence: Number(r.confidence),
    detectors: JSON.parse(r.detectors) as string[],
    explanation: JSON.parse(r.explanation) as Record<string, unknown>,
  }));
}
