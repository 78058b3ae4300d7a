import { createGunzip } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../http/errors/catalogue.js';
import { countIngested, countIngestFailure } from '../metrics/ingest-metrics.js';
import type { Services } from '../services.js';
import type { ParsedBatch } from './formats/batch.js';
import type { IngestResult } from './ingest.service.js';
import { assertReadingCount, hashBody } from './ingest.service.js';
import type { IngestSource } from './validate.js';

export function sourceOf(principal: Principal): IngestSource {
  return principal.kind === 'device'
    ? { kind: 'device', tenantId: principal.tenantId, deviceId: principal.deviceId }
    : { kind: 'api-key', tenantId: principal.tenantId };
}

/** Request bodies may be gzip-compressed (Telegraf does by default); the size limit applies after. */
export function acceptGzip(app: FastifyInstance): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'identity') return payload;
    if (encoding !== 'gzip') {
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Content-Encoding ${encoding} is not supported (use gzip or none)`,
      );
    }
    delete request.headers['content-length'];
    return payload.pipe(createGunzip());
  });
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** Limits, then stores (or with dryRun only validates) a parsed batch for the authenticated source. */
export async function ingestParsed(
  services: Services,
  request: FastifyRequest,
  batch: ParsedBatch,
  opts: { receivedAt: number; dryRun?: boolean },
): Promise<IngestResult> {
  if (opts.dryRun) return storeParsed(services, request, batch, opts);
  // InfluxDB's write routes are their own protocol in the metrics; the rest is the ingest API.
  const url = request.routeOptions.url ?? '';
  const protocol = url === '/write' || url === '/api/v2/write' ? 'influx' : 'http';
  try {
    const result = await storeParsed(services, request, batch, opts);
    countIngested(services.metrics, protocol, result);
    return result;
  } catch (err) {
    countIngestFailure(services.metrics, protocol, batch, err);
    throw err;
  }
}

async function storeParsed(
  services: Services,
  request: FastifyRequest,
  batch: ParsedBatch,
  opts: { receivedAt: number; dryRun?: boolean },
): Promise<IngestResult> {
  assertReadingCount(batch, services.config.telemetry.maxReadings, 'request');
  const source = sourceOf(request.principal!);
  const ingest = services.telemetry.ingest;
  if (opts.dryRun) return ingest.check(source, batch, opts.receivedAt);
  const key = request.headers['idempotency-key'];
  if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) {
    throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be 1–200 visible ASCII characters', {
      errors: [{ pointer: '/headers/idempotency-key', detail: 'invalid' }],
    });
  }
  if (!key) return ingest.ingest(source, batch, { receivedAt: opts.receivedAt });
  // Keys belong to their sender (another device or key cannot replay or probe them), and a
  // retry must be the same request: route, query (precision…), content type and body.
  const p = request.principal!;
  const sender =
    p.kind === 'device'
      ? `device:${p.deviceId}`
      : p.kind === 'api-key'
        ? `key:${p.apiKeyId}`
        : `user:${p.userId}`;
  const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  return ingest.ingest(source, batch, {
    receivedAt: opts.receivedAt,
    idempotencyKey: `${sender}:${key}`,
    bodyHash: hashBody(`${request.method} ${request.url}\n${request.headers['content-type'] ?? ''}\n${body}`),
  });
}
