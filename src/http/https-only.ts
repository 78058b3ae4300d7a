import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from './errors/catalogue.js';

/**
 * With REQUIRE_HTTPS: a browser navigating over plain HTTP (GET/HEAD asking for HTML) is
 * redirected to the same URL on https://; anything else — API calls, whose credentials have
 * already crossed the wire in clear — is refused with 403 HTTPS_REQUIRED rather than silently
 * redirected, so the mistake is seen and fixed. Health probes (`rateLimit: false` routes) pass, as
 * load balancers probe over HTTP. `request.protocol` honours X-Forwarded-Proto only from proxies
 * named in TRUST_PROXY.
 */
export const httpsOnlyPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', async (request, reply) => {
      if (request.protocol === 'https' || request.routeOptions.config?.rateLimit === false) return;
      const navigating =
        (request.method === 'GET' || request.method === 'HEAD') &&
        /\btext\/html\b/.test(request.headers.accept ?? '') &&
        request.headers.authorization === undefined;
      if (navigating && request.host) {
        return reply.redirect(`https://${request.host}${request.url}`, 301);
      }
      throw new AppError('HTTPS_REQUIRED', 'Use https:// — this server refuses plain HTTP for API calls', {
        fields: { url: `https://${request.host}${request.url}` },
      });
    });
  },
  { name: 'vigil-https-only' },
);
