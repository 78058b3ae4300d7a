import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../http/errors/catalogue.js';
import { decodeCursor, PageOf, PageQuery, page } from '../http/pagination.js';
import type { Services } from '../services.js';
import { listAudit } from './audit.repository.js';
import type { AuditEntry } from './audit.types.js';

const EntrySchema = Type.Object({
  seq: Type.Integer(),
  ts: Type.String({ format: 'date-time' }),
  tenantId: Type.Union([Type.String(), Type.Null()]),
  actorType: Type.String(),
  actorId: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  targetType: Type.Union([Type.String(), Type.Null()]),
  targetId: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
  severity: Type.String(),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
});

const Query = Type.Object(
  {
    ...PageQuery,
    action: Type.Optional(Type.String({ maxLength: 100 })),
    actorId: Type.Optional(Type.String({ maxLength: 100 })),
    outcome: Type.Optional(
      Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]),
    ),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

const ListSchema = PageOf(EntrySchema);
const present = (e: AuditEntry) => ({ ...e, ts: e.ts.toISOString() });

function parseQuery(q: { cursor?: string; from?: string; to?: string }) {
  const beforeSeq = decodeCursor<number>(q.cursor, 'number');
  if (q.cursor && beforeSeq === undefined) {
    throw new AppError('VALIDATION_FAILED', 'Bad cursor', {
      errors: [{ pointer: '/query/cursor', detail: 'is not a cursor from this endpoint' }],
    });
  }
  const from = q.from ? Date.parse(q.from) : undefined;
  const to = q.to ? Date.parse(q.to) : undefined;
  if (from !== undefined && to !== undefined && from >= to) {
    throw new AppError('VALIDATION_FAILED', 'Empty time range', {
      errors: [{ pointer: '/query/to', detail: 'must be after from' }],
    });
  }
  return { beforeSeq, from, to };
}

/** Tenant admins read their tenant's audit trail; platform admins read everything at /admin/audit. */
export async function auditRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const tags = ['audit'];

  app.get(
    '/audit',
    {
      config: { auth: 'principal', permission: 'audit:read' },
      schema: { tags, querystring: Query, response: { 200: ListSchema } },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const entries = await listAudit(services.database.db, {
        ...request.query,
        ...parseQuery(request.query),
        tenantId: request.principal!.tenantId,
        limit,
      });
      return page(entries.map(present), limit, (e) => e.seq);
    },
  );

  app.get(
    '/admin/audit',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: {
        tags: ['admin'],
        querystring: Type.Object(
          { ...Query.properties, tenantId: Type.Optional(Type.String({ maxLength: 100 })) },
          { additionalProperties: false },
        ),
        response: { 200: ListSchema },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const entries = await listAudit(services.database.db, {
        ...request.query,
        ...parseQuery(request.query),
        limit,
      });
      return page(entries.map(present), limit, (e) => e.seq);
    },
  );
}
