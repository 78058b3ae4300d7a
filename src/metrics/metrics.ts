import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Labels a collect-time metric reports: each row is one series. */
export type Rows = Iterable<readonly [Readonly<Record<string, string>>, number]>;

/** Ingest protocols (`protocol` label): HTTP ingest API, InfluxDB writes, MQTT. */
export const INGEST_PROTOCOLS = ['http', 'influx', 'mqtt'] as const;
export type IngestProtocol = (typeof INGEST_PROTOCOLS)[number];

/** Seconds-scale buckets for request and job latencies. */
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Finer at the low end: most SQLite queries take well under a millisecond. */
const DB_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

let processRegistry: Registry | undefined;

/**
 * prom-client's gauges named `_total`, which Prometheus reserves for counters (`promtool check
 * metrics` flags them); the same figures remain, by type, in `nodejs_active_handles` etc.
 */
const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * Process metrics (CPU, memory, event-loop lag, GC, handles) exist once per process, however
 * many Services it builds (tests build many): one shared registry, rendered with each.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    for (const name of MISNAMED_DEFAULTS) processRegistry.removeSingleMetric(name);
  }
  return processRegistry;
}

/**
 * Vigil's Prometheus metrics, in a registry of their own (never prom-client's global one).
 * Counters the code increments are fields here; figures that already exist as `stats` objects
 * elsewhere are read at scrape time (`collectors.ts`), costing the hot paths nothing. Labels are
 * bounded sets only: never a sensor, tenant, user or raw URL.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;

  /** By route pattern (`/api/v1/sensors/:id`; `unmatched` for no route), method and status code. */
  readonly httpDuration = new Histogram({
    name: 'vigil_http_request_duration_seconds',
    help: 'HTTP request duration, by route pattern, method and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });

  readonly readingsAccepted = new Counter({
    name: 'vigil_ingest_readings_accepted_total',
    help: 'Readings stored, by ingest protocol.',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });
  readonly readingsRejected = new Counter({
    name: 'vigil_ingest_readings_rejected_total',
    help: 'Readings refused, by ingest protocol and reason (an item code such as UNKNOWN_SENSOR, or the error code of the whole request such as RATE_LIMITED).',
    labelNames: ['protocol', 'reason'] as const,
    registers: [this.registry],
  });
  readonly readingsDuplicate = new Counter({
    name: 'vigil_ingest_readings_duplicate_total',
    help: 'Readings already stored (same sensor and timestamp), acknowledged without storing them again, by protocol.',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });

  readonly anomalies = new Counter({
    name: 'vigil_detection_anomalies_total',
    help: 'Anomalies found by the streaming detectors, by detector and kind (point: one anomalous reading; raised: a condition began).',
    labelNames: ['detector', 'kind'] as const,
    registers: [this.registry],
  });

  readonly alarmsRaised = new Counter({
    name: 'vigil_alarms_raised_total',
    help: 'Alarms raised (a new alarm opened), by severity.',
    labelNames: ['severity'] as const,
    registers: [this.registry],
  });
  readonly alarmsCleared = new Counter({
    name: 'vigil_alarms_cleared_total',
    help: 'Alarms resolved (their condition cleared, stayed quiet, or an operator resolved them), by severity.',
    labelNames: ['severity'] as const,
    registers: [this.registry],
  });

  readonly jobRuns = new Counter({
    name: 'vigil_job_runs_total',
    // `job_name`, not `job`: Prometheus gives `job` to the scrape target.
    help: 'Background job runs in this process, by job name and status (succeeded, failed, timed_out, skipped).',
    labelNames: ['job_name', 'status'] as const,
    registers: [this.registry],
  });
  readonly jobLastSuccess = new Gauge({
    name: 'vigil_job_last_success_timestamp_seconds',
    help: 'When each job last succeeded in this process (Unix time), by job name.',
    labelNames: ['job_name'] as const,
    registers: [this.registry],
  });

  readonly dbQueryDuration = new Histogram({
    name: 'vigil_db_query_duration_seconds',
    help: 'Database query duration through the query layer, by outcome (ok, error).',
    labelNames: ['outcome'] as const,
    buckets: DB_BUCKETS,
    registers: [this.registry],
  });

  // The live stream's metrics; the realtime module increments them.
  readonly wsConnections = new Gauge({
    name: 'vigil_ws_connections',
    help: 'Open WebSocket (live stream) connections.',
    registers: [this.registry],
  });
  readonly wsSubscriptions = new Gauge({
    name: 'vigil_ws_subscriptions',
    help: 'Active live-stream subscriptions, by channel.',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });
  readonly wsMessagesSent = new Counter({
    name: 'vigil_ws_messages_sent_total',
    help: 'Messages sent to live-stream clients, by channel.',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });
  readonly wsMessagesConflated = new Counter({
    name: 'vigil_ws_messages_conflated_total',
    help: 'Reading messages replaced by a newer one before they were sent (conflation).',
    registers: [this.registry],
  });
  readonly wsMessagesDropped = new Counter({
    name: 'vigil_ws_messages_dropped_total',
    help: 'Messages not delivered to a live-stream client, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly wsDisconnects = new Counter({
    name: 'vigil_ws_disconnects_total',
    help: 'Live-stream connections closed, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** Bound children of the per-batch counters, so the ingest path hashes no labels. */
  private readonly byProtocol = new Map<
    IngestProtocol,
    { accepted: { inc(n: number): void }; duplicate: { inc(n: number): void } }
  >();

  constructor(readonly labels: { readonly version: string; readonly database: string }) {
    new Gauge({
      name: 'vigil_build_info',
      help: 'Always 1; the labels name the running version and database dialect.',
      labelNames: ['version', 'database'] as const,
      registers: [this.registry],
    }).set({ version: labels.version, database: labels.database }, 1);
    for (const protocol of INGEST_PROTOCOLS) {
      this.byProtocol.set(protocol, {
        accepted: this.readingsAccepted.labels(protocol),
        duplicate: this.readingsDuplicate.labels(protocol),
      });
      // Present from the start, so rates and alerts see a zero rather than no series.
      this.readingsAccepted.inc({ protocol }, 0);
    }
  }

  /** One batch's outcome (once per batch, never per reading); `rejected`: reason → readings. */
  ingested(
    protocol: IngestProtocol,
    accepted: number,
    duplicates: number,
    rejected?: ReadonlyMap<string, number>,
  ): void {
    const c = this.byProtocol.get(protocol)!;
    if (accepted > 0) c.accepted.inc(accepted);
    if (duplicates > 0) c.duplicate.inc(duplicates);
    if (rejected) for (const [reason, n] of rejected) this.readingsRejected.inc({ protocol, reason }, n);
  }

  /** A counter whose values are read from elsewhere at scrape time. */
  counterFrom(name: string, help: string, labelNames: readonly string[], read: () => Rows | number): void {
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        const value = read();
        if (typeof value === 'number') this.inc(value);
        else for (const [labels, v] of value) this.inc(labels, v);
      },
    });
  }

  /**
   * A gauge whose values are read (possibly asynchronously) at scrape time. `undefined` (not
   * known now): no series, or NaN when the gauge has no labels (prom-client always shows those) —
   * never a misleading 0.
   */
  gaugeFrom(
    name: string,
    help: string,
    labelNames: readonly string[],
    read: () => Rows | number | undefined | Promise<Rows | number | undefined>,
  ): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        const value = await read();
        this.reset();
        if (typeof value === 'number') this.set(value);
        else if (value) for (const [labels, v] of value) this.set(labels, v);
        else if (labelNames.length === 0) this.set(Number.NaN);
      },
    });
  }

  /** The Prometheus text exposition: process metrics, then Vigil's. */
  async render(): Promise<string> {
    const [proc, own] = await Promise.all([processMetrics().metrics(), this.registry.metrics()]);
    return `${proc.trimEnd()}\n\n${own.trimEnd()}\n`;
  }
}
