import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { MetricsConfig } from '../config/metrics.config.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import type { Metrics } from './metrics.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Whether `Authorization` carries the expected bearer token. Both sides are hashed first, so the
 * comparison takes the same time whatever the length or content of what was sent.
 */
export function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  const sent = digest(m ? m[1]! : '');
  return timingSafeEqual(sent, expected) && m !== null;
}

/**
 * `GET /metrics` on the main server: with METRICS_TOKEN for a bearer of it only (401 otherwise);
 * open in development and test when neither METRICS_TOKEN nor METRICS_ADDRESS is set; absent
 * otherwise (production without a token, or a separate listener configured).
 */
export async function metricsRoutes(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  const { metrics } = opts.services;
  const { main, token } = opts.services.config.metrics;
  if (main === 'off') return;
  const expected = main === 'token' && token ? digest(token) : undefined;
  app.get('/metrics', { config: { auth: 'public' }, schema: { hide: true } }, async (request, reply) => {
    if (expected && !bearerMatches(request.headers.authorization, expected)) {
      throw new AppError('UNAUTHENTICATED', 'Send Authorization: Bearer <METRICS_TOKEN>', {
        headers: { 'www-authenticate': 'Bearer realm="vigil-metrics"' },
      });
    }
    const body = await metrics.render();
    return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(body);
  });
}

export interface MetricsListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * METRICS_ADDRESS: a plain HTTP listener that serves only `GET /metrics`, without a token — for a
 * private network the operator controls (bind it to that interface, not to the internet).
 */
export async function startMetricsListener(
  metrics: Metrics,
  address: NonNullable<MetricsConfig['address']>,
  logger: Logger,
): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', 'no-store');
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end();
      return;
    }
    metrics.render().then(
      (body) => {
        res.writeHead(200, { 'content-type': metrics.contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: Error) => {
        logger.error({ err: err.message }, 'metrics: rendering failed');
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics unavailable\n');
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ host: address.host, port }, 'metrics listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
