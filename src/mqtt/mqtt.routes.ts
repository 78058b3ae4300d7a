import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { countPresence } from '../registry/devices.repository.js';
import type { Services } from '../services.js';

const Mode = Type.Union([Type.Literal('embedded'), Type.Literal('external'), Type.Literal('off')]);

const TenantStatus = Type.Object({
  mode: Mode,
  connected: Type.Boolean(),
  /** Embedded broker: this tenant's device connections now (null through an external broker). */
  connections: Type.Union([Type.Integer(), Type.Null()]),
  connectionLimit: Type.Union([Type.Integer(), Type.Null()]),
  devices: Type.Object({ total: Type.Integer(), online: Type.Integer() }),
});

const Counters = Type.Object({
  authFailures: Type.Integer(),
  aclViolations: Type.Integer(),
  messages: Type.Integer(),
  readingsAccepted: Type.Integer(),
  readingsRejected: Type.Integer(),
  notStored: Type.Integer(),
  connectionLimitRefusals: Type.Integer(),
});

const InstanceStatus = Type.Object({
  mode: Mode,
  connected: Type.Boolean(),
  instanceId: Type.String(),
  subscribers: Type.Union([Type.Object({ connected: Type.Integer(), total: Type.Integer() }), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  connectionsByTenant: Type.Array(Type.Object({ tenantId: Type.String(), connections: Type.Integer() })),
  counters: Type.Union([Counters, Type.Null()]),
});

/** The MQTT side's state: per tenant for its members, per instance (with counters) for platform admins. */
export async function mqttRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;

  app.get(
    '/mqtt/status',
    {
      config: { auth: 'principal', permission: 'devices:read' },
      schema: { tags: ['mqtt'], response: { 200: TenantStatus } },
    },
    async (request) => {
      const tenantId = request.principal!.tenantId;
      const status = services.mqtt.current();
      const embedded = status?.mode === 'embedded';
      return {
        mode: status?.mode ?? ('off' as const),
        connected: status?.connected ?? false,
        connections: embedded ? (status.connectionsByTenant?.get(tenantId) ?? 0) : null,
        connectionLimit: embedded ? (await services.tenantQuotas.get(tenantId)).mqttConnections : null,
        devices: await countPresence(services.database.db, tenantId),
      };
    },
  );

  app.get(
    '/admin/mqtt',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: { tags: ['admin'], response: { 200: InstanceStatus } },
    },
    async () => {
      const status = services.mqtt.current();
      return {
        mode: status?.mode ?? ('off' as const),
        connected: status?.connected ?? false,
        instanceId: services.config.instanceId,
        subscribers: status?.subscribers ?? null,
        lastError: status?.lastError ?? null,
        connectionsByTenant: [...(status?.connectionsByTenant ?? [])].map(([tenantId, connections]) => ({
          tenantId,
          connections,
        })),
        counters: status ? { ...status.counters } : null,
      };
    },
  );
}
