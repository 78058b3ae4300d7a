import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { auditContext, recordAuditIn } from '../../audit/audit.service.js';
import { Uuid } from '../../auth/auth.schemas.js';
import { AppError } from '../../http/errors/catalogue.js';
import { encodeCursor, keysetCursor } from '../../http/pagination.js';
import { findAsset } from '../../registry/assets.repository.js';
import { findSensor } from '../../registry/sensors.repository.js';
import type { Services } from '../../services.js';
import {
  activateModel,
  findModel,
  listModels,
  listTrainingRuns,
  type ModelScope,
  type ModelVersion,
  type TrainingRun,
} from './models.repository.js';
import { trainModel } from './training.service.js';

const ModelSchema = Type.Object({
  id: Type.String(),
  scope: Type.String(),
  targetId: Type.String(),
  version: Type.Integer(),
  kind: Type.String(),
  status: Type.String({
    description: '`active`, `inactive` (may be activated) or `rejected` (worse when trained)',
  }),
  params: Type.Record(Type.String(), Type.Unknown()),
  threshold: Type.Number({
    description: 'Isolation score at which the model fires (configured, or calibrated on its training data)',
  }),
  features: Type.Array(Type.String()),
  trainingFrom: Type.String({ format: 'date-time' }),
  trainingTo: Type.String({ format: 'date-time' }),
  metrics: Type.Record(Type.String(), Type.Unknown()),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  activatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const RunSchema = Type.Object({
  id: Type.String(),
  scope: Type.String(),
  targetId: Type.String(),
  trigger: Type.String(),
  outcome: Type.String({ description: '`activated`, `kept_previous`, `insufficient_data` or `failed`' }),
  params: Type.Record(Type.String(), Type.Unknown()),
  inputs: Type.Record(Type.String(), Type.Unknown()),
  metrics: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  modelId: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.String({ format: 'date-time' }),
  durationMs: Type.Integer(),
});

const iso = (t: number) => new Date(t).toISOString();
const presentModel = (m: ModelVersion) => ({
  ...m,
  trainingFrom: iso(m.trainingFrom),
  trainingTo: iso(m.trainingTo),
  createdAt: iso(m.createdAt),
  activatedAt: m.activatedAt === null ? null : iso(m.activatedAt),
});
const presentRun = (r: TrainingRun) => ({
  id: r.id,
  scope: r.scope,
  targetId: r.target_id,
  trigger: r.trigger,
  outcome: r.outcome,
  params: r.params,
  inputs: r.inputs,
  metrics: r.metrics,
  modelId: r.model_id,
  error: r.error,
  createdBy: r.created_by,
  startedAt: iso(r.started_at),
  durationMs: r.duration_ms,
});

const Target = {
  sensorId: Type.Optional(Uuid),
  assetId: Type.Optional(Uuid),
};

/** The model registry: versions per sensor/asset, training on demand, activation and rollback. */
export async function modelRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const { db } = services.database;
  const tags = ['detection'];
  const read = { auth: 'principal', permission: 'detection:read' } as const;
  const write = { auth: 'principal', permission: 'detection:write' } as const;

  /** The one target named (sensorId or assetId), checked to be the tenant's. */
  const target = async (
    request: FastifyRequest,
    q: { sensorId?: string; assetId?: string },
    where: string,
  ) => {
    const tenantId = request.principal!.tenantId;
    if ((q.sensorId === undefined) === (q.assetId === undefined)) {
      throw new AppError('VALIDATION_FAILED', 'Name exactly one of sensorId and assetId', {
        errors: [{ pointer: `/${where}/sensorId`, detail: 'give sensorId or assetId, not both or neither' }],
      });
    }
    if (q.sensorId !== undefined) {
      if (!(await findSensor(db, tenantId, q.sensorId))) throw new AppError('NOT_FOUND', 'No such sensor');
      return { scope: 'sensor' as ModelScope, targetId: q.sensorId };
    }
    if (!(await findAsset(db, tenantId, q.assetId!))) throw new AppError('NOT_FOUND', 'No such asset');
    return { scope: 'asset' as ModelScope, targetId: q.assetId! };
  };

  const activate = async (request: FastifyRequest, model: ModelVersion, action: string) => {
    const tenantId = request.principal!.tenantId;
    await db.transaction().execute(async (trx) => {
      await activateModel(trx, model, tenantId, Date.now());
      await recordAuditIn(services, trx, {
        ...auditContext(request),
        action,
        outcome: 'success',
        targetType: 'model',
        targetId: model.id,
        details: { scope: model.scope, targetId: model.targetId, version: model.version },
      });
    });
    services.detection?.invalidate(tenantId);
    return (await findModel(db, tenantId, model.id))!;
  };

  app.get(
    '/models',
    {
      config: read,
      schema: {
        tags,
        summary: 'Model versions, newest first',
        querystring: Type.Object(
          {
            ...Target,
            status: Type.Optional(
              Type.Union([Type.Literal('active'), Type.Literal('inactive'), Type.Literal('rejected')]),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(ModelSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 50;
      const m = keysetCursor(q.cursor, /^(\d+):(.+)$/);
      const items = await listModels(db, request.principal!.tenantId, {
        ...(q.sensorId ? { scope: 'sensor' as const, targetId: q.sensorId } : {}),
        ...(q.assetId ? { scope: 'asset' as const, targetId: q.assetId } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(m ? { beforeCreated: { at: Number(m[0]), id: m[1] } } : {}),
        limit,
      });
      const last = items[items.length - 1];
      return {
        items: items.map(presentModel),
        nextCursor: items.length === limit && last ? encodeCursor(`${last.createdAt}:${last.id}`) : null,
      };
    },
  );

  app.get(
    '/models/training-runs',
    {
      config: read,
      schema: {
        tags,
        summary: 'The training log: every run with its inputs, parameters, metrics, duration and outcome',
        querystring: Type.Object(
          {
            targetId: Type.Optional(Uuid),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(RunSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 50;
      const m = keysetCursor(q.cursor, /^(\d+):(.+)$/);
      const items = await listTrainingRuns(db, request.principal!.tenantId, {
        ...(q.targetId ? { targetId: q.targetId } : {}),
        ...(m ? { before: { at: Number(m[0]), id: m[1] } } : {}),
        limit,
      });
      const last = items[items.length - 1];
      return {
        items: items.map(presentRun),
        nextCursor: items.length === limit && last ? encodeCursor(`${last.started_at}:${last.id}`) : null,
      };
    },
  );

  app.get(
    '/models/:id',
    {
      config: read,
      schema: {
        tags,
        params: Type.Object({ id: Uuid }, { additionalProperties: false }),
        response: { 200: ModelSchema },
      },
    },
    async (request) => {
      const m = await findModel(db, request.principal!.tenantId, request.params.id);
      if (!m) throw new AppError('NOT_FOUND', 'No such model');
      return presentModel(m);
    },
  );

  app.post(
    '/models/train',
    {
      config: { ...write, rateLimit: 'analytics' },
      schema: {
        tags,
        summary: 'Train a new version now; it becomes active only if it is not worse on the held-out window',
        body: Type.Object(
          { ...Target, windowDays: Type.Optional(Type.Number({ minimum: 0.01, maximum: 365 })) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ run: RunSchema, model: Type.Union([ModelSchema, Type.Null()]) }),
        },
      },
    },
    async (request, reply) => {
      const t = await target(request, request.body, 'body');
      const tenantId = request.principal!.tenantId;
      const result = await trainModel(
        {
          db,
          queries: services.telemetry.queries,
          seriesIds: services.telemetry.seriesIds,
          onActivated: (id) => services.detection?.invalidate(id),
          audit: (trx, m) =>
            recordAuditIn(services, trx, {
              ...auditContext(request),
              action: 'model.activate',
              outcome: 'success',
              targetType: 'model',
              targetId: m.id,
              details: { scope: m.scope, targetId: m.targetId, version: m.version, trigger: 'training' },
            }),
        },
        {
          tenantId,
          ...t,
          trigger: 'api',
          createdBy: auditContext(request).actorId ?? null,
          now: Date.now(),
          ...(request.body.windowDays !== undefined ? { windowDays: request.body.windowDays } : {}),
        },
      );
      const run = (await listTrainingRuns(db, tenantId, { targetId: t.targetId, limit: 20 })).find(
        (r) => r.id === result.runId,
      );
      return reply
        .code(201)
        .send({ run: presentRun(run!), model: result.model ? presentModel(result.model) : null });
    },
  );

  app.post(
    '/models/:id/activate',
    {
      config: write,
      schema: {
        tags,
        summary:
          'Make this version the active one of its sensor or asset (switch, or roll back to any version)',
        params: Type.Object({ id: Uuid }, { additionalProperties: false }),
        response: { 200: ModelSchema },
      },
    },
    async (request) => {
      const m = await findModel(db, request.principal!.tenantId, request.params.id);
      if (!m) throw new AppError('NOT_FOUND', 'No such model');
      return presentModel(await activate(request, m, 'model.activate'));
    },
  );

  app.post(
    '/models/rollback',
    {
      config: write,
      schema: {
        tags,
        summary: 'Reactivate the version that was active before the current one',
        body: Type.Object(Target, { additionalProperties: false }),
        response: { 200: ModelSchema },
      },
    },
    async (request) => {
      const t = await target(request, request.body, 'body');
      const tenantId = request.principal!.tenantId;
      const versions = await listModels(db, tenantId, { ...t, limit: 500 });
      const current = versions.find((v) => v.status === 'active');
      // The most recently activated version other than the current one.
      const previous = versions
        .filter((v) => v.id !== current?.id && v.activatedAt !== null && v.status !== 'rejected')
        .sort((a, b) => b.activatedAt! - a.activatedAt!)[0];
      if (!previous) throw new AppError('CONFLICT', 'There is no earlier active version to roll back to');
      return presentModel(await activate(request, previous, 'model.rollback'));
    },
  );
}
