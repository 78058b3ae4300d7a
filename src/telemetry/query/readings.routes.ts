import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Uuid } from '../../auth/auth.schemas.js';
import type { DbOrTrx } from '../../db/database.js';
import { AppError } from '../../http/errors/catalogue.js';
import { decodeCursor, encodeCursor } from '../../http/pagination.js';
import { Time, window } from '../../http/time-query.js';
import { findSensor } from '../../registry/sensors.repository.js';
import type { Services } from '../../services.js';
import { QUALITIES } from '../formats/batch.js';
import { RATE_HISTORY_S } from '../ingest-rate.js';
import { findSeries } from '../storage/series.repository.js';
import { BUCKETS, type BucketName } from './aggregate.js';

const DAY = 86_400_000;
const MAX_BUCKETS = 10_000;
const MAX_CSV_SPAN = 366 * DAY;
const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });
const Reading = Type.Object({
  ts: Type.String({ format: 'date-time' }),
  value: Type.Number(),
  quality: Type.String(),
});

const iso = (t: number) => new Date(t).toISOString();
const qualityName = (q: number) => QUALITIES[q] ?? 'unknown';

/** Sensor of the caller's tenant (404 otherwise) and its series (undefined: no readings yet). */
async function seriesOfSensor(db: DbOrTrx, request: FastifyRequest, id: string) {
  const sensor = await findSensor(db, request.principal!.tenantId, id);
  if (!sensor) throw new AppError('NOT_FOUND', 'No such sensor');
  const [series] = await findSeries(db, { sensorIds: [sensor.id] });
  return { sensor, seriesId: series?.id };
}

/** Reading queries: raw ranges (JSON pages or streamed CSV), bucketed aggregates, latest values. */
export async function readingRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = opts.services.database;
  const queries = opts.services.telemetry.queries;
  const tags = ['telemetry'];
  const config = { auth: 'principal', permission: 'telemetry:read' } as const;
  // Heavy reads count against the analytics limit.
  const analytics = { ...config, rateLimit: 'analytics' } as const;

  app.get(
    '/sensors/:id/readings',
    {
      config: {
        ...config,
        // A CSV export reads up to a year: analytics; a chart's page of readings: default.
        rateLimit: (request) =>
          (request.query as { format?: string }).format === 'csv' ? 'analytics' : 'default',
      },
      schema: {
        tags,
        summary: "A sensor's readings in a time range (JSON pages, or CSV streamed whole)",
        params: IdParams,
        querystring: Type.Object(
          {
            from: Type.Optional(Time),
            to: Type.Optional(Time),
            order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 1000 })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(Reading),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const { from, to } = window(q, DAY);
      const { sensor, seriesId } = await seriesOfSensor(db, request, request.params.id);
      if (q.format === 'csv') {
        if (to - from > MAX_CSV_SPAN) {
          throw new AppError(
            'VALIDATION_FAILED',
            'A CSV export covers at most 366 days; export longer ranges in parts',
            {
              errors: [{ pointer: '/query/from', detail: 'range longer than 366 days' }],
            },
          );
        }
        reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${sensor.key.replace(/[^\w.-]/g, '_')}.csv"`);
        // The response schema describes the JSON branch; this one streams text and is not serialised.
        return reply.send(Readable.from(csvRows(seriesId, from, to)) as never);
      }
      const desc = q.order === 'desc';
      const limit = q.limit ?? 1000;
      const after = decodeCursor<number>(q.cursor, 'number');
      if (q.cursor !== undefined && after === undefined) {
        throw new AppError('VALIDATION_FAILED', 'Invalid cursor', {
          errors: [{ pointer: '/query/cursor', detail: 'unknown cursor' }],
        });
      }
      if (seriesId === undefined) return { items: [], nextCursor: null };
      const lo = !desc && after !== undefined ? Math.max(from, after + 1) : from;
      const hi = desc && after !== undefined ? Math.min(to, after - 1) : to;
      // Read in windows from the cursor's end, only as far as the page needs: a page never loads
      // the whole range. Windows widen across empty stretches.
      const items: { ts: string; value: number; quality: string }[] = [];
      let more = false;
      let width = DAY;
      for (let a = lo, b = hi; a <= b && !more; ) {
        const wFrom = desc ? Math.max(a, b - width + 1) : a;
        const wTo = desc ? b : Math.min(b, a + width - 1);
        const run = await queries.range(seriesId, wFrom, wTo);
        const n = run.ts.length;
        for (let k = 0; k < n; k++) {
          if (items.length === limit) {
            more = true;
            break;
          }
          const i = desc ? n - 1 - k : k;
          items.push({ ts: iso(run.ts[i]!), value: run.value[i]!, quality: qualityName(run.quality[i]!) });
        }
        if (n === 0) width = Math.min(width * 2, 64 * DAY);
        if (desc) b = wFrom - 1;
        else a = wTo + 1;
      }
      const last = items[items.length - 1];
      return { items, nextCursor: more && last ? encodeCursor(Date.parse(last.ts)) : null };
    },
  );

  /** CSV in day-sized slices, so an export of months never holds more than a day in memory. */
  async function* csvRows(seriesId: number | undefined, from: number, to: number): AsyncGenerator<string> {
    yield 'ts,value,quality\n';
    if (seriesId === undefined) return;
    for (let start = from; start <= to; start += DAY) {
      const run = await queries.range(seriesId, start, Math.min(to, start + DAY - 1));
      let out = '';
      for (let i = 0; i < run.ts.length; i++)
        out += `${iso(run.ts[i]!)},${run.value[i]},${qualityName(run.quality[i]!)}\n`;
      if (out) yield out;
    }
  }

  app.get(
    '/sensors/:id/aggregates',
    {
      config: analytics,
      schema: {
        tags,
        summary: 'Min, max, avg, count, first and last per time bucket; empty buckets included',
        params: IdParams,
        querystring: Type.Object(
          {
            from: Type.Optional(Time),
            to: Type.Optional(Time),
            bucket: Type.Optional(Type.Union(Object.keys(BUCKETS).map((k) => Type.Literal(k)))),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            sensor: Type.String(),
            bucket: Type.String(),
            from: Type.String(),
            to: Type.String(),
            buckets: Type.Array(
              Type.Object({
                ts: Type.String(),
                empty: Type.Boolean(),
                count: Type.Integer(),
                min: Type.Union([Type.Number(), Type.Null()]),
                max: Type.Union([Type.Number(), Type.Null()]),
                avg: Type.Union([Type.Number(), Type.Null()]),
                first: Type.Union([Type.Number(), Type.Null()]),
                last: Type.Union([Type.Number(), Type.Null()]),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const bucket = (q.bucket ?? '1h') as BucketName;
      const width = BUCKETS[bucket];
      const { from, to } = window(q, DAY);
      if ((to - from) / width > MAX_BUCKETS) {
        throw new AppError(
          'VALIDATION_FAILED',
          `At most ${MAX_BUCKETS} buckets per query; use a wider bucket`,
          {
            errors: [{ pointer: '/query/bucket', detail: 'too narrow for this range' }],
          },
        );
      }
      const { sensor, seriesId } = await seriesOfSensor(db, request, request.params.id);
      const start = Math.floor(from / width) * width;
      const buckets =
        seriesId === undefined
          ? Array.from({ length: Math.ceil((to - start) / width) }, (_, b) => ({
              ts: start + b * width,
              count: 0,
              min: null,
              max: null,
              avg: null,
              first: null,
              last: null,
            }))
          : await queries.aggregate(seriesId, from, to, width);
      return {
        sensor: sensor.id,
        bucket,
        from: iso(from),
        to: iso(to),
        buckets: buckets.map((b) => ({ ...b, ts: iso(b.ts), empty: b.count === 0 })),
      };
    },
  );

  const LatestResponse = Type.Object({
    items: Type.Array(
      Type.Object({
        sensor: Type.String(),
        key: Type.String(),
        ts: Type.Union([Type.String(), Type.Null()]),
        value: Type.Union([Type.Number(), Type.Null()]),
        quality: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
    unknown: Type.Array(Type.String()),
  });

  const latest = async (request: FastifyRequest, refs: readonly string[]) => {
    const unique = [...new Set(refs)];
    // The ingest path's cached registry lookup: resolving 10,000 references costs no queries when warm.
    const found = await opts.services.sensorDirectory.resolve(request.principal!.tenantId, unique);
    const sensors = [
      ...new Map(
        unique.flatMap((r) => (found.has(r) ? [[found.get(r)!.id, found.get(r)!] as const] : [])),
      ).values(),
    ];
    const seriesBySensor = await opts.services.telemetry.seriesIds.lookup(sensors.map((s) => s.id));
    const values = await queries.latest([...seriesBySensor.values()]);
    return {
      items: sensors.map((s) => {
        const v = values.get(seriesBySensor.get(s.id) ?? -1);
        return {
          sensor: s.id,
          key: s.key,
          ts: v ? iso(v.ts) : null,
          value: v ? v.value : null,
          quality: v ? qualityName(v.quality) : null,
        };
      }),
      unknown: unique.filter((r) => !found.has(r)),
    };
  };

  app.get(
    '/readings/rate',
    {
      config,
      schema: {
        tags,
        summary: "The tenant's readings accepted per second (every transport), over the last whole seconds",
        querystring: Type.Object(
          { windowS: Type.Optional(Type.Integer({ minimum: 1, maximum: RATE_HISTORY_S - 1, default: 60 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            windowS: Type.Integer(),
            readings: Type.Integer({ description: 'Readings accepted in the window' }),
            perSecond: Type.Number(),
            scope: Type.String({
              description: '`all-instances` (counted through Redis) or `this-instance` (without Redis)',
            }),
            asOf: Type.String({ format: 'date-time' }),
          }),
        },
      },
    },
    async (request) => {
      const windowS = request.query.windowS ?? 60;
      const r = await opts.services.telemetry.ingest.rate.rate(request.principal!.tenantId, windowS);
      return {
        windowS,
        readings: r.readings,
        perSecond: Math.round(r.perSecond * 1000) / 1000,
        scope: r.shared ? 'all-instances' : 'this-instance',
        asOf: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString(),
      };
    },
  );

  app.get(
    '/readings/latest',
    {
      config,
      schema: {
        tags,
        summary: 'Latest reading of up to 100 sensors (ids or keys, comma-separated)',
        querystring: Type.Object(
          { sensors: Type.String({ minLength: 1, maxLength: 20000 }) },
          { additionalProperties: false },
        ),
        response: { 200: LatestResponse },
      },
    },
    async (request) => {
      const refs = request.query.sensors.split(',').filter((s) => s !== '');
      if (refs.length > 100) {
        throw new AppError(
          'VALIDATION_FAILED',
          'At most 100 sensors here; POST /readings/latest takes up to 10,000',
          {
            errors: [{ pointer: '/query/sensors', detail: 'too many sensors' }],
          },
        );
      }
      return latest(request, refs);
    },
  );

  app.post(
    '/readings/latest',
    {
      config: analytics,
      bodyLimit: 2 * 1024 * 1024,
      schema: {
        tags,
        summary: 'Latest reading of up to 10,000 sensors',
        body: Type.Object(
          {
            sensors: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
              minItems: 1,
              maxItems: 10000,
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: LatestResponse },
      },
    },
    async (request) => latest(request, request.body.sensors),
  );
}
