import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.js';

const StatusSchema = Type.Object({
  enabled: Type.Boolean(),
  sensors: Type.Integer({ description: 'Sensors whose detector state is held in memory' }),
  stateBytes: Type.Integer(),
  queued: Type.Integer({ description: 'Readings committed and not yet scored' }),
  scored: Type.Integer(),
  anomalies: Type.Integer(),
  transitions: Type.Integer(),
  errors: Type.Integer(),
  checkpoints: Type.Integer(),
  lagMs: Type.Object({ p50: Type.Number(), p99: Type.Number(), samples: Type.Integer() }),
});

/** This instance's detection pipeline, for platform administrators (and the benchmark). */
export async function detectionStatusRoutes(
  base: FastifyInstance,
  opts: { services: Services },
): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/detection',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: {
        tags: ['admin'],
        summary: "This instance's detection pipeline: queue, throughput counters, commit-to-scored delay",
        response: { 200: StatusSchema },
      },
    },
    async () => {
      const d = opts.services.detection;
      if (!d) {
        const zero = {
          sensors: 0,
          stateBytes: 0,
          queued: 0,
          scored: 0,
          anomalies: 0,
          transitions: 0,
          errors: 0,
          checkpoints: 0,
        };
        return { enabled: false, ...zero, lagMs: { p50: 0, p99: 0, samples: 0 } };
      }
      const { lagMs: _samples, ...counters } = d.stats;
      return {
        enabled: true,
        sensors: d.sensorCount,
        stateBytes: d.stateBytes(),
        queued: d.queueLength,
        ...counters,
        lagMs: d.lagPercentiles(),
      };
    },
  );
}
