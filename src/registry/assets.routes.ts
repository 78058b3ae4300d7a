import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Uuid } from '../auth/auth.schemas.js';
import { AppError } from '../http/errors/catalogue.js';
import { PageOf, page } from '../http/pagination.js';
import type { Services } from '../services.js';
import {
  type Asset,
  deleteAsset,
  findAsset,
  insertAsset,
  listAssets,
  updateAsset,
} from './assets.repository.js';
import { GEOMETRY_TYPES, geometryProblem } from './geojson.js';
import { ASSET_KINDS, Key, ListQuery, Metadata, Name, OneOf, strict } from './registry.schemas.js';
import { afterKey, conflictOnDuplicate, metadataText } from './registry.util.js';
import { findSite } from './sites.repository.js';

const AssetKind = OneOf(ASSET_KINDS);

const Geometry = Type.Object(
  {
    type: Type.Union(GEOMETRY_TYPES.map((t) => Type.Literal(t))),
    coordinates: Type.Array(Type.Unknown(), { maxItems: 10_000 }),
  },
  strict,
);

const AssetSchema = Type.Object({
  id: Type.String(),
  siteId: Type.Union([Type.String(), Type.Null()]),
  kind: Type.String(),
  key: Type.String(),
  name: Type.String(),
  geometry: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const present = (a: Asset) => ({
  ...a,
  createdAt: a.createdAt.toISOString(),
  updatedAt: a.updatedAt.toISOString(),
});
const IdParams = Type.Object({ id: Uuid }, strict);

/** Assets: pumps, tanks, reservoirs, valves, pipelines, meters…, optionally placed on a map and in a site. */
export async function assetRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = opts.services.database;
  const tags = ['registry'];

  const load = async (request: FastifyRequest, id: string) => {
    const asset = await findAsset(db, request.principal!.tenantId, id);
    if (!asset) throw new AppError('NOT_FOUND', 'No such asset');
    return asset;
  };
  const checkRefs = async (
    request: FastifyRequest,
    b: { siteId?: string | null; geometry?: { type: string; coordinates: unknown } | null },
  ) => {
    const errors = [];
    if (b.siteId && !(await findSite(db, request.principal!.tenantId, b.siteId))) {
      errors.push({ pointer: '/body/siteId', detail: 'is not a site of this tenant' });
    }
    const problem = b.geometry ? geometryProblem(b.geometry) : undefined;
    if (problem) errors.push({ pointer: '/body/geometry', detail: problem });
    if (errors.length > 0) throw new AppError('VALIDATION_FAILED', 'Invalid asset', { errors });
  };

  app.get(
    '/assets',
    {
      config: { auth: 'principal', permission: 'devices:read' },
      schema: {
        tags,
        querystring: Type.Object(
          { ...ListQuery, siteId: Type.Optional(Uuid), kind: Type.Optional(AssetKind) },
          strict,
        ),
        response: {
          200: PageOf(AssetSchema),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const { cursor, ...rest } = request.query;
      const items = await listAssets(db, request.principal!.tenantId, {
        ...rest,
        afterKey: afterKey(cursor),
        limit,
      });
      return page(items.map(present), limit, (a) => a.key);
    },
  );

  app.get(
    '/assets/:id',
    {
      config: { auth: 'principal', permission: 'devices:read' },
      schema: { tags, params: IdParams, response: { 200: AssetSchema } },
    },
    async (request) => present(await load(request, request.params.id)),
  );

  app.post(
    '/assets',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: {
        tags,
        body: Type.Object(
          {
            key: Key,
            name: Name,
            kind: AssetKind,
            siteId: Type.Optional(Uuid),
            geometry: Type.Optional(Geometry),
            metadata: Type.Optional(Metadata),
          },
          strict,
        ),
        response: { 201: AssetSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      await checkRefs(request, b);
      const now = Date.now();
      const asset = await conflictOnDuplicate(
        () =>
          insertAsset(db, {
            id: randomUUID(),
            tenant_id: request.principal!.tenantId,
            site_id: b.siteId ?? null,
            kind: b.kind,
            key: b.key,
            name: b.name,
            geometry: b.geometry ? JSON.stringify(b.geometry) : null,
            metadata: metadataText(b.metadata),
            created_at: now,
            updated_at: now,
          }),
        `Asset ${b.key} already exists`,
      );
      return reply.code(201).send(present(asset));
    },
  );

  app.patch(
    '/assets/:id',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: {
        tags,
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            kind: Type.Optional(AssetKind),
            siteId: Type.Optional(Type.Union([Uuid, Type.Null()])),
            geometry: Type.Optional(Type.Union([Geometry, Type.Null()])),
            metadata: Type.Optional(Metadata),
          },
          { ...strict, minProperties: 1 },
        ),
        response: { 200: AssetSchema },
      },
    },
    async (request) => {
      const asset = await load(request, request.params.id);
      const b = request.body;
      await checkRefs(request, b);
      await updateAsset(
        db,
        request.principal!.tenantId,
        asset.id,
        {
          ...(b.name !== undefined ? { name: b.name } : {}),
          ...(b.kind !== undefined ? { kind: b.kind } : {}),
          ...(b.siteId !== undefined ? { site_id: b.siteId } : {}),
          ...(b.geometry !== undefined
            ? { geometry: b.geometry === null ? null : JSON.stringify(b.geometry) }
            : {}),
          ...(b.metadata !== undefined ? { metadata: metadataText(b.metadata) } : {}),
        },
        Date.now(),
      );
      return present(await load(request, asset.id));
    },
  );

  app.delete(
    '/assets/:id',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: {
        tags,
        summary: 'Delete an asset (its sensors stay, detached)',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const asset = await load(request, request.params.id);
      await deleteAsset(db, request.principal!.tenantId, asset.id);
      return reply.code(204).send(null);
    },
  );
}
