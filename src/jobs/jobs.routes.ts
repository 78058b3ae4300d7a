import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../http/errors/catalogue.js';
import { decodeCursor, PageOf, PageQuery, page } from '../http/pagination.js';
import { isoOrNull } from '../http/present.js';
import type { Services } from '../services.js';
import { listRuns } from './job-runs.repository.js';

const RunSchema = Type.Object({
  id: Type.Integer(),
  job: Type.String(),
  scheduledFor: Type.String({ format: 'date-time' }),
  instanceId: Type.String(),
  status: Type.String(),
  attempts: Type.Integer(),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  durationMs: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
});

/** Recorded background job runs, for platform administrators. */
export async function jobRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/admin/jobs/runs',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: {
        tags: ['admin'],
        querystring: Type.Object(
          {
            ...PageQuery,
            job: Type.Optional(Type.String({ maxLength: 100 })),
            status: Type.Optional(
              Type.Union(
                ['running', 'succeeded', 'failed', 'timed_out', 'abandoned'].map((s) => Type.Literal(s)),
              ),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: PageOf(RunSchema),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const beforeId = decodeCursor<number>(request.query.cursor, 'number');
      if (request.query.cursor && beforeId === undefined) {
        throw new AppError('VALIDATION_FAILED', 'Bad cursor', {
          errors: [{ pointer: '/query/cursor', detail: 'is not a cursor from this endpoint' }],
        });
      }
      const runs = await listRuns(opts.services.database.db, {
        job: request.query.job,
        status: request.query.status as Parameters<typeof listRuns>[1]['status'],
        beforeId,
        limit,
      });
      return page(
        runs.map((r) => ({
          ...r,
          scheduledFor: r.scheduledFor.toISOString(),
          startedAt: r.startedAt.toISOString(),
          finishedAt: isoOrNull(r.finishedAt),
        })),
        limit,
        (r) => r.id,
      );
    },
  );
}
