import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * OpenAPI 3.1 generated from the route schemas. Must be registered before the routes it
 * describes. `/openapi.json` is the machine-readable document, `/docs` the interactive UI.
 */
export async function registerOpenApi(app: FastifyInstance, opts: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Vigil API',
        version: opts.version,
        description:
          'Sensor fleet monitoring: ingest, storage, detection, alarms. Errors are RFC 9457 problem+json documents with a stable `code`.',
      },
      tags: [{ name: 'health', description: 'Liveness and readiness' }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
