import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { auditContext, recordAuditIn } from '../audit/audit.service.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import { parseCsv } from './csv.js';
import { COLUMNS, IMPORT_KINDS, importRegistry } from './import.service.js';
import { invalidateSensorsOnWrite } from './registry.util.js';

const MAX_ROWS = 10_000;
const MAX_BYTES = 5 * 1024 * 1024;

/**
 * CSV bulk import: `POST /api/v1/{kind}/import` with `Content-Type: text/csv`. All rows are
 * checked first; any problem answers 422 listing every failing row and column, and nothing is
 * written. References name other objects by key.
 */
export async function importRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  invalidateSensorsOnWrite(app, opts.services.sensorDirectory);
  const { services } = opts;
  app.addContentTypeParser(
    /^text\/csv\s*(;.*)?$/i,
    { parseAs: 'string', bodyLimit: MAX_BYTES },
    (_req, body, done) => {
      done(null, body);
    },
  );

  for (const kind of IMPORT_KINDS) {
    app.post(
      `/${kind}/import`,
      {
        bodyLimit: MAX_BYTES,
        config: { auth: 'principal', permission: 'devices:write' },
        schema: {
          tags: ['registry'],
          summary: `Create ${kind} from CSV (columns: ${Object.keys(COLUMNS[kind]).join(', ')}); all or nothing`,
          consumes: ['text/csv'],
          response: { 200: Type.Object({ created: Type.Integer() }) },
        },
      },
      async (request) => {
        if (typeof request.body !== 'string') {
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the file as Content-Type: text/csv');
        }
        const csv = parseCsv(request.body, { maxRows: MAX_ROWS });
        const tenantId = request.principal!.tenantId;
        return services.database.db.transaction().execute(async (trx) => {
          const result = await importRegistry(trx, tenantId, kind, csv);
          await recordAuditIn(services, trx, {
            ...auditContext(request),
            action: 'registry.import',
            outcome: 'success',
            targetType: kind,
            details: { created: result.created },
          });
          return result;
        });
      },
    );
  }
}
