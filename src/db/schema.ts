import type { ColumnType, Generated } from 'kysely';

/**
 * Table types for Kysely. Timestamps are epoch milliseconds (BIGINT) in both dialects: one
 * representation, cheap to compare and index, no time-zone conversion anywhere.
 */
export interface Database {
  job_runs: JobRunsTable;
  tenants: TenantsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  refresh_tokens: RefreshTokensTable;
  one_time_tokens: OneTimeTokensTable;
  recovery_codes: RecoveryCodesTable;
  api_keys: ApiKeysTable;
  device_credentials: DeviceCredentialsTable;
  audit_log: AuditLogTable;
  sensor_types: SensorTypesTable;
  sites: SitesTable;
  assets: AssetsTable;
  devices: DevicesTable;
  sensors: SensorsTable;
  series: SeriesTable;
  reading_log: ReadingLogTable;
  reading_chunks: ReadingChunksTable;
  ingest_requests: IngestRequestsTable;
  security_events: SecurityEventsTable;
  security_ip_rules: SecurityIpRulesTable;
  detector_configs: DetectorConfigsTable;
  detection_state: DetectionStateTable;
  anomalies: AnomaliesTable;
  models: ModelsTable;
  training_runs: TrainingRunsTable;
  alarms: AlarmsTable;
  alarm_events: AlarmEventsTable;
  alarm_rules: AlarmRulesTable;
  alarm_pending: AlarmPendingTable;
  alarm_inbox: AlarmInboxTable;
  maintenance_windows: MaintenanceWindowsTable;
  notification_channels: NotificationChannelsTable;
  notification_outbox: NotificationOutboxTable;
  incidents: IncidentsTable;
  incident_alarms: IncidentAlarmsTable;
  incident_events: IncidentEventsTable;
  work_orders: WorkOrdersTable;
  backtest_runs: BacktestRunsTable;
  backtest_log: BacktestLogTable;
}

export interface SecurityEventsTable {
  id: Generated<number>;
  tenant_id: string | null;
  /** `flagged`, `blocked` (a request refused), `denied` (a request from a blocked IP or range). */
  kind: string;
  ip: string;
  score: number;
  /** Comma-separated threat categories. */
  categories: string;
  rule: string | null;
  method: string | null;
  path: string | null;
  user_agent: string | null;
  request_id: string | null;
  created_at: number;
}

export interface SecurityIpRulesTable {
  id: string;
  kind: 'block' | 'allow';
  cidr: string;
  reason: string;
  expires_at: number | null;
  created_by: string | null;
  created_at: number;
}

/** 0/1 in both dialects. */
type Flag = ColumnType<number, number | undefined, number>;
/** Serialised JSON text in both dialects. */
type JsonText = ColumnType<string, string | undefined, string>;

export interface TenantsTable {
  id: string;
  slug: string;
  name: string;
  settings: JsonText;
  /** TenantQuotas; members left out take the installation defaults. */
  quotas: JsonText;
  created_at: number;
  updated_at: number;
}

export type UserStatus = 'active' | 'disabled';

export interface UsersTable {
  id: string;
  email: string;
  display_name: ColumnType<string, string | undefined, string>;
  password_hash: string | null;
  is_platform_admin: Flag;
  status: ColumnType<UserStatus, UserStatus | undefined, UserStatus>;
  totp_secret: string | null;
  totp_enabled: Flag;
  totp_last_step: number | null;
  preferences: JsonText;
  password_changed_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface MembershipsTable {
  user_id: string;
  tenant_id: string;
  role: string;
  created_at: number;
}

export interface RefreshTokensTable {
  id: string;
  family_id: string;
  user_id: string;
  tenant_id: string;
  token_hash: string;
  created_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
  revoked_reason: string | null;
  ip: string | null;
  user_agent: string | null;
}

export interface OneTimeTokensTable {
  id: string;
  purpose: 'bootstrap' | 'invitation';
  token_hash: string;
  tenant_id: string | null;
  email: string | null;
  role: string | null;
  created_by: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
}

export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  permissions: string;
  created_by: string | null;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface DeviceCredentialsTable {
  id: string;
  tenant_id: string;
  device_id: string;
  prefix: string;
  token_hash: string;
  created_by: string | null;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuditLogTable {
  seq: number;
  ts: number;
  tenant_id: string | null;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: 'success' | 'failure' | 'denied';
  severity: ColumnType<string, string | undefined, string>;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: JsonText;
  key_id: string;
  prev_hash: string;
  hash: string;
}

export type JobRunStatus = 'running' | 'succeeded' | 'failed' | 'timed_out' | 'abandoned';

export interface JobRunsTable {
  id: Generated<number>;
  job: string;
  /** The scheduled time this run is for; unique per job, which is what makes a run happen once. */
  scheduled_for: number;
  instance_id: string;
  status: JobRunStatus;
  attempts: ColumnType<number, number | undefined, number>;
  started_at: number;
  lease_until: number;
  finished_at: number | null;
  duration_ms: number | null;
  error: string | null;
}

export interface SensorTypesTable {
  id: string;
  tenant_id: string;
  key: string;
  name: string;
  unit: string;
  valid_min: number | null;
  valid_max: number | null;
  expected_interval_s: number | null;
  created_at: number;
  updated_at: number;
}

export type DeviceStatus = 'active' | 'inactive' | 'quarantined';

export interface DevicesTable {
  id: string;
  tenant_id: string;
  key: string;
  name: string;
  kind: ColumnType<string, string | undefined, string>;
  firmware: string | null;
  status: ColumnType<DeviceStatus, DeviceStatus | undefined, DeviceStatus>;
  quarantine_reason: string | null;
  refused_count: ColumnType<number, number | undefined, number>;
  last_seen_at: number | null;
  online: Flag;
  presence_changed_at: number | null;
  metadata: JsonText;
  created_at: number;
  updated_at: number;
}

export interface SensorsTable {
  id: string;
  tenant_id: string;
  key: string;
  name: string;
  type_id: string;
  device_id: string | null;
  asset_id: string | null;
  status: ColumnType<'active' | 'inactive', 'active' | 'inactive' | undefined, 'active' | 'inactive'>;
  metadata: JsonText;
  created_at: number;
  updated_at: number;
}

export interface SitesTable {
  id: string;
  tenant_id: string;
  parent_id: string | null;
  kind: string;
  key: string;
  name: string;
  metadata: JsonText;
  created_at: number;
  updated_at: number;
}

export interface AssetsTable {
  id: string;
  tenant_id: string;
  site_id: string | null;
  kind: string;
  key: string;
  name: string;
  /** GeoJSON geometry as text. */
  geometry: string | null;
  metadata: JsonText;
  created_at: number;
  updated_at: number;
}

export interface SeriesTable {
  id: Generated<number>;
  sensor_id: string;
  tenant_id: string;
  last_ts: number | null;
  last_value: number | null;
  last_quality: number | null;
  created_at: number;
}

/** One committed batch of readings, packed (see telemetry/storage/log-codec.ts). */
export interface ReadingLogTable {
  id: Generated<number>;
  count: number;
  min_ts: number;
  max_ts: number;
  data: Uint8Array;
  created_at: number;
}

/** A compressed run of one series' readings (see telemetry/storage/chunk-codec.ts). */
export interface ReadingChunksTable {
  series_id: number;
  start_ts: number;
  end_ts: number;
  count: number;
  min_value: number;
  max_value: number;
  sum_value: number;
  data: Uint8Array;
}

export interface IngestRequestsTable {
  tenant_id: string;
  idempotency_key: string;
  response: string;
  created_at: number;
}

/** A version of a detector document (scope: sensor_type, asset or sensor). */
export interface DetectorConfigsTable {
  id: string;
  tenant_id: string;
  scope: 'sensor_type' | 'asset' | 'sensor';
  target_id: string;
  version: number;
  document: string | null;
  created_by: string | null;
  created_at: number;
}

/** A sensor's detector state, checkpointed (see detection/engine/sensor-state.ts). */
export interface DetectionStateTable {
  sensor_id: string;
  tenant_id: string;
  digest: string;
  last_ts: number;
  state: Uint8Array;
  updated_at: number;
}

export interface AnomaliesTable {
  id: Generated<number>;
  tenant_id: string;
  sensor_id: string;
  asset_id: string | null;
  ts: number;
  value: number;
  kind: 'point' | 'raised' | 'cleared';
  detector: string;
  rule_id: ColumnType<string, string | undefined, string>;
  severity: string | null;
  score: number;
  confidence: number;
  detectors: string;
  explanation: string;
  created_at: number;
}

export interface ModelsTable {
  id: string;
  tenant_id: string;
  scope: 'sensor' | 'asset';
  target_id: string;
  version: number;
  kind: string;
  params: string;
  features: string;
  training_from: number;
  training_to: number;
  metrics: string;
  data: Uint8Array;
  status: 'active' | 'inactive' | 'rejected';
  created_by: string | null;
  created_at: number;
  activated_at: number | null;
}

export interface TrainingRunsTable {
  id: string;
  tenant_id: string;
  scope: 'sensor' | 'asset';
  target_id: string;
  trigger: 'api' | 'schedule';
  params: string;
  inputs: string;
  metrics: string | null;
  outcome: 'activated' | 'kept_previous' | 'insufficient_data' | 'failed';
  model_id: string | null;
  error: string | null;
  created_by: string | null;
  started_at: number;
  finished_at: number;
  duration_ms: number;
}

export type AlarmStatus = 'open' | 'acknowledged' | 'resolved' | 'closed';

/** An alarm: at most one open or acknowledged per tenant and dedup key (partial unique index). */
export interface AlarmsTable {
  id: string;
  tenant_id: string;
  dedup_key: string;
  sensor_id: string | null;
  asset_id: string | null;
  detector: string;
  rule_id: string | null;
  severity: string;
  status: AlarmStatus;
  title: string;
  occurrences: number;
  raised_at: number;
  last_seen_at: number;
  last_value: number | null;
  details: string;
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  resolved_by: string | null;
  resolved_at: number | null;
  resolution: string | null;
  closed_at: number | null;
  shelved_until: number | null;
  shelved_by: string | null;
  flapping: ColumnType<number, number | undefined, number>;
  maintenance_window_id: ColumnType<string | null, string | null | undefined, string | null>;
  escalation_level: ColumnType<number, number | undefined, number>;
  last_notified_at: ColumnType<number | null, number | null | undefined, number | null>;
  /** The alarm rule it was raised under (null: the built-in defaults). */
  alarm_rule_id: ColumnType<string | null, string | null | undefined, string | null>;
  auto_clear: ColumnType<AutoClear, AutoClear | undefined, AutoClear>;
  quiet_ms: ColumnType<number, number | undefined, number>;
  /** Reading time from which an `after-quiet` alarm counts its quiet (null: not quiet). */
  quiet_since: ColumnType<number | null, number | null | undefined, number | null>;
  assignee_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: number;
  updated_at: number;
}

/** How an alarm resolves by itself: on its condition's clear, after a quiet period, or never. */
export type AutoClear = 'on-clear' | 'after-quiet' | 'manual';

/** Which detector output becomes which alarm (docs/alarms.md, "Alarm rules"). */
export interface AlarmRulesTable {
  id: string;
  tenant_id: string;
  name: string;
  enabled: number;
  sensor_type_id: string | null;
  asset_id: string | null;
  sensor_id: string | null;
  /** JSON array of detector names ("anomaly": point anomalies; "*": any). */
  detectors: string;
  /** JSON array of detector rule ids, or null for any. */
  rule_ids: string | null;
  action: 'raise' | 'ignore';
  severity: string | null;
  min_score: number;
  delay_s: number;
  min_occurrences: number;
  within_s: number;
  auto_clear: AutoClear;
  quiet_s: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

/** Detection events whose alarm stage failed, to apply again (stored with their anomalies). */
export interface AlarmInboxTable {
  id: Generated<number>;
  tenant_id: string;
  /** JSON array of DetectionEvent. */
  events: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
}

/** An alarm held back by its rule (a delay, or occurrences still missing). */
export interface AlarmPendingTable {
  tenant_id: string;
  dedup_key: string;
  rule_id: string | null;
  first_at: number;
  last_at: number;
  count: number;
  due_at: number | null;
  expires_at: number | null;
  touched_at: number;
  /** JSON: what to raise (RaiseInput and policy). */
  raise: string;
  created_at: number;
}

/** One entry of an alarm's history. */
export interface AlarmEventsTable {
  id: Generated<number>;
  alarm_id: string;
  kind:
    | 'raised'
    | 'repeated'
    | 'acknowledged'
    | 'resolved'
    | 'closed'
    | 'comment'
    | 'shelved'
    | 'unshelved'
    | 'flapping'
    | 'cleared'
    | 'escalated'
    | 'reminded'
    | 'assigned';
  from_status: AlarmStatus | null;
  to_status: AlarmStatus | null;
  actor_type: 'user' | 'api-key' | 'system';
  actor_id: string | null;
  comment: string | null;
  details: string;
  reading_at: ColumnType<number | null, number | null | undefined, number | null>;
  at: number;
}

/** A planned maintenance of an asset or a site (and what lies under it), once or recurring. */
export interface MaintenanceWindowsTable {
  id: string;
  tenant_id: string;
  asset_id: string | null;
  site_id: string | null;
  title: string;
  starts_at: number;
  ends_at: number;
  recurrence: 'none' | 'daily' | 'weekly';
  until: number | null;
  created_by: string | null;
  created_at: number;
}

export interface NotificationChannelsTable {
  id: string;
  tenant_id: string;
  name: string;
  type: 'webhook' | 'slack' | 'teams' | 'email';
  url: string;
  /** AES-256-GCM (SecretBox), never returned by the API. */
  secret: string;
  min_severity: string;
  enabled: number;
  /** JSON ChannelRouting (notifications/routing.ts); `{}` routes everything. */
  routing: JsonText;
  /** JSON QuietHours (notifications/quiet-hours.ts), or null. */
  quiet_hours: ColumnType<string | null, string | null | undefined, string | null>;
  /** Deliveries per rolling minute; 0 = unlimited. */
  rate_limit_per_minute: ColumnType<number, number | undefined, number>;
  /** Set on a member's personal email channel (their notification preferences). */
  user_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_by: string | null;
  created_at: number;
}

export interface NotificationOutboxTable {
  id: Generated<number>;
  tenant_id: string;
  channel_id: string;
  alarm_id: string;
  event: string;
  payload: string;
  /** `suppressed`: never sent (quiet hours with `drop`, or a recipient who left); see `note`. */
  status: 'pending' | 'delivered' | 'failed' | 'suppressed';
  /** The notice's severity (quiet hours are checked again before each send). */
  severity: ColumnType<string | null, string | null | undefined, string | null>;
  /** Why it waits or was suppressed (held for quiet hours, rate limited, …). */
  note: ColumnType<string | null, string | null | undefined, string | null>;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

export type IncidentStatus = 'open' | 'investigating' | 'resolved' | 'closed';

export interface IncidentsTable {
  id: string;
  tenant_id: string;
  title: string;
  status: IncidentStatus;
  /** The highest severity of its alarms. */
  severity: string;
  owner_id: string | null;
  /** Set when it groups the alarms of one asset (automatic grouping). */
  asset_id: string | null;
  /** The site (or zone) of the asset it was opened for: alarms of that site group into it. */
  site_id: ColumnType<string | null, string | null | undefined, string | null>;
  opened_at: number;
  resolved_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface IncidentAlarmsTable {
  incident_id: string;
  alarm_id: string;
  added_at: number;
}

export interface IncidentEventsTable {
  id: Generated<number>;
  incident_id: string;
  kind: 'opened' | 'alarm_added' | 'status' | 'owner' | 'note';
  actor_type: 'user' | 'api-key' | 'system';
  actor_id: string | null;
  text: string | null;
  details: string;
  at: number;
}

/** A maintenance work order of an asset (the maintenance log). */
export interface WorkOrdersTable {
  id: string;
  tenant_id: string;
  asset_id: string;
  title: string;
  status: 'planned' | 'in_progress' | 'done';
  notes: string;
  assignee_id: string | null;
  alarm_id: string | null;
  incident_id: string | null;
  planned_for: number | null;
  started_at: number | null;
  done_at: number | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface BacktestRunsTable {
  id: string;
  tenant_id: string;
  scope: 'sensor' | 'asset';
  target_id: string;
  /** `queued`, `running`, `succeeded`, `failed` or `cancelled`. */
  status: string;
  /** The request: window, candidate document (or null: the sensor's own), threshold, comparison (JSON). */
  params: string;
  /** Summary of the verdicts (JSON), once succeeded. */
  summary: string | null;
  /** Anomaly episodes found (JSON array, capped), once succeeded. */
  episodes: string | null;
  error: string | null;
  rows_done: number;
  rows_total: number;
  /** Asked to stop; the instance running it stops at its next slice. */
  cancel_requested: number;
  /** The instance running it, and when it last reported (a run nobody reports on was interrupted). */
  instance_id: string | null;
  heartbeat_at: number | null;
  created_by: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface BacktestLogTable {
  run_id: string;
  seq: number;
  at: number;
  /** `info`, `warn` or `error`. */
  level: string;
  message: string;
}
