import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../http/errors/catalogue.js';
import { decodeCursor, PageQuery, page } from '../http/pagination.js';
import { isoOrNull } from '../http/present.js';
import { listRuns } from '../jobs/job-runs.repository.js';
import type { Services } from '../services.js';
import { recentRunsByJob } from './monitoring.repository.js';
import {
  AlarmStatsSchema,
  BusinessSchema,
  HealthSchema,
  JobRunSchema,
  JobSummarySchema,
  MetricsSummarySchema,
  SecuritySchema,
} from './monitoring.schemas.js';
import { MonitoringReports } from './monitoring.service.js';
import { failureStreak } from './self-monitor.rules.js';

const WEEK = 7 * 86_400_000;
const JOB_STATUSES = ['running', 'succeeded', 'failed', 'timed_out', 'abandoned'] as const;

/**
 * The monitoring API, for platform administrators: this instance's health, the platform's key
 * figures, the threat report, alarm statistics and business figures across tenants, and job runs.
 * Tenant-agnostic; every query bounded (docs/monitoring.md).
 */
export async function monitoringRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const reports = new MonitoringReports(services);
  app.addHook('onClose', async () => reports.close());
  const tags = ['monitoring'];
  const config = { auth: 'user', platformAdmin: true } as const;

  app.get(
    '/health',
    {
      config,
      schema: {
        tags,
        summary:
          "This instance's health: dependencies with latency, CPU, memory, event-loop delay, disk of the data directory",
        response: { 200: HealthSchema },
      },
    },
    () => reports.health(),
  );

  app.get(
    '/metrics-summary',
    {
      config,
      schema: {
        tags,
        summary:
          'Key rates and counts: readings accepted and refused over the last minute and hour, detection queue and delay, open alarms, notification outbox',
        response: { 200: MetricsSummarySchema },
      },
    },
    () => reports.metricsSummary(),
  );

  app.get(
    '/security',
    {
      config,
      schema: {
        tags,
        summary: 'Threat report of the last 24 hours: security events, blocked IPs, failed logins',
        response: { 200: SecuritySchema },
      },
    },
    () => reports.security(),
  );

  app.get(
    '/alarms',
    {
      config,
      schema: {
        tags,
        summary:
          'Alarm statistics across the tenants: open by severity, raised and resolved in 24 h, mean times to acknowledge and resolve, noisiest keys',
        response: { 200: AlarmStatsSchema },
      },
    },
    () => reports.alarms(),
  );

  app.get(
    '/business',
    {
      config,
      schema: {
        tags,
        summary:
          'Tenants, active users, devices online, readings per day per tenant (last 7 days, estimated)',
        response: { 200: BusinessSchema },
      },
    },
    () => reports.business(),
  );

  app.get(
    '/jobs',
    {
      config,
      schema: {
        tags,
        summary: 'Recent background job runs (newest first) and each job’s latest outcome',
        querystring: Type.Object(
          {
            ...PageQuery,
            job: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            status: Type.Optional(Type.Union(JOB_STATUSES.map((s) => Type.Literal(s)))),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(JobRunSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
            jobs: Type.Array(JobSummarySchema),
          }),
        },
      },
    },
    async (request) => {
      const { db } = services.database;
      const limit = request.query.limit ?? 50;
      const beforeId = decodeCursor<number>(request.query.cursor, 'number');
      if (request.query.cursor && beforeId === undefined) {
        throw new AppError('VALIDATION_FAILED', 'Bad cursor', {
          errors: [{ pointer: '/query/cursor', detail: 'is not a cursor from this endpoint' }],
        });
      }
      const runs = await listRuns(db, {
        job: request.query.job,
        status: request.query.status,
        beforeId,
        limit,
      });
      const byJob = await recentRunsByJob(db, Date.now() - WEEK, 20);
      const jobs = [...byJob].map(([job, list]) => ({
        job,
        lastStatus: list[0]!.status,
        lastRunAt: new Date(list[0]!.startedAt).toISOString(),
        consecutiveFailures: failureStreak(list.map((r) => r.status)),
      }));
      return {
        ...page(
          runs.map((r) => ({
            ...r,
            scheduledFor: r.scheduledFor.toISOString(),
            startedAt: r.startedAt.toISOString(),
            finishedAt: isoOrNull(r.finishedAt),
          })),
          limit,
          (r) => r.id,
        ),
        jobs,
      };
    },
  );
}
