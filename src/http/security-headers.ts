import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** For the web UI's HTML: its own scripts, styles and API only; nothing inline, no eval. */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** For everything else (JSON, CSV): nothing may load or frame it. */
export const API_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PERMISSIONS_POLICY = [
  'accelerometer=()',
  'camera=()',
  'geolocation=()',
  'gyroscope=()',
  'magnetometer=()',
  'microphone=()',
  'payment=()',
  'usb=()',
  'fullscreen=(self)',
].join(', ');

/** Two years: past the six months browsers' preload lists and the Observatory ask for. */
const HSTS = 'max-age=63072000; includeSubDomains';

/**
 * Security headers on every response. A route that sets its own Content-Security-Policy keeps it
 * (the API docs page, whose policy lists its script hashes); data responses are not cached
 * (`Cache-Control: no-store`) unless the route says otherwise. HSTS is sent in production over
 * HTTPS (directly, or through a proxy named in TRUST_PROXY).
 */
export const securityHeadersPlugin = fp(
  async (app: FastifyInstance, opts: { production: boolean }) => {
    app.addHook('onSend', async (request, reply, payload) => {
      const html = String(reply.getHeader('content-type') ?? '').startsWith('text/html');
      if (!reply.hasHeader('content-security-policy'))
        reply.header('content-security-policy', html ? UI_CSP : API_CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('cross-origin-opener-policy', 'same-origin');
      reply.header('cross-origin-resource-policy', 'same-origin');
      reply.header('permissions-policy', PERMISSIONS_POLICY);
      if (!html && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      if (opts.production && request.protocol === 'https') reply.header('strict-transport-security', HSTS);
      return payload;
    });
  },
  { name: 'vigil-security-headers' },
);
