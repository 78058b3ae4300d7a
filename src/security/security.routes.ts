import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Selectable } from 'kysely';
import { Type } from 'typebox';
import { auditContext, recordAudit } from '../audit/audit.service.js';
import type { SecurityIpRulesTable } from '../db/schema.js';
import { clientKey } from '../http/client-key.js';
import { AppError } from '../http/errors/catalogue.js';
import { decodeCursor, PageOf, PageQuery, page } from '../http/pagination.js';
import type { Services } from '../services.js';
import { IpSet } from './guard/ip-rules.js';
import {
  deleteIpRule,
  insertIpRule,
  listIpRules,
  listSecurityEvents,
  summariseSecurityEvents,
} from './security.repository.js';

const EventSchema = Type.Object({
  id: Type.Integer(),
  tenantId: Type.Union([Type.String(), Type.Null()]),
  kind: Type.String(),
  ip: Type.String(),
  score: Type.Number(),
  categories: Type.Array(Type.String()),
  rules: Type.Array(Type.String()),
  method: Type.Union([Type.String(), Type.Null()]),
  path: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  at: Type.String({ format: 'date-time' }),
});

const EventQuery = Type.Object(
  {
    ...PageQuery,
    kind: Type.Optional(
      Type.Union([Type.Literal('flagged'), Type.Literal('blocked'), Type.Literal('denied')]),
    ),
    category: Type.Optional(
      Type.Union(['sqli', 'xss', 'traversal', 'cmdi', 'scanner'].map((c) => Type.Literal(c))),
    ),
    ip: Type.Optional(Type.String({ maxLength: 64 })),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

const Count = Type.Object({ key: Type.String(), count: Type.Integer() });
const SummarySchema = Type.Object({
  since: Type.String({ format: 'date-time' }),
  byKind: Type.Array(Count),
  byCategory: Type.Array(Count),
  topIps: Type.Array(Type.Object({ ip: Type.String(), count: Type.Integer(), maxScore: Type.Number() })),
  activeBlocks: Type.Union([Type.Integer(), Type.Null()]),
});

const RuleSchema = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('block'), Type.Literal('allow')]),
  cidr: Type.String(),
  reason: Type.String(),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

type EventRow = Awaited<ReturnType<typeof listSecurityEvents>>[number];
const presentEvent = (e: EventRow) => ({
  id: Number(e.id),
  tenantId: e.tenant_id,
  kind: e.kind,
  ip: e.ip,
  score: e.score,
  categories: e.categories ? e.categories.split(',') : [],
  rules: e.rule ? e.rule.split(',') : [],
  method: e.method,
  path: e.path,
  userAgent: e.user_agent,
  requestId: e.request_id,
  at: new Date(Number(e.created_at)).toISOString(),
});

/**
 * The security API: tenant admins see their tenant's security events and summary; platform
 * admins see all of them, the current blocks, and manage block and allow rules (every change
 * audited).
 */
export async function securityRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const { db } = services.database;
  const tags = ['security'];

  const events = async (
    q: {
      limit?: number | undefined;
      cursor?: string | undefined;
      kind?: string | undefined;
      category?: string | undefined;
      ip?: string | undefined;
      from?: string | undefined;
      to?: string | undefined;
    },
    tenantId?: string,
  ) => {
    const limit = q.limit ?? 50;
    const beforeId = decodeCursor<number>(q.cursor, 'number');
    if (q.cursor && beforeId === undefined)
      throw new AppError('VALIDATION_FAILED', 'Bad cursor', {
        errors: [{ pointer: '/query/cursor', detail: 'is not a cursor from this endpoint' }],
      });
    const rows = await listSecurityEvents(db, {
      tenantId,
      kind: q.kind,
      ip: q.ip,
      category: q.category,
      from: q.from ? Date.parse(q.from) : undefined,
      to: q.to ? Date.parse(q.to) : undefined,
      beforeId,
      limit,
    });
    return page(rows.map(presentEvent), limit, (e) => e.id);
  };
  const summary = async (tenantId?: string) => {
    const since = Date.now() - 24 * 3600_000;
    const s = await summariseSecurityEvents(db, since, tenantId);
    const counts = (rows: { count: number | string }[], key: (r: never) => string) =>
      rows.map((r) => ({ key: key(r as never), count: Number(r.count) }));
    return {
      since: new Date(since).toISOString(),
      byKind: counts(s.byKind, (r: { kind: string }) => r.kind),
      byCategory: counts(s.byCategory, (r: { categories: string }) => r.categories || 'behaviour'),
      topIps: s.topIps.map((r) => ({ ip: r.ip, count: Number(r.count), maxScore: Number(r.maxScore) })),
      activeBlocks: tenantId ? null : (await services.guard.blocks.list(Date.now())).length,
    };
  };

  app.get(
    '/security/events',
    {
      config: { auth: 'user', permission: 'audit:read' },
      schema: { tags, querystring: EventQuery, response: { 200: PageOf(EventSchema) } },
    },
    async (request) => events(request.query, request.principal!.tenantId),
  );
  app.get(
    '/security/summary',
    {
      config: { auth: 'user', permission: 'audit:read' },
      schema: { tags, response: { 200: SummarySchema } },
    },
    async (request) => summary(request.principal!.tenantId),
  );
  app.get(
    '/admin/security/events',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: { tags, querystring: EventQuery, response: { 200: PageOf(EventSchema) } },
    },
    async (request) => events(request.query),
  );
  app.get(
    '/admin/security/summary',
    { config: { auth: 'user', platformAdmin: true }, schema: { tags, response: { 200: SummarySchema } } },
    async () => summary(),
  );

  app.get(
    '/admin/security/blocks',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: {
        tags,
        response: {
          200: Type.Object({
            blocks: Type.Array(
              Type.Object({
                ip: Type.String(),
                until: Type.String({ format: 'date-time' }),
                reason: Type.String(),
                offense: Type.Integer(),
              }),
            ),
            rules: Type.Array(RuleSchema),
          }),
        },
      },
    },
    async () => {
      const now = Date.now();
      const [blocks, rules] = await Promise.all([services.guard.blocks.list(now), listIpRules(db, now)]);
      return {
        blocks: blocks.map((b) => ({ ...b, until: new Date(b.until).toISOString() })),
        rules: rules.map(presentRule),
      };
    },
  );

  app.post(
    '/admin/security/rules',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: {
        tags,
        summary: 'Block or allow an address or CIDR range (allow wins over every block)',
        body: Type.Object(
          {
            kind: Type.Union([Type.Literal('block'), Type.Literal('allow')]),
            cidr: Type.String({ minLength: 2, maxLength: 64 }),
            reason: Type.String({ minLength: 1, maxLength: 500 }),
            expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: RuleSchema },
      },
    },
    async (request, reply) => {
      const { kind, cidr, reason, expiresAt } = request.body;
      if (!IpSet.valid(cidr))
        throw new AppError('VALIDATION_FAILED', 'Not an address or CIDR range', {
          errors: [
            {
              pointer: '/body/cidr',
              detail: 'must be an IPv4/IPv6 address or CIDR range, e.g. 203.0.113.0/24',
            },
          ],
        });
      const expires = expiresAt ? Date.parse(expiresAt) : null;
      if (expires !== null && expires <= Date.now())
        throw new AppError('VALIDATION_FAILED', 'Expiry is in the past', {
          errors: [{ pointer: '/body/expiresAt', detail: 'must be in the future' }],
        });
      const row = {
        id: randomUUID(),
        kind,
        cidr,
        reason,
        expires_at: expires,
        created_by: request.principal?.kind === 'user' ? request.principal.userId : null,
        created_at: Date.now(),
      };
      try {
        await insertIpRule(db, row);
      } catch (err) {
        if (/unique|constraint/i.test((err as Error).message))
          throw new AppError('CONFLICT', `A ${kind} rule for ${cidr} exists already`);
        throw err;
      }
      services.guard.invalidateRules();
      await recordAudit(services, {
        ...auditContext(request),
        tenantId: null,
        action: `security.${kind}.add`,
        outcome: 'success',
        targetType: 'ip-rule',
        targetId: row.id,
        details: { cidr, reason, expiresAt: expiresAt ?? null },
      });
      return reply.code(201).send(presentRule(row));
    },
  );

  app.delete(
    '/admin/security/rules/:id',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: { tags, params: Type.Object({ id: Type.String({ maxLength: 64 }) }) },
    },
    async (request, reply) => {
      const removed = await deleteIpRule(db, request.params.id);
      if (!removed) throw new AppError('NOT_FOUND', 'No such rule');
      services.guard.invalidateRules();
      await recordAudit(services, {
        ...auditContext(request),
        tenantId: null,
        action: `security.${removed.kind}.remove`,
        outcome: 'success',
        targetType: 'ip-rule',
        targetId: removed.id,
        details: { cidr: removed.cidr },
      });
      return reply.code(204).send();
    },
  );

  app.delete(
    '/admin/security/blocks/:ip',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: {
        tags,
        summary: 'Lift a temporary block now',
        params: Type.Object({ ip: Type.String({ maxLength: 64 }) }),
      },
    },
    async (request, reply) => {
      // An IPv6 address lifts the block on its /64 (how blocks are kept).
      const key = request.params.ip.includes('/') ? request.params.ip : clientKey(request.params.ip);
      if (!(await services.guard.blocks.unblock(key)))
        throw new AppError('NOT_FOUND', 'That address is not blocked');
      await recordAudit(services, {
        ...auditContext(request),
        tenantId: null,
        action: 'security.unblock',
        outcome: 'success',
        targetType: 'ip',
        targetId: key,
      });
      return reply.code(204).send();
    },
  );
}

function presentRule(r: Selectable<SecurityIpRulesTable>) {
  return {
    id: r.id,
    kind: r.kind,
    cidr: r.cidr,
    reason: r.reason,
    expiresAt: r.expires_at === null ? null : new Date(Number(r.expires_at)).toISOString(),
    createdBy: r.created_by,
    createdAt: new Date(Number(r.created_at)).toISOString(),
  };
}
