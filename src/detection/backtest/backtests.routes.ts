import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Uuid } from '../../auth/auth.schemas.js';
import { AppError, type FieldError } from '../../http/errors/catalogue.js';
import { keysetCursor, PageOf, PageQuery, page } from '../../http/pagination.js';
import { findAsset } from '../../registry/assets.repository.js';
import { findSensor } from '../../registry/sensors.repository.js';
import type { Services } from '../../services.js';
import { DetectorConfigSchema } from '../config/detector-config.schema.js';
import { documentProblems } from '../config/document-check.js';
import { type BacktestRun, findBacktestRun, listBacktestRuns, readLog } from './backtests.repository.js';

const DAY = 86_400_000;
/** The window when none is given: the last week. */
const DEFAULT_WINDOW_MS = 7 * DAY;

const Json = Type.Record(Type.String(), Type.Unknown());
const runFields = {
  id: Type.String(),
  scope: Type.String({ description: '`sensor` or `asset`' }),
  targetId: Type.String(),
  status: Type.String({ description: '`queued`, `running`, `succeeded`, `failed` or `cancelled`' }),
  params: Json,
  summary: Type.Union([Json, Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  rowsDone: Type.Integer(),
  rowsTotal: Type.Integer(),
  cancelRequested: Type.Boolean(),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
};
const RunSchema = Type.Object(runFields);
const RunWithEpisodes = Type.Object({
  ...runFields,
  episodes: Type.Union([Type.Array(Json), Type.Null()], {
    description: 'Anomaly episodes found (the first 500; `summary.episodes` counts them all)',
  }),
});
const LogLine = Type.Object({
  seq: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  level: Type.String(),
  message: Type.String(),
});

const iso = (t: number) => new Date(t).toISOString();
const isoOrNull = (t: number | null) => (t === null ? null : iso(t));
const present = (r: BacktestRun) => ({
  id: r.id,
  scope: r.scope,
  targetId: r.targetId,
  status: r.status,
  params: r.params,
  summary: r.summary,
  error: r.error,
  rowsDone: r.rowsDone,
  rowsTotal: r.rowsTotal,
  cancelRequested: r.cancelRequested,
  createdBy: r.createdBy,
  createdAt: iso(r.createdAt),
  startedAt: isoOrNull(r.startedAt),
  finishedAt: isoOrNull(r.finishedAt),
});
const presentEpisode = (e: Record<string, unknown>) => ({
  ...e,
  from: iso(e.from as number),
  to: iso(e.to as number),
  peakAt: iso(e.peakAt as number),
});

/**
 * Backtests over the API (the Lab's runner): the production detectors over a sensor's stored
 * history, with its configured documents or a candidate one, run in the background. The log
 * streams live on the stream's `lab` channel and is kept for `GET /backtests/{id}/log`.
 */
export async function backtestRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const { db } = services.database;
  const tags = ['detection'];
  const read = { auth: 'principal', permission: 'detection:read' } as const;
  const write = { auth: 'principal', permission: 'detection:write' } as const;

  const load = async (request: FastifyRequest, id: string) => {
    const run = await findBacktestRun(db, request.principal!.tenantId, id);
    if (!run) throw new AppError('NOT_FOUND', 'No such backtest');
    return run;
  };

  app.post(
    '/backtests',
    {
      config: { ...write, rateLimit: 'analytics' },
      schema: {
        tags,
        summary:
          "Start a backtest of a sensor's or an asset's history (runs in the background; 202 with the queued run)",
        body: Type.Object(
          {
            sensorId: Type.Optional(Uuid),
            assetId: Type.Optional(Uuid),
            from: Type.Optional(
              Type.String({ format: 'date-time', description: 'Default: a week before `to`' }),
            ),
            to: Type.Optional(Type.String({ format: 'date-time', description: 'Default: now' })),
            config: Type.Optional(
              Type.Union([DetectorConfigSchema, Type.Null()], {
                description:
                  "A candidate detector document in place of the sensor's own (over its sensor type's) or the asset's; absent or null: the configured documents",
              }),
            ),
            threshold: Type.Optional(Type.Number({ minimum: 0.05, maximum: 1 })),
            compare: Type.Optional(
              Type.Boolean({
                default: true,
                description: 'With a candidate: also score with the configured documents, to compare',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 202: RunSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const tenantId = request.principal!.tenantId;
      if ((b.sensorId === undefined) === (b.assetId === undefined))
        throw new AppError('VALIDATION_FAILED', 'Name exactly one of sensorId and assetId', {
          errors: [{ pointer: '/body/sensorId', detail: 'give sensorId or assetId, not both or neither' }],
        });
      const target =
        b.sensorId !== undefined
          ? { scope: 'sensor' as const, targetId: b.sensorId }
          : { scope: 'asset' as const, targetId: b.assetId! };
      const exists =
        target.scope === 'sensor'
          ? await findSensor(db, tenantId, target.targetId)
          : await findAsset(db, tenantId, target.targetId);
      if (!exists) throw new AppError('NOT_FOUND', `No such ${target.scope}`);
      const to = b.to === undefined ? Date.now() : Date.parse(b.to);
      const from = b.from === undefined ? to - DEFAULT_WINDOW_MS : Date.parse(b.from);
      const problems: FieldError[] = [];
      if (from >= to) problems.push({ pointer: '/body/from', detail: 'must be before `to`' });
      const config = b.config ?? null;
      if (config) problems.push(...(await documentProblems(db, tenantId, target, config, '/body/config')));
      if (problems.length > 0)
        throw new AppError('VALIDATION_FAILED', 'The backtest request is not valid', { errors: problems });
      const run = await services.backtests.submit({
        tenantId,
        ...target,
        from,
        to,
        config,
        ...(b.threshold === undefined ? {} : { threshold: b.threshold }),
        compare: b.compare ?? true,
        createdBy: request.principal!.kind === 'user' ? request.principal!.userId : null,
      });
      reply.code(202).header('location', `/api/v1/backtests/${run.id}`);
      return present(run);
    },
  );

  app.get(
    '/backtests',
    {
      config: read,
      schema: {
        tags,
        summary: 'Backtest runs, newest first (optionally of one sensor or asset)',
        querystring: Type.Object(
          { targetId: Type.Optional(Uuid), ...PageQuery },
          { additionalProperties: false },
        ),
        response: { 200: PageOf(RunSchema) },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 50;
      const m = keysetCursor(q.cursor, /^(\d+):(.+)$/);
      const items = await listBacktestRuns(db, request.principal!.tenantId, {
        ...(q.targetId ? { targetId: q.targetId } : {}),
        ...(m ? { before: { at: Number(m[0]), id: m[1] } } : {}),
        limit,
      });
      const p = page(items, limit, (r) => `${r.createdAt}:${r.id}`);
      return { items: p.items.map(present), nextCursor: p.nextCursor };
    },
  );

  app.get(
    '/backtests/:id',
    {
      config: read,
      schema: {
        tags,
        summary: 'One backtest run with its summary and anomaly episodes',
        params: Type.Object({ id: Uuid }, { additionalProperties: false }),
        response: { 200: RunWithEpisodes },
      },
    },
    async (request) => {
      const run = await load(request, request.params.id);
      return {
        ...present(run),
        episodes: run.episodes?.map((e) => presentEpisode(e as Record<string, unknown>)) ?? null,
      };
    },
  );

  app.get(
    '/backtests/:id/log',
    {
      config: read,
      schema: {
        tags,
        summary: "A backtest's log lines after `after` (the live ones arrive on the stream's `lab` channel)",
        params: Type.Object({ id: Uuid }, { additionalProperties: false }),
        querystring: Type.Object(
          {
            after: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 500 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(LogLine), status: Type.String() }) },
      },
    },
    async (request) => {
      const run = await load(request, request.params.id);
      const lines = await readLog(db, run.id, request.query.after ?? 0, request.query.limit ?? 500);
      return { items: lines.map((l) => ({ ...l, at: iso(l.at) })), status: run.status };
    },
  );

  app.post(
    '/backtests/:id/cancel',
    {
      config: write,
      schema: {
        tags,
        summary: 'Cancel a queued or running backtest (a running one stops at its next slice)',
        params: Type.Object({ id: Uuid }, { additionalProperties: false }),
        response: { 202: RunSchema },
      },
    },
    async (request, reply) => {
      const run = await load(request, request.params.id);
      const outcome = await services.backtests.cancel(request.principal!.tenantId, run.id);
      if (outcome === 'finished')
        throw new AppError(
          'CONFLICT',
          `The backtest has already ${run.status === 'cancelled' ? 'been cancelled' : 'finished'}`,
        );
      return reply.code(202).send(present(await load(request, run.id)));
    },
  );
}
