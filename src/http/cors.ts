import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const ALLOWED_HEADERS =
  'authorization, content-type, content-encoding, idempotency-key, x-request-id, x-csrf-token';
const EXPOSED_HEADERS =
  'x-request-id, retry-after, location, ratelimit-limit, ratelimit-remaining, ratelimit-reset, ratelimit-policy';
const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';

/**
 * CORS for the origins in CORS_ORIGINS only (exact `scheme://host[:port]` matches; never `*`, and
 * `null` is never allowed). An allowed origin gets its own name back with credentials allowed;
 * any other origin gets no CORS headers at all, so the browser refuses it. Preflights are
 * answered here, before authentication and rate limits (they carry no credentials).
 */
export const corsPlugin = fp(
  async (app: FastifyInstance, opts: { origins: readonly string[] }) => {
    const allowed = new Set(opts.origins);
    app.addHook('onRequest', async (request, reply) => {
      const origin = request.headers.origin;
      const ok = typeof origin === 'string' && allowed.has(origin);
      // Caches must not serve one origin's answer to another.
      reply.header('vary', 'Origin');
      if (ok) {
        reply.header('access-control-allow-origin', origin);
        reply.header('access-control-allow-credentials', 'true');
        reply.header('access-control-expose-headers', EXPOSED_HEADERS);
      }
      if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
        if (ok) {
          reply.header('access-control-allow-methods', METHODS);
          reply.header('access-control-allow-headers', ALLOWED_HEADERS);
          reply.header('access-control-max-age', '600');
        }
        return reply.code(204).send();
      }
    });
  },
  { name: 'vigil-cors' },
);
