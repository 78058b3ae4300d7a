import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from './metrics.js';

/** The `route` label of requests no route matched (404s, probes for random URLs). */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Times every response by its route pattern (`/api/v1/sensors/:id`, never the raw URL, so
 * cardinality stays bounded by the route table), method and status code.
 */
export const httpMetricsPlugin = fp(
  async (app: FastifyInstance, opts: { metrics: Metrics }) => {
    const { httpDuration } = opts.metrics;
    app.addHook('onResponse', (request, reply, done) => {
      httpDuration.observe(
        {
          method: METHODS.has(request.method) ? request.method : 'OTHER',
          route: request.routeOptions.url ?? UNMATCHED_ROUTE,
          status_code: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
      done();
    });
  },
  { name: 'vigil-http-metrics' },
);
