import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import { dependencyChecks, runChecks } from './health.service.js';

const CheckSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('failed')]),
  latencyMs: Type.Number(),
});

/** Liveness and readiness for orchestrators and load balancers. Both are unauthenticated and cheap. */
export async function healthRoutes(
  app: FastifyInstance,
  opts: { services: Services; version: string },
): Promise<void> {
  const started = Date.now();
  const checks = dependencyChecks(opts.services);

  app.get(
    '/healthz',
    {
      // Probes must always get through, whatever the load.
      config: { rateLimit: false },
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process is up and serving. Checks no dependency.',
        response: {
          200: Type.Object({ status: Type.Literal('ok'), version: Type.String(), uptimeS: Type.Integer() }),
        },
      },
    },
    async () => ({
      status: 'ok' as const,
      version: opts.version,
      uptimeS: Math.floor((Date.now() - started) / 1000),
    }),
  );

  app.get(
    '/readyz',
    {
      config: { rateLimit: false },
      schema: {
        tags: ['health'],
        summary: 'Readiness: the database and every configured dependency answer. 503 names what failed.',
        response: {
          200: Type.Object({ status: Type.Literal('ok'), checks: Type.Record(Type.String(), CheckSchema) }),
        },
      },
    },
    async (request) => {
      const result = await runChecks(checks, opts.services.config.readinessTimeoutMs);
      // Driver messages name hosts and users: they go to the log, callers (unauthenticated) get names only.
      const publicChecks = Object.fromEntries(
        Object.entries(result.checks).map(([name, { status, latencyMs }]) => [name, { status, latencyMs }]),
      );
      if (!result.ok) {
        const failed = Object.entries(result.checks).filter(([, c]) => c.status === 'failed');
        request.log.warn({ failed: Object.fromEntries(failed.map(([n, c]) => [n, c.error])) }, 'not ready');
        throw new AppError(
          'DEPENDENCY_UNAVAILABLE',
          `Not ready: ${failed.map(([name]) => name).join(', ')}`,
          {
            headers: { 'retry-after': '5' },
            fields: { checks: publicChecks },
          },
        );
      }
      return { status: 'ok' as const, checks: publicChecks };
    },
  );
}
