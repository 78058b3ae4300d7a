import type { Selectable } from 'kysely';
import type { DbOrTrx } from '../../db/database.js';
import type { ModelsTable, TrainingRunsTable } from '../../db/schema.js';

export type ModelScope = 'sensor' | 'asset';

/** A model version's record (without its bytes). */
export interface ModelVersion {
  readonly id: string;
  readonly scope: ModelScope;
  readonly targetId: string;
  readonly version: number;
  readonly kind: string;
  readonly params: Record<string, unknown>;
  readonly features: string[];
  readonly trainingFrom: number;
  readonly trainingTo: number;
  readonly metrics: Record<string, unknown>;
  readonly status: 'active' | 'inactive' | 'rejected';
  readonly createdBy: string | null;
  readonly createdAt: number;
  readonly activatedAt: number | null;
  /** The isolation score at which this model fires (configured, or calibrated when trained). */
  readonly threshold: number;
}

const COLUMNS = [
  'id',
  'tenant_id',
  'scope',
  'target_id',
  'version',
  'kind',
  'params',
  'features',
  'training_from',
  'training_to',
  'metrics',
  'status',
  'created_by',
  'created_at',
  'activated_at',
] as const;

function toModel(r: Omit<Selectable<ModelsTable>, 'data'>): ModelVersion {
  const params = JSON.parse(r.params) as Record<string, unknown>;
  return {
    id: r.id,
    scope: r.scope,
    targetId: r.target_id,
    version: Number(r.version),
    kind: r.kind,
    params,
    threshold: typeof params.threshold === 'number' ? params.threshold : 0.62,
    features: JSON.parse(r.features) as string[],
    trainingFrom: Number(r.training_from),
    trainingTo: Number(r.training_to),
    metrics: JSON.parse(r.metrics) as Record<string, unknown>,
    status: r.status,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    activatedAt: r.activated_at === null ? null : Number(r.activated_at),
  };
}

export async function nextModelVersion(
  db: DbOrTrx,
  tenantId: string,
  scope: ModelScope,
  targetId: string,
): Promise<number> {
  const r = await db
    .selectFrom('models')
    .select((eb) => eb.fn.max('version').as('v'))
    .where('tenant_id', '=', tenantId)
    .where('scope', '=', scope)
    .where('target_id', '=', targetId)
    .executeTakeFirst();
  return Number(r?.v ?? 0) + 1;
}

export async function insertModel(db: DbOrTrx, row: Selectable<ModelsTable>): Promise<ModelVersion> {
  await db.insertInto('models').values(row).execute();
  return toModel(row);
}

export async function findModel(
  db: DbOrTrx,
  tenantId: string,
  id: string,
): Promise<ModelVersion | undefined> {
  const r = await db
    .selectFrom('models')
    .select(COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return r ? toModel(r) : undefined;
}

export async function listModels(
  db: DbOrTrx,
  tenantId: string,
  filter: {
    scope?: ModelScope;
    targetId?: string;
    status?: string;
    limit: number;
    beforeCreated?: { at: number; id: string };
  },
): Promise<ModelVersion[]> {
  let q = db.selectFrom('models').select(COLUMNS).where('tenant_id', '=', tenantId);
  if (filter.scope) q = q.where('scope', '=', filter.scope);
  if (filter.targetId) q = q.where('target_id', '=', filter.targetId);
  if (filter.status) q = q.where('status', '=', filter.status as ModelVersion['status']);
  const b = filter.beforeCreated;
  if (b)
    q = q.where((eb) =>
      eb.or([eb('created_at', '<', b.at), eb.and([eb('created_at', '=', b.at), eb('id', '<', b.id)])]),
    );
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(toModel);
}

/** The active model of each target given, with its bytes. */
export async function activeModels(
  db: DbOrTrx,
  tenantId: string,
  targetIds: readonly string[],
): Promise<Map<string, ModelVersion & { data: Uint8Array }>> {
  const out = new Map<string, ModelVersion & { data: Uint8Array }>();
  if (targetIds.length === 0) return out;
  const rows = await db
    .selectFrom('models')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'active')
    .where('target_id', 'in', [...new Set(targetIds)])
    .execute();
  for (const r of rows) out.set(`${r.scope}:${r.target_id}`, { ...toModel(r), data: new Uint8Array(r.data) });
  return out;
}

/** Makes `id` the target's active version (the previously active one becomes inactive). */
export async function activateModel(
  db: DbOrTrx,
  model: ModelVersion,
  tenantId: string,
  now: number,
): Promise<void> {
  await db
    .updateTable('models')
    .set({ status: 'inactive' })
    .where('tenant_id', '=', tenantId)
    .where('scope', '=', model.scope)
    .where('target_id', '=', model.targetId)
    .where('status', '=', 'active')
    .execute();
  await db
    .updateTable('models')
    .set({ status: 'active', activated_at: now })
    .where('id', '=', model.id)
    .execute();
}

export type TrainingRun = Omit<Selectable<TrainingRunsTable>, 'params' | 'inputs' | 'metrics'> & {
  params: Record<string, unknown>;
  inputs: Record<string, unknown>;
  metrics: Record<string, unknown> | null;
};

export async function insertTrainingRun(db: DbOrTrx, run: Selectable<TrainingRunsTable>): Promise<void> {
  await db.insertInto('training_runs').values(run).execute();
}

export async function listTrainingRuns(
  db: DbOrTrx,
  tenantId: string,
  filter: { targetId?: string; limit: number; before?: { at: number; id: string } },
): Promise<TrainingRun[]> {
  let q = db.selectFrom('training_runs').selectAll().where('tenant_id', '=', tenantId);
  if (filter.targetId) q = q.where('target_id', '=', filter.targetId);
  const b = filter.before;
  if (b)
    q = q.where((eb) =>
      eb.or([eb('started_at', '<', b.at), eb.and([eb('started_at', '=', b.at), eb('id', '<', b.id)])]),
    );
  const rows = await q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map((r) => ({
    ...r,
    started_at: Number(r.started_at),
    finished_at: Number(r.finished_at),
    duration_ms: Number(r.duration_ms),
    params: JSON.parse(r.params) as Record<string, unknown>,
    inputs: JSON.parse(r.inputs) as Record<string, unknown>,
    metrics: r.metrics === null ? null : (JSON.parse(r.metrics) as Record<string, unknown>),
  }));
}
