import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../http/errors/catalogue.js';
import { encodeCursor, keysetCursor } from '../../http/pagination.js';
import { Time, window } from '../../http/time-query.js';
import type { Services } from '../../services.js';
import { type Anomaly, listAnomalies } from './anomalies.repository.js';

const DAY = 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const AnomalySchema = Type.Object({
  id: Type.Integer(),
  sensorId: Type.String(),
  assetId: Type.Union([Type.String(), Type.Null()]),
  ts: Type.String({ format: 'date-time' }),
  value: Type.Number(),
  kind: Type.String({ description: '`point` (one anomalous reading), `raised` or `cleared` (a condition)' }),
  detector: Type.String(),
  ruleId: Type.Union([Type.String(), Type.Null()]),
  severity: Type.Union([Type.String(), Type.Null()]),
  score: Type.Number(),
  confidence: Type.Number(),
  detectors: Type.Array(Type.String()),
  explanation: Type.Record(Type.String(), Type.Unknown()),
});

const present = (a: Anomaly) => ({ ...a, ts: new Date(a.ts).toISOString() });

/** Stored anomalies, newest first, filtered by sensor (id or key), asset, time, kind and score. */
export async function anomalyRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = opts.services.database;

  app.get(
    '/anomalies',
    {
      config: { auth: 'principal', permission: 'detection:read' },
      schema: {
        tags: ['detection'],
        summary: 'Anomalies found by the streaming detectors (default: the last 7 days)',
        querystring: Type.Object(
          {
            sensor: Type.Optional(
              Type.String({ minLength: 1, maxLength: 128, description: 'Sensor id or key' }),
            ),
            asset: Type.Optional(Type.String({ format: 'uuid' })),
            from: Type.Optional(Time),
            to: Type.Optional(Time),
            kind: Type.Optional(
              Type.Union([Type.Literal('point'), Type.Literal('raised'), Type.Literal('cleared')]),
            ),
            minScore: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(AnomalySchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (request) => {
      const tenantId = request.principal!.tenantId;
      const q = request.query;
      const { from, to } = window(q, 7 * DAY);
      let sensorId: string | undefined;
      if (q.sensor !== undefined) {
        const ref = q.sensor;
        const sensor = await db
          .selectFrom('sensors')
          .select('id')
          .where('tenant_id', '=', tenantId)
          .where((eb) =>
            UUID.test(ref) ? eb.or([eb('id', '=', ref), eb('key', '=', ref)]) : eb('key', '=', ref),
          )
          .executeTakeFirst();
        if (!sensor) throw new AppError('NOT_FOUND', 'No such sensor');
        sensorId = sensor.id;
      }
      const m = keysetCursor(q.cursor, /^(-?\d+):(\d+)$/);
      const limit = q.limit ?? 100;
      const items = await listAnomalies(db, {
        tenantId,
        ...(sensorId ? { sensorId } : {}),
        ...(q.asset ? { assetId: q.asset } : {}),
        from,
        to,
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.minScore !== undefined ? { minScore: q.minScore } : {}),
        ...(m ? { before: { ts: Number(m[0]), id: Number(m[1]) } } : {}),
        limit,
      });
      const last = items[items.length - 1];
      return {
        items: items.map(present),
        nextCursor: items.length === limit && last ? encodeCursor(`${last.ts}:${last.id}`) : null,
      };
    },
  );
}
