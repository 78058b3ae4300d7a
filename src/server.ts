import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { issueBootstrapLinkIfEmpty, SETUP_LINK_FILE } from './auth/bootstrap.js';
import type { Config } from './config/config.js';
import { migrateToLatest, pendingMigrations } from './db/migrator.js';
import { reloadCertificate } from './http/tls.js';
import { createScheduler } from './jobs/jobs.js';
import type { Scheduler } from './jobs/scheduler.js';
import { type MetricsListener, startMetricsListener } from './metrics/metrics.routes.js';
import { SelfMonitor } from './monitoring/self-monitor.js';
import { EmbeddedBroker } from './mqtt/embedded-broker.js';
import { ExternalGateway } from './mqtt/external-gateway.js';
import { closeServices, createServices, type Services } from './services.js';

export class StartupError extends Error {
  override name = 'StartupError';
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly scheduler: Scheduler | undefined;
  /** Base URL the server listens on, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** Re-reads TLS_CERT / TLS_KEY (what SIGHUP does); throws, keeping the old ones, if they are bad. */
  reloadTls(): void;
  /** Port of the embedded MQTT broker, when it runs. */
  readonly mqttPort: number | undefined;
  /** All the embedded broker's listeners (TLS and WebSocket when configured). */
  readonly mqttPorts: { port: number; tlsPort?: number; wsPort?: number } | undefined;
  readonly broker: EmbeddedBroker | undefined;
  /** The subscriber to the external broker, when `MQTT_URL` is set. */
  readonly gateway: ExternalGateway | undefined;
  /** Vigil watching itself (platform alarms), unless SELF_MONITOR_INTERVAL_S=0. */
  readonly selfMonitor: SelfMonitor | undefined;
  /** Port of the separate `/metrics` listener (METRICS_ADDRESS), when configured. */
  readonly metricsPort: number | undefined;
  /** Graceful stop: refuse new work, let in-flight requests and jobs finish within the deadline, close. */
  shutdown(reason: string): Promise<{ forced: boolean }>;
}

/**
 * Development applies pending migrations at start. Production refuses to run a schema it was not
 * built for unless the operator asked for `--migrate`, so a rollout never migrates by surprise.
 */
export async function ensureSchema(services: Services, opts: { migrate: boolean }): Promise<string[]> {
  const pending = await pendingMigrations(services.database.db);
  if (pending.length === 0) return [];
  if (services.config.isProduction && !opts.migrate) {
    throw new StartupError(
      `${pending.length} pending migration(s): ${pending.join(', ')}. Run \`vigil migrate up\` first, or start with \`vigil serve --migrate\`.`,
    );
  }
  const applied = await migrateToLatest(services.database.db);
  services.logger.info({ applied }, 'applied migrations');
  return applied;
}

export async function startServer(
  config: Config,
  logger: Logger,
  opts: {
    migrate?: boolean;
    /** Lets an embedding program (or a test) add routes before the server starts listening. */
    beforeListen?: (app: FastifyInstance) => void | Promise<void>;
    /** The caller creates the first user itself (the demo): no setup link. */
    noSetupLink?: boolean;
  } = {},
): Promise<RunningServer> {
  const services = createServices(config, logger);
  let shuttingDown = false;
  let app: FastifyInstance | undefined;
  let metricsListener: MetricsListener | undefined;
  try {
    await ensureSchema(services, { migrate: opts.migrate ?? false });
    app = await buildApp(services, { isShuttingDown: () => shuttingDown });
    await opts.beforeListen?.(app);
    await app.listen({ host: config.http.host, port: config.http.port });
    if (config.metrics.address) {
      metricsListener = await startMetricsListener(
        services.metrics,
        config.metrics.address,
        logger.child({ component: 'metrics' }),
      ).catch((err: Error) => {
        throw new StartupError(
          `the metrics listener cannot listen on ${config.metrics.address!.host}:${config.metrics.address!.port}: ${err.message}`,
        );
      });
    }
  } catch (err) {
    await app?.close().catch(() => undefined);
    await closeServices(services);
    throw err;
  }
  const scheduler = config.jobs.enabled ? createScheduler(services) : undefined;
  await scheduler?.start();
  services.telemetry.startCompactor();
  services.detection?.start();
  services.alarms.start();
  services.notifications.start();
  // The embedded MQTT broker, unless an external one is configured (or MQTT is off).
  let broker: EmbeddedBroker | undefined;
  let gateway: ExternalGateway | undefined;
  let mqttPort: number | undefined;
  let mqttPorts: { port: number; tlsPort?: number; wsPort?: number } | undefined;
  if (config.mqtt.enabled && config.mqttUrl) {
    gateway = new ExternalGateway(services, logger.child({ component: 'mqtt' }));
    // Not awaited: the HTTP API serves while the broker is unreachable; mqtt.js keeps reconnecting.
    void gateway.start(config.mqttUrl, {
      clientId: config.mqtt.clientId ?? `vigil-${config.instanceId}`,
      shareGroup: config.mqtt.shareGroup,
      sessionExpiryS: config.mqtt.sessionExpiryS,
      connections: config.mqtt.subscribers,
      broker: config.mqtt.broker,
    });
  }
  if (config.mqtt.enabled && !config.mqttUrl) {
    broker = new EmbeddedBroker(services, logger.child({ component: 'mqtt' }));
    try {
      const ports = await broker.start({
        host: config.mqtt.host,
        port: config.mqtt.port,
        tls: config.mqtt.tls,
        wsPort: config.mqtt.wsPort,
      });
      mqttPort = ports.port;
      mqttPorts = ports;
    } catch (err) {
      await Promise.all([app.close(), scheduler?.stop(0), metricsListener?.close()]);
      await closeServices(services);
      throw new StartupError(
        `the embedded MQTT broker cannot listen on port ${config.mqtt.port}: ${(err as Error).message}`,
      );
    }
    logger.info(mqttPorts, 'embedded MQTT broker listening');
  }
  services.mqtt.attach(broker ?? gateway);
  // Once everything it watches runs: one per process (platform alarms dedup across instances).
  const selfMonitor = config.selfMonitor.intervalMs > 0 ? new SelfMonitor(services) : undefined;
  selfMonitor?.start();

  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  const scheme = config.http.tls ? 'https' : 'http';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  // `kill -HUP`: read a renewed certificate without a restart.
  const tls = config.http.tls;
  const reloadTls = () => {
    if (!tls) return;
    try {
      reloadCertificate(app!.server, tls);
      logger.info({ certFile: tls.certFile }, 'TLS certificate reloaded');
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'TLS certificate not reloaded; the previous one stays');
      throw err;
    }
  };
  const onHup = () => {
    try {
      reloadTls();
    } catch {
      // Logged above; a bad file must not bring the server down.
    }
  };
  if (tls) process.on('SIGHUP', onHup);
  const running = app;

  let shutdownPromise: Promise<{ forced: boolean }> | undefined;
  const shutdown = (reason: string) => {
    shutdownPromise ??= (async () => {
      process.off('SIGHUP', onHup);
      shuttingDown = true;
      const deadlineMs = config.http.shutdownTimeoutMs;
      logger.info({ reason, deadlineMs }, 'shutting down');
      let forced = false;
      const deadline = setTimeout(() => {
        forced = true;
        logger.warn('shutdown deadline reached; closing remaining connections');
        running.server.closeAllConnections();
      }, deadlineMs);
      // Stop accepting, let in-flight requests complete (idle keep-alive sockets close at once).
      await Promise.all([
        running.close(),
        scheduler?.stop(deadlineMs),
        broker?.close(),
        gateway?.close(),
        metricsListener?.close(),
      ]);
      clearTimeout(deadline);
      await selfMonitor?.stop();
      await closeServices(services);
      logger.info({ forced }, 'shutdown complete');
      return { forced };
    })();
    return shutdownPromise;
  };

  logger.info({ url, env: config.env, database: config.database.dialect }, 'vigil listening');
  const setupLink = opts.noSetupLink ? undefined : await issueBootstrapLinkIfEmpty(services, url);
  if (setupLink) announceSetupLink(config, logger, setupLink);
  else rmSync(path.join(config.dataDir, SETUP_LINK_FILE), { force: true });
  return {
    app: running,
    services,
    scheduler,
    url,
    mqttPort,
    mqttPorts,
    broker,
    gateway,
    selfMonitor,
    metricsPort: metricsListener?.port,
    shutdown,
    reloadTls,
  };
}

/**
 * The setup link is a credential: it goes to a 0600 file in DATA_DIR and, on an interactive
 * terminal, to the console — never into the log stream, which is usually shipped elsewhere.
 */
function announceSetupLink(config: Config, logger: Logger, link: string): void {
  const file = path.join(config.dataDir, SETUP_LINK_FILE);
  mkdirSync(config.dataDir, { recursive: true });
  // Remove whatever is there (a planted symlink included) and create afresh, private from the start.
  rmSync(file, { force: true });
  writeFileSync(file, `${link}\n`, { mode: 0o600, flag: 'wx' });
  logger.warn(
    { file },
    'no users yet: the one-time setup link (valid 1 hour) is in this file; or run `vigil admin create-user`',
  );
  if (process.stderr.isTTY) {
    process.stderr.write(`\nNo users yet. Create the first administrator within 1 hour at:\n  ${link}\n\n`);
  }
}
