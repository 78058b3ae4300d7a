import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { type Precision, parseLineProtocol } from './formats/line-protocol.js';
import { acceptGzip, ingestParsed } from './ingest.http.js';
import { IngestResultSchema } from './ingest.routes.js';

const V1_PRECISION: Readonly<Record<string, Precision | { factor: number }>> = {
  n: 'ns',
  ns: 'ns',
  u: 'us',
  us: 'us',
  µ: 'us',
  ms: 'ms',
  s: 's',
  m: { factor: 60 },
  h: { factor: 3600 },
};

/**
 * InfluxDB-compatible writes, so Telegraf and other agents write to Vigil unchanged: `POST /write`
 * (v1: `db`, `rp`, `precision`, credentials as `u`/`p`, Basic or `Token`) and `POST /api/v2/write`
 * (v2: `org`, `bucket`, `precision`, `Authorization: Token`). The body is line protocol whatever
 * the Content-Type, optionally gzip-compressed. 204 when every point was stored (as InfluxDB
 * answers), 200 with Vigil's per-item report when some were refused, 422 when none could be.
 */
export async function influxRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  acceptGzip(app);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const write = async (
    request: { body: unknown; query: { precision?: string } },
    precisionRaw: string | undefined,
    req: Parameters<typeof ingestParsed>[1],
  ) => {
    const receivedAt = Date.now();
    const p = V1_PRECISION[precisionRaw ?? 'ns'] ?? 'ns';
    let text = typeof request.body === 'string' ? request.body : '';
    if (typeof p !== 'string') {
      // Minutes and hours (v1 only): rescale to seconds before parsing.
      text = text.replace(/ (-?\d+)\s*$/gm, (_m, n: string) => ` ${Number(n) * p.factor}`);
    }
    const batch = parseLineProtocol(text, receivedAt, typeof p === 'string' ? p : 's');
    return ingestParsed(services, req, batch, { receivedAt });
  };
  const common = {
    bodyLimit: services.config.telemetry.maxBytes,
    schema: {
      tags: ['telemetry'],
      response: { 200: IngestResultSchema, 204: Type.Null({ description: 'Every point stored' }) },
    },
  };
  const PrecisionV1 = Type.Optional(Type.Union(Object.keys(V1_PRECISION).map((k) => Type.Literal(k))));

  app.post(
    '/write',
    {
      ...common,
      config: { auth: 'ingest', permission: 'telemetry:write', queryCredential: true, rateLimit: 'ingest' },
      schema: {
        ...common.schema,
        summary: 'InfluxDB 1.x write (line protocol)',
        querystring: Type.Object({
          db: Type.Optional(Type.String({ maxLength: 200 })),
          rp: Type.Optional(Type.String({ maxLength: 200 })),
          precision: PrecisionV1,
          u: Type.Optional(Type.String({ maxLength: 200 })),
          p: Type.Optional(Type.String({ maxLength: 500 })),
          consistency: Type.Optional(Type.String({ maxLength: 20 })),
        }),
      },
    },
    async (request, reply) => {
      const result = await write(request, request.query.precision, request);
      if (result.rejected.length === 0) return reply.code(204).send(null);
      return result;
    },
  );

  app.post(
    '/api/v2/write',
    {
      ...common,
      config: { auth: 'ingest', permission: 'telemetry:write', rateLimit: 'ingest' },
      schema: {
        ...common.schema,
        summary: 'InfluxDB 2.x write (line protocol)',
        querystring: Type.Object({
          org: Type.Optional(Type.String({ maxLength: 200 })),
          orgID: Type.Optional(Type.String({ maxLength: 200 })),
          bucket: Type.Optional(Type.String({ maxLength: 200 })),
          precision: Type.Optional(
            Type.Union([Type.Literal('ns'), Type.Literal('us'), Type.Literal('ms'), Type.Literal('s')]),
          ),
        }),
      },
    },
    async (request, reply) => {
      const result = await write(request, request.query.precision, request);
      if (result.rejected.length === 0) return reply.code(204).send(null);
      return result;
    },
  );

  // Clients (the influx CLI, some agents) check the server with /ping first.
  app.get('/ping', { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply.code(204).header('x-influxdb-version', '1.8-vigil').send(),
  );
}
