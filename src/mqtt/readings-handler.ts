import { AppError } from '../http/errors/catalogue.js';
import { countIngested, countIngestFailure } from '../metrics/ingest-metrics.js';
import type { Services } from '../services.js';
import type { ParsedBatch } from '../telemetry/formats/batch.js';
import { assertReadingCount } from '../telemetry/ingest.service.js';
import { parseReadingsPayload, parseSensorPayload } from './payload.js';
import type { VigilTopic } from './topics.js';

/** The device a message is from: its login (embedded broker) or its topic (external broker). */
export interface DeviceIdentity {
  readonly tenantId: string;
  readonly tenantSlug: string;
  readonly deviceId: string;
  readonly deviceKey: string;
}

export interface GatewayCounters {
  authFailures: number;
  aclViolations: number;
  messages: number;
  readingsAccepted: number;
  readingsRejected: number;
  /** Messages not stored for a transient reason (left unacknowledged, so they come again). */
  notStored: number;
  /** Connections refused because their tenant had its limit of connections. */
  connectionLimitRefusals: number;
}

export const newCounters = (): GatewayCounters => ({
  authFailures: 0,
  aclViolations: 0,
  messages: 0,
  readingsAccepted: 0,
  readingsRejected: 0,
  notStored: 0,
  connectionLimitRefusals: 0,
});

/** What became of a message that was handled (acknowledge it): a report for the errors topic, if any. */
export interface Handled {
  readonly report?: Record<string, unknown>;
  /** Nothing of the message could ever be stored (MQTT 5: PUBACK 0x99 payload format invalid). */
  readonly wholeMessageRejected: boolean;
}

/**
 * Readings from an MQTT message into the ingest pipeline, the same for both brokers. Resolves
 * once the readings are committed (acknowledge then); a message that can never be stored resolves
 * too, with a report (acknowledged, so it is not resent forever); anything transient (the
 * database is unavailable) rejects — leave the message unacknowledged so the broker resends it.
 */
export async function handleReadings(
  services: Services,
  counters: GatewayCounters,
  identity: DeviceIdentity,
  topic: VigilTopic,
  payload: Buffer,
): Promise<Handled> {
  counters.messages++;
  const receivedAt = Date.now();
  let batch: ParsedBatch;
  try {
    batch =
      topic.kind === 'sensor'
        ? parseSensorPayload(topic.sensor, payload, receivedAt)
        : parseReadingsPayload(payload, receivedAt);
    assertReadingCount(batch, services.config.telemetry.maxReadings, 'message');
  } catch (err) {
    counters.readingsRejected++;
    // The message as a whole could not be read: one refusal (its readings are unknown).
    services.metrics.ingested(
      'mqtt',
      0,
      0,
      new Map([[err instanceof AppError ? err.code : 'MALFORMED_BODY', 1]]),
    );
    return {
      wholeMessageRejected: true,
      report: { code: err instanceof AppError ? err.code : 'MALFORMED_BODY', detail: (err as Error).message },
    };
  }
  const source = { kind: 'device' as const, tenantId: identity.tenantId, deviceId: identity.deviceId };
  try {
    const result = await services.telemetry.ingest.ingest(source, batch, { receivedAt });
    counters.readingsAccepted += result.accepted;
    counters.readingsRejected += result.rejected.length;
    countIngested(services.metrics, 'mqtt', result);
    return { wholeMessageRejected: false, ...(result.rejected.length > 0 ? { report: { ...result } } : {}) };
  } catch (err) {
    countIngestFailure(services.metrics, 'mqtt', batch, err);
    // Over the tenant's budget (429) is transient like an outage: leave it unacknowledged.
    if (err instanceof AppError && err.status < 500 && err.status !== 429) {
      counters.readingsRejected += batch.count + batch.rejected.length;
      return {
        wholeMessageRejected: true,
        report: { code: err.code, detail: err.detail, ...(err.extra.fields ?? {}) },
      };
    }
    counters.notStored++;
    throw err;
  }
}
