import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Principal } from '../../auth/principal.js';
import { clientKey } from '../client-key.js';
import type { RateLimitClass, RateLimits } from './rate-limits.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route's rate-limit class (`default` when unset), a function choosing it per request, or
     * `false` for the few routes that must never be limited (health checks).
     */
    rateLimit?: RateLimitClass | false | ((request: FastifyRequest) => RateLimitClass);
  }
}

/** Who a request counts against: the principal when there is one, else the client IP. */
function keyOf(principal: Principal | null, ip: string): { key: string; scope: string } {
  switch (principal?.kind) {
    case 'user':
      return { key: `user:${principal.userId}`, scope: 'user' };
    case 'api-key':
      return { key: `api-key:${principal.apiKeyId}`, scope: 'API key' };
    case 'device':
      return { key: `device:${principal.deviceId}`, scope: 'device' };
    default:
      return { key: `ip:${ip}`, scope: 'client IP' };
  }
}

/**
 * Rate limits on every route by default (unknown URLs too), after authentication so a signed-in
 * caller is counted as themselves wherever they connect from; the `auth` class always counts by
 * client IP (`request.ip`, which honours TRUST_PROXY only). Every limited response carries
 * RateLimit-Limit / -Remaining / -Reset / -Policy; a 429 also Retry-After and a problem+json body
 * naming the limit (`limit`, `policy`, `scope`).
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, opts: { limits: RateLimits }) => {
    if (!opts.limits.config.enabled) return;
    app.addHook('onRequest', async (request, reply) => {
      const choice = request.routeOptions.config?.rateLimit;
      if (choice === false) return;
      const cls = typeof choice === 'function' ? choice(request) : (choice ?? 'default');
      const { key, scope } =
        cls === 'auth'
          ? { key: `ip:${clientKey(request.ip)}`, scope: 'client IP' }
          : keyOf(request.principal, clientKey(request.ip));
      const state = await opts.limits.hit(cls, key, scope);
      reply.header('ratelimit-limit', state.limit);
      reply.header('ratelimit-remaining', state.remaining);
      reply.header('ratelimit-reset', state.resetS);
      reply.header('ratelimit-policy', state.policy);
    });
  },
  { name: 'vigil-rate-limit', dependencies: ['vigil-auth'] },
);
