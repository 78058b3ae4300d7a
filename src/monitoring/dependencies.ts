import type { Services } from '../services.js';
import {
  type CheckResult,
  type DependencyCheck,
  dependencyChecks,
  runChecks,
  tcpReachable,
} from './health.service.js';
import type { Severity } from './self-monitor.rules.js';

/** A dependency as the monitoring API reports it. */
export interface DependencyStatus {
  /** `off`: not configured or not running in this process (e.g. MQTT disabled). */
  readonly status: 'ok' | 'failed' | 'off';
  readonly latencyMs: number | null;
  /** What failed (driver message); only ever shown to platform administrators. */
  readonly error: string | null;
  /** e.g. `embedded` / `external` for MQTT. */
  readonly mode?: string;
}

/** How bad each dependency being down is: without the database or the broker nothing comes in. */
export const DEPENDENCY_SEVERITY: Record<string, Severity> = {
  database: 'critical',
  mqtt: 'critical',
  redis: 'major',
  smtp: 'major',
};

export const DEPENDENCY_TITLES: Record<string, string> = {
  database: 'Database unreachable',
  redis: 'Redis unreachable',
  mqtt: 'MQTT broker unreachable',
  smtp: 'SMTP server unreachable',
};

/**
 * The configured external dependencies, each as a check: those of `/readyz` (database, Redis,
 * the external MQTT broker) and the SMTP server of email notifications (TCP reachability, so a
 * check never logs in or sends anything).
 */
export function platformDependencyChecks(services: Services): Record<string, DependencyCheck> {
  const checks = dependencyChecks(services);
  const smtp = services.config.notifications.smtpUrl;
  // nodemailer's defaults: 587 for smtp://, 465 for smtps://.
  if (smtp) checks.smtp = tcpReachable(smtp, { smtp: 587, smtps: 465 });
  return checks;
}

/** Runs the dependency checks (each bounded by READINESS_TIMEOUT_MS). */
export async function checkDependencies(
  services: Services,
  checks: Record<string, DependencyCheck> = platformDependencyChecks(services),
): Promise<Record<string, CheckResult>> {
  return (await runChecks(checks, services.config.readinessTimeoutMs)).checks;
}

/** For the health report: every dependency, the embedded broker's state included. */
export async function dependencyReport(services: Services): Promise<Record<string, DependencyStatus>> {
  const results = await checkDependencies(services);
  const out: Record<string, DependencyStatus> = {};
  for (const [name, r] of Object.entries(results))
    out[name] = { status: r.status, latencyMs: r.latencyMs, error: r.error ?? null };
  if (services.config.mqttUrl) out.mqtt = { ...out.mqtt!, mode: 'external' };
  else {
    const embedded = services.mqtt.current();
    out.mqtt = embedded
      ? {
          status: embedded.connected ? 'ok' : 'failed',
          latencyMs: null,
          error: embedded.connected ? null : 'the embedded broker is not listening',
          mode: 'embedded',
        }
      : {
          status: 'off',
          latencyMs: null,
          error: null,
          mode: services.config.mqtt.enabled ? 'embedded' : 'off',
        };
  }
  if (!services.redis) out.redis = { status: 'off', latencyMs: null, error: null };
  if (!services.config.notifications.smtpUrl) out.smtp = { status: 'off', latencyMs: null, error: null };
  return out;
}
