import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { auditContext, recordAuditIn } from '../../audit/audit.service.js';
import { Uuid } from '../../auth/auth.schemas.js';
import type { DbOrTrx } from '../../db/database.js';
import { AppError } from '../../http/errors/catalogue.js';
import { findAsset } from '../../registry/assets.repository.js';
import { conflictOnDuplicate } from '../../registry/registry.util.js';
import { findSensorType } from '../../registry/sensor-types.repository.js';
import { findSensor } from '../../registry/sensors.repository.js';
import type { Services } from '../../services.js';
import {
  appendConfigVersion,
  type ConfigScope,
  currentConfigs,
  type DetectorConfigVersion,
  listConfigVersions,
} from './detector-config.repository.js';
import { type DetectorConfigDoc, DetectorConfigSchema } from './detector-config.schema.js';
import { documentProblems } from './document-check.js';
import { effectiveConfig } from './effective-config.js';

const VersionSchema = Type.Object({
  scope: Type.String(),
  targetId: Type.String(),
  /** 0: no document was ever stored (the defaults or the sensor type's apply). */
  version: Type.Integer(),
  document: Type.Union([DetectorConfigSchema, Type.Null()]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const present = (v: DetectorConfigVersion) => ({
  scope: v.scope,
  targetId: v.targetId,
  version: v.version,
  document: v.document,
  createdBy: v.createdBy,
  createdAt: v.createdAt.toISOString(),
});

const TARGETS: readonly {
  path: string;
  scope: ConfigScope;
  noun: string;
  exists: (db: DbOrTrx, tenantId: string, id: string) => Promise<unknown>;
}[] = [
  { path: 'sensor-types', scope: 'sensor_type', noun: 'sensor type', exists: findSensorType },
  { path: 'assets', scope: 'asset', noun: 'asset', exists: findAsset },
  { path: 'sensors', scope: 'sensor', noun: 'sensor', exists: findSensor },
];

/**
 * Detector documents: versioned per sensor type, asset and sensor. Each PUT stores a new version
 * (the history is kept); DELETE stores a removal. The pipeline picks changes up at once in this
 * process and within a minute elsewhere.
 */
export async function detectorConfigRoutes(
  base: FastifyInstance,
  opts: { services: Services },
): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const { db } = services.database;
  const tags = ['detection'];
  const Params = Type.Object({ id: Uuid }, { additionalProperties: false });

  for (const target of TARGETS) {
    const load = async (request: FastifyRequest, id: string) => {
      if (!(await target.exists(db, request.principal!.tenantId, id)))
        throw new AppError('NOT_FOUND', `No such ${target.noun}`);
    };
    const current = async (tenantId: string, id: string) => {
      const v = (await currentConfigs(db, tenantId, [{ scope: target.scope, targetId: id }])).get(
        `${target.scope}:${id}`,
      );
      return v
        ? present(v)
        : { scope: target.scope, targetId: id, version: 0, document: null, createdBy: null, createdAt: null };
    };
    const store = async (request: FastifyRequest, id: string, doc: DetectorConfigDoc | null) => {
      const tenantId = request.principal!.tenantId;
      const version = await conflictOnDuplicate(
        () =>
          db.transaction().execute(async (trx) => {
            const v = await appendConfigVersion(
              trx,
              tenantId,
              target.scope,
              id,
              doc,
              auditContext(request).actorId ?? null,
              Date.now(),
            );
            await recordAuditIn(services, trx, {
              ...auditContext(request),
              action: doc ? 'detector-config.update' : 'detector-config.remove',
              outcome: 'success',
              targetType: target.scope,
              targetId: id,
              details: { version: v.version, document: doc },
            });
            return v;
          }),
        'The document was changed at the same moment; read it again and retry',
      );
      services.detection?.invalidate(tenantId);
      return version;
    };

    app.get(
      `/${target.path}/:id/detectors`,
      {
        config: { auth: 'principal', permission: 'detection:read' },
        schema: {
          tags,
          summary: `The current detector document of a ${target.noun}`,
          params: Params,
          response: { 200: VersionSchema },
        },
      },
      async (request) => {
        await load(request, request.params.id);
        return current(request.principal!.tenantId, request.params.id);
      },
    );

    app.get(
      `/${target.path}/:id/detectors/versions`,
      {
        config: { auth: 'principal', permission: 'detection:read' },
        schema: {
          tags,
          summary: `Every version of a ${target.noun}'s detector document, newest first`,
          params: Params,
          response: { 200: Type.Object({ items: Type.Array(VersionSchema) }) },
        },
      },
      async (request) => {
        await load(request, request.params.id);
        const items = await listConfigVersions(
          db,
          request.principal!.tenantId,
          target.scope,
          request.params.id,
        );
        return { items: items.map(present) };
      },
    );

    app.put(
      `/${target.path}/:id/detectors`,
      {
        config: { auth: 'principal', permission: 'detection:write' },
        schema: {
          tags,
          summary: `Store a new version of a ${target.noun}'s detector document`,
          params: Params,
          body: DetectorConfigSchema,
          response: { 200: VersionSchema },
        },
      },
      async (request) => {
        const tenantId = request.principal!.tenantId;
        await load(request, request.params.id);
        const doc = request.body;
        const problems = await documentProblems(
          db,
          tenantId,
          { scope: target.scope, targetId: request.params.id },
          doc,
          '/body',
        );
        if (problems.length > 0)
          throw new AppError('VALIDATION_FAILED', 'The detector document is not valid', { errors: problems });
        return present(await store(request, request.params.id, doc));
      },
    );

    app.delete(
      `/${target.path}/:id/detectors`,
      {
        config: { auth: 'principal', permission: 'detection:write' },
        schema: {
          tags,
          summary: `Remove a ${target.noun}'s detector document (stored as a new version)`,
          params: Params,
        },
      },
      async (request, reply) => {
        await load(request, request.params.id);
        await store(request, request.params.id, null);
        return reply.code(204).send();
      },
    );
  }

  app.get(
    '/sensors/:id/detectors/effective',
    {
      config: { auth: 'principal', permission: 'detection:read' },
      schema: {
        tags,
        summary: 'What a sensor is scored with: the defaults under its type’s document under its own',
        params: Params,
        response: {
          200: Type.Object({
            sensorTypeVersion: Type.Integer(),
            sensorVersion: Type.Integer(),
            config: Type.Record(Type.String(), Type.Unknown()),
          }),
        },
      },
    },
    async (request) => {
      const tenantId = request.principal!.tenantId;
      const sensor = await findSensor(db, tenantId, request.params.id);
      if (!sensor) throw new AppError('NOT_FOUND', 'No such sensor');
      const docs = await currentConfigs(db, tenantId, [
        { scope: 'sensor_type', targetId: sensor.typeId },
        { scope: 'sensor', targetId: sensor.id },
      ]);
      const t = docs.get(`sensor_type:${sensor.typeId}`);
      const s = docs.get(`sensor:${sensor.id}`);
      return {
        sensorTypeVersion: t?.version ?? 0,
        sensorVersion: s?.version ?? 0,
        config: { ...effectiveConfig(t?.document, s?.document) },
      };
    },
  );
}
