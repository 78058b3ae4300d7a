import cookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { alarmRuleRoutes } from './alarms/alarm-rules.routes.js';
import { alarmRoutes } from './alarms/alarms.routes.js';
import { maintenanceWindowRoutes } from './alarms/maintenance-windows.routes.js';
import { apiKeyRoutes } from './api-keys/api-keys.routes.js';
import { auditRoutes } from './audit/audit.routes.js';
import { recordAudit } from './audit/audit.service.js';
import { authPlugin } from './auth/auth.plugin.js';
import { authRoutes } from './auth/auth.routes.js';
import { bootstrapRoutes } from './auth/bootstrap.routes.js';
import { backtestRoutes } from './detection/backtest/backtests.routes.js';
import { detectorConfigRoutes } from './detection/config/detector-config.routes.js';
import { modelRoutes } from './detection/models/models.routes.js';
import { anomalyRoutes } from './detection/pipeline/anomalies.routes.js';
import { detectionStatusRoutes } from './detection/pipeline/detection-status.routes.js';
import { deviceCredentialRoutes } from './devices/device-credentials.routes.js';
import { toTrustProxy } from './http/client-address.js';
import { clientKey } from './http/client-key.js';
import { corsPlugin } from './http/cors.js';
import { AppError } from './http/errors/catalogue.js';
import { registerErrorHandling } from './http/errors/error-handler.js';
import { httpsOnlyPlugin } from './http/https-only.js';
import { registerJsonParser } from './http/json-parser.js';
import { RequestLogController } from './http/log-controller.js';
import { registerOpenApi } from './http/openapi.js';
import { rateLimitPlugin } from './http/rate-limit/rate-limit.plugin.js';
import { genRequestId, REQUEST_ID_HEADER } from './http/request-id.js';
import { clientErrorHandler, loadSheddingPlugin } from './http/request-limits.js';
import { securityHeadersPlugin } from './http/security-headers.js';
import { tlsOptions } from './http/tls.js';
import { webUiPlugin } from './http/web-ui.js';
import { incidentRoutes } from './incidents/incidents.routes.js';
import { workOrderRoutes } from './incidents/work-orders.routes.js';
import { jobRoutes } from './jobs/jobs.routes.js';
import { httpMetricsPlugin } from './metrics/http-metrics.js';
import { metricsRoutes } from './metrics/metrics.routes.js';
import { healthRoutes } from './monitoring/health.routes.js';
import { monitoringRoutes } from './monitoring/monitoring.routes.js';
import { platformRoutes } from './monitoring/platform.routes.js';
import { ProcessPressure } from './monitoring/pressure.js';
import { mqttRoutes } from './mqtt/mqtt.routes.js';
import { notificationChannelRoutes } from './notifications/channels.routes.js';
import { notificationPreferenceRoutes } from './notifications/preferences.routes.js';
import { StreamServer } from './realtime/stream.server.js';
import { assetRoutes } from './registry/assets.routes.js';
import { deviceRoutes } from './registry/devices.routes.js';
import { importRoutes } from './registry/import.routes.js';
import { sensorTypeRoutes } from './registry/sensor-types.routes.js';
import { sensorRoutes } from './registry/sensors.routes.js';
import { siteRoutes } from './registry/sites.routes.js';
import { guardPlugin } from './security/guard/guard.plugin.js';
import { securityRoutes } from './security/security.routes.js';
import type { Services } from './services.js';
import { influxRoutes } from './telemetry/influx.routes.js';
import { ingestRoutes } from './telemetry/ingest.routes.js';
import { readingRoutes } from './telemetry/query/readings.routes.js';
import { tenantQuotaRoutes } from './tenants/tenant-quotas.routes.js';
import { adminTenantRoutes, tenantRoutes } from './tenants/tenants.routes.js';
import { adminUserRoutes } from './users/admin-users.routes.js';
import { invitationAcceptRoutes, memberRoutes } from './users/members.routes.js';
import { VERSION } from './version.js';

export interface AppOptions {
  /** Set by the server during graceful shutdown so /readyz turns 503 and load balancers drain. */
  readonly isShuttingDown?: () => boolean;
}

/**
 * Builds the HTTP application from its services without listening, so tests drive it with
 * `inject()` and `vigil serve` listens. Every feature registers its routes here.
 */
declare module 'fastify' {
  interface FastifyInstance {
    /** The live stream (WebSocket) server. */
    stream: StreamServer;
  }
}

export async function buildApp(services: Services, opts: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = services;
  const serverOptions = {
    maxHeaderSize: config.http.maxHeaderBytes,
    headersTimeout: config.http.headersTimeoutMs,
    // How often Node checks the header and request timeouts (30 s by default: too coarse).
    connectionsCheckingInterval: 1000,
  };
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    genReqId: genRequestId,
    logController: new RequestLogController(),
    bodyLimit: config.http.bodyLimit,
    trustProxy: toTrustProxy(config.http.trustProxy),
    requestTimeout: config.http.requestTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    ...(config.http.tls
      ? { https: { ...serverOptions, ...tlsOptions(config.http.tls) } }
      : { http: serverOptions }),
    // Parser-level errors (431, 408, unparsable HTTP) as problem+json too.
    clientErrorHandler,
    // Draining is answered by the hook below, as problem+json like every other error.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    ajv: {
      customOptions: {
        // Unknown fields are an error, not silently dropped: the client learns of its typo.
        removeAdditional: false,
        allErrors: true,
        coerceTypes: 'array',
        useDefaults: true,
      },
    },
  });

  const isShuttingDown = opts.isShuttingDown ?? (() => false);
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    if (isShuttingDown()) {
      // New requests on kept-alive connections go elsewhere; /readyz turning 503 drains load balancers.
      throw new AppError('SERVICE_UNAVAILABLE', 'Shutting down', {
        headers: { 'retry-after': '1', connection: 'close' },
      });
    }
  });
  app.addHook('onSend', async (_request, reply) => {
    // A request that was in flight when draining began must not leave its keep-alive socket open
    // behind it: the server only finishes closing when every socket has.
    if (isShuttingDown()) reply.header('connection', 'close');
  });

  registerErrorHandling(app, { exposeStacks: config.env === 'development' });
  registerJsonParser(app, { maxDepth: config.http.jsonMaxDepth });
  if (config.http.apiDocs) await registerOpenApi(app, { version: VERSION });

  await app.register(cookie);
  await app.register(httpMetricsPlugin, { metrics: services.metrics });
  const pressure = new ProcessPressure();
  app.addHook('onClose', async () => pressure.close());
  // The live stream takes the upgrade requests of GET /api/v1/stream (docs/realtime.md).
  const stream = new StreamServer(services);
  stream.attach(app.server);
  app.decorate('stream', stream);
  app.addHook('preClose', async () => {
    stream.close();
    await stream.closingSlots;
  });
  const { shed } = config.http;
  await app.register(loadSheddingPlugin, {
    maxUrlBytes: config.http.maxUrlBytes,
    pressure,
    limits: {
      maxInFlight: shed.maxInFlight,
      maxEventLoopDelayMs: shed.maxEventLoopDelayMs,
      maxHeapUsedBytes: Math.floor((pressure.heapLimitBytes * shed.maxHeapPercent) / 100),
    },
  });
  await app.register(securityHeadersPlugin, { production: config.isProduction });
  if (config.guard.enabled) {
    await app.register(guardPlugin, {
      guard: services.guard,
      // Automatic blocks are audited like the ones administrators make.
      onBlock: (block, request) =>
        recordAudit(services, {
          actorType: 'system',
          action: 'security.block',
          outcome: 'success',
          severity: 'warning',
          tenantId: null,
          targetType: 'ip',
          targetId: block.ip,
          ip: request.ip,
          requestId: request.id,
          details: {
            until: new Date(block.until).toISOString(),
            offense: block.offense,
            reason: block.reason,
          },
        }),
    });
    app.addHook('onClose', async () => services.guard.flush());
  }
  await app.register(corsPlugin, { origins: config.http.corsOrigins });
  if (config.http.requireHttps) await app.register(httpsOnlyPlugin);
  await app.register(authPlugin, {
    services,
    // Requests that fail authentication never reach the per-principal limits: count them per IP.
    ...(config.rateLimit.enabled
      ? {
          onAuthFailure: async (request: FastifyRequest) => {
            await services.rateLimits.hit('default', `ip:${clientKey(request.ip)}`, 'client IP');
          },
        }
      : {}),
  });
  await app.register(rateLimitPlugin, { limits: services.rateLimits });
  await app.register(authRoutes, { prefix: '/api/v1/auth', services });
  await app.register(invitationAcceptRoutes, { prefix: '/api/v1/auth', services });
  await app.register(bootstrapRoutes, { prefix: '/api/v1/auth', services });
  await app.register(tenantRoutes, { prefix: '/api/v1', services });
  await app.register(adminTenantRoutes, { prefix: '/api/v1/admin', services });
  await app.register(tenantQuotaRoutes, { prefix: '/api/v1/admin', services });
  await app.register(adminUserRoutes, { prefix: '/api/v1/admin', services });
  await app.register(memberRoutes, { prefix: '/api/v1', services });
  await app.register(apiKeyRoutes, { prefix: '/api/v1', services });
  await app.register(deviceCredentialRoutes, { prefix: '/api/v1', services });
  await app.register(sensorTypeRoutes, { prefix: '/api/v1', services });
  await app.register(siteRoutes, { prefix: '/api/v1', services });
  await app.register(assetRoutes, { prefix: '/api/v1', services });
  await app.register(deviceRoutes, { prefix: '/api/v1', services });
  await app.register(sensorRoutes, { prefix: '/api/v1', services });
  await app.register(importRoutes, { prefix: '/api/v1', services });
  await app.register(ingestRoutes, { prefix: '/api/v1', services });
  await app.register(readingRoutes, { prefix: '/api/v1', services });
  await app.register(influxRoutes, { services });
  await app.register(auditRoutes, { prefix: '/api/v1', services });
  await app.register(jobRoutes, { prefix: '/api/v1', services });
  await app.register(mqttRoutes, { prefix: '/api/v1', services });
  await app.register(securityRoutes, { prefix: '/api/v1', services });
  await app.register(detectorConfigRoutes, { prefix: '/api/v1', services });
  await app.register(anomalyRoutes, { prefix: '/api/v1', services });
  await app.register(modelRoutes, { prefix: '/api/v1', services });
  await app.register(backtestRoutes, { prefix: '/api/v1', services });
  await app.register(alarmRoutes, { prefix: '/api/v1', services });
  await app.register(alarmRuleRoutes, { prefix: '/api/v1', services });
  await app.register(maintenanceWindowRoutes, { prefix: '/api/v1', services });
  await app.register(notificationChannelRoutes, { prefix: '/api/v1', services });
  await app.register(notificationPreferenceRoutes, { prefix: '/api/v1', services });
  await app.register(incidentRoutes, { prefix: '/api/v1', services });
  await app.register(workOrderRoutes, { prefix: '/api/v1', services });
  await app.register(detectionStatusRoutes, { prefix: '/api/v1/admin', services });
  await app.register(monitoringRoutes, { prefix: '/api/v1/monitoring', services });
  // The platform tenant's alarms and channels (self-monitoring), for platform admins: docs/monitoring.md.
  await app.register(platformRoutes, { prefix: '/api/v1/monitoring/platform', services });

  await app.register(healthRoutes, {
    services,
    version: VERSION,
  });
  // Prometheus: bearer METRICS_TOKEN, or open in development; METRICS_ADDRESS serves it apart (server.ts).
  await app.register(metricsRoutes, { services });
  // The control-room UI (dist/web) at `/` and its client-side routes; after every hook above.
  await app.register(webUiPlugin, {});

  return app;
}
