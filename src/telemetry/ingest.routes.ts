import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import type { ParsedBatch } from './formats/batch.js';
import { parseLineProtocol } from './formats/line-protocol.js';
import { parseNative } from './formats/native.js';
import { parseSenml } from './formats/senml.js';
import { acceptGzip, ingestParsed } from './ingest.http.js';

export const IngestResultSchema = Type.Object({
  accepted: Type.Integer(),
  duplicates: Type.Integer(),
  rejected: Type.Array(Type.Object({ index: Type.Integer(), code: Type.String(), detail: Type.String() })),
  dryRun: Type.Optional(Type.Boolean()),
});

function tooMany(count: number, max: number): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', `At most ${max} readings per request (got ${count})`, {
    fields: { limit: max, received: count },
  });
}

function parseBody(
  contentType: string,
  body: unknown,
  receivedAt: number,
  precision: 'ns' | 'us' | 'ms' | 's',
  maxReadings: number,
): ParsedBatch {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/senml+json') {
    if (!Array.isArray(body))
      throw new AppError('VALIDATION_FAILED', 'A SenML pack is a JSON array of records', {
        errors: [{ pointer: '/body', detail: 'must be an array' }],
      });
    // Counted before any per-reading work.
    if (body.length > maxReadings) throw tooMany(body.length, maxReadings);
    return parseSenml(body, receivedAt);
  }
  if (type === 'application/json') {
    const readings = (body as { readings?: unknown } | null)?.readings;
    if (typeof body !== 'object' || body === null || Array.isArray(body) || !Array.isArray(readings)) {
      throw new AppError('VALIDATION_FAILED', 'Expected {"readings": [...]}', {
        errors: [{ pointer: '/body/readings', detail: 'must be an array of readings' }],
      });
    }
    if (readings.length > maxReadings) throw tooMany(readings.length, maxReadings);
    return parseNative({ readings }, receivedAt);
  }
  if (type === 'text/plain') return parseLineProtocol(String(body), receivedAt, precision);
  throw new AppError(
    'UNSUPPORTED_MEDIA_TYPE',
    'Send application/json, application/senml+json or text/plain (InfluxDB line protocol)',
  );
}

/**
 * `POST /api/v1/ingest`: readings from a device (its own sensors only) or an API key with
 * telemetry:write, as Vigil JSON, SenML or line protocol. 200 when at least one reading was
 * accepted or was already stored; 422 when none could be.
 */
export async function ingestRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  acceptGzip(app);
  app.post(
    '/ingest',
    {
      bodyLimit: services.config.telemetry.maxBytes,
      config: { auth: 'ingest', permission: 'telemetry:write', rateLimit: 'ingest', guardBody: false },
      schema: {
        tags: ['telemetry'],
        summary: 'Send readings (Vigil JSON, SenML JSON or InfluxDB line protocol)',
        querystring: Type.Object(
          {
            precision: Type.Optional(
              Type.Union([Type.Literal('ns'), Type.Literal('us'), Type.Literal('ms'), Type.Literal('s')]),
            ),
            dryRun: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: IngestResultSchema },
      },
    },
    async (request) => {
      const receivedAt = Date.now();
      const batch = parseBody(
        request.headers['content-type'] ?? '',
        request.body,
        receivedAt,
        request.query.precision ?? 'ns',
        services.config.telemetry.maxReadings,
      );
      const result = await ingestParsed(services, request, batch, {
        receivedAt,
        dryRun: request.query.dryRun === true,
      });
      return request.query.dryRun ? { ...result, dryRun: true } : result;
    },
  );
}
