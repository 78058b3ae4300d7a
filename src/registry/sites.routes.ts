import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Uuid } from '../auth/auth.schemas.js';
import { AppError } from '../http/errors/catalogue.js';
import { PageOf, page } from '../http/pagination.js';
import type { Services } from '../services.js';
import { Key, ListQuery, Metadata, Name, OneOf, SITE_KINDS, strict } from './registry.schemas.js';
import { afterKey, conflictOnDuplicate, isForeignKeyViolation, metadataText } from './registry.util.js';
import {
  ancestorIds,
  deleteSite,
  findSite,
  insertSite,
  listSites,
  type Site,
  updateSite,
} from './sites.repository.js';

const SiteKind = OneOf(SITE_KINDS);

const SiteSchema = Type.Object({
  id: Type.String(),
  parentId: Type.Union([Type.String(), Type.Null()]),
  kind: Type.String(),
  key: Type.String(),
  name: Type.String(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const present = (s: Site) => ({
  ...s,
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});
const IdParams = Type.Object({ id: Uuid }, strict);

/** Sites and zones, a hierarchy through `parentId`. */
export async function siteRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = opts.services.database;
  const tags = ['registry'];

  const load = async (request: FastifyRequest, id: string) => {
    const site = await findSite(db, request.principal!.tenantId, id);
    if (!site) throw new AppError('NOT_FOUND', 'No such site');
    return site;
  };
  const assertParent = async (request: FastifyRequest, parentId: string, selfId?: string) => {
    const tenantId = request.principal!.tenantId;
    if (!(await findSite(db, tenantId, parentId))) {
      throw new AppError('VALIDATION_FAILED', 'Unknown parent', {
        errors: [{ pointer: '/body/parentId', detail: 'is not a site of this tenant' }],
      });
    }
    if (selfId && (await ancestorIds(db, tenantId, parentId)).includes(selfId)) {
      throw new AppError('VALIDATION_FAILED', 'Cycle in the site hierarchy', {
        errors: [{ pointer: '/body/parentId', detail: 'would make the site its own ancestor' }],
      });
    }
  };

  app.get(
    '/sites',
    {
      config: { auth: 'principal', permission: 'devices:read' },
      schema: {
        tags,
        querystring: Type.Object(
          {
            ...ListQuery,
            parentId: Type.Optional(Type.Union([Uuid, Type.Literal('root')])),
            kind: Type.Optional(SiteKind),
          },
          strict,
        ),
        response: {
          200: PageOf(SiteSchema),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const { parentId, cursor, ...rest } = request.query;
      const items = await listSites(db, request.principal!.tenantId, {
        ...rest,
        parentId: parentId === 'root' ? null : parentId,
        afterKey: afterKey(cursor),
        limit,
      });
      return page(items.map(present), limit, (s) => s.key);
    },
  );

  app.get(
    '/sites/:id',
    {
      config: { auth: 'principal', permission: 'devices:read' },
      schema: { tags, params: IdParams, response: { 200: SiteSchema } },
    },
    async (request) => present(await load(request, request.params.id)),
  );

  app.post(
    '/sites',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: {
        tags,
        body: Type.Object(
          {
            key: Key,
            name: Name,
            kind: SiteKind,
            parentId: Type.Optional(Uuid),
            metadata: Type.Optional(Metadata),
          },
          strict,
        ),
        response: { 201: SiteSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      if (b.parentId) await assertParent(request, b.parentId);
      const now = Date.now();
      const site = await conflictOnDuplicate(
        () =>
          insertSite(db, {
            id: randomUUID(),
            tenant_id: request.principal!.tenantId,
            parent_id: b.parentId ?? null,
            kind: b.kind,
            key: b.key,
            name: b.name,
            metadata: metadataText(b.metadata),
            created_at: now,
            updated_at: now,
          }),
        `Site ${b.key} already exists`,
      );
      return reply.code(201).send(present(site));
    },
  );

  app.patch(
    '/sites/:id',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: {
        tags,
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            kind: Type.Optional(SiteKind),
            parentId: Type.Optional(Type.Union([Uuid, Type.Null()])),
            metadata: Type.Optional(Metadata),
          },
          { ...strict, minProperties: 1 },
        ),
        response: { 200: SiteSchema },
      },
    },
    async (request) => {
      const site = await load(request, request.params.id);
      const b = request.body;
      if (b.parentId) await assertParent(request, b.parentId, site.id);
      await updateSite(
        db,
        request.principal!.tenantId,
        site.id,
        {
          ...(b.name !== undefined ? { name: b.name } : {}),
          ...(b.kind !== undefined ? { kind: b.kind } : {}),
          ...(b.parentId !== undefined ? { parent_id: b.parentId } : {}),
          ...(b.metadata !== undefined ? { metadata: metadataText(b.metadata) } : {}),
        },
        Date.now(),
      );
      return present(await load(request, site.id));
    },
  );

  app.delete(
    '/sites/:id',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: { tags, params: IdParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      const site = await load(request, request.params.id);
      try {
        await deleteSite(db, request.principal!.tenantId, site.id);
      } catch (err) {
        if (isForeignKeyViolation(err))
          throw new AppError('CONFLICT', 'The site still has child sites or assets');
        throw err;
      }
      return reply.code(204).send(null);
    },
  );
}
