/** The shapes of the API's answers the UI reads (see docs/*.md); times are RFC 3339 strings. */

export type Role = 'owner' | 'admin' | 'operator' | 'analyst' | 'viewer';
export type Severity = 'critical' | 'major' | 'minor' | 'warning' | 'info';
export type AlarmStatus = 'open' | 'acknowledged' | 'resolved' | 'closed';
export type IncidentStatus = 'open' | 'investigating' | 'resolved' | 'closed';

export interface TenantRef {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly role: Role;
}

export interface User {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly isPlatformAdmin: boolean;
  readonly totpEnabled: boolean;
}

export interface Me {
  readonly user: User;
  readonly tenant: TenantRef;
  readonly permissions: readonly string[];
  readonly tenants: readonly TenantRef[];
  readonly mfaEnrollmentRequired: boolean;
  readonly sessionId: string;
}

export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly csrfToken?: string;
  readonly expiresIn: number;
}

export interface Preferences {
  readonly timezone: string;
  readonly units: 'metric' | 'imperial';
  readonly theme: 'system' | 'light' | 'dark';
  readonly notifications: Record<string, unknown>;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface Alarm {
  readonly id: string;
  readonly dedupKey?: string;
  readonly sensorId: string | null;
  readonly assetId: string | null;
  readonly detector?: string;
  readonly ruleId?: string | null;
  readonly severity: Severity;
  readonly status: AlarmStatus;
  readonly title: string;
  readonly occurrences: number;
  readonly raisedAt: string;
  readonly lastSeenAt: string;
  readonly lastValue?: number | null;
  readonly details?: Record<string, unknown>;
  readonly acknowledgedBy?: string | null;
  readonly acknowledgedAt?: string | null;
  readonly resolvedAt?: string | null;
  readonly resolution?: string | null;
  readonly shelved?: boolean;
  readonly shelvedUntil?: string | null;
  readonly flapping?: boolean;
  readonly maintenanceWindowId?: string | null;
  readonly autoClear?: string;
  readonly resolvesAt?: string | null;
  readonly assigneeId?: string | null;
}

export interface AlarmHistoryEntry {
  readonly kind: string;
  readonly fromStatus: string | null;
  readonly toStatus: string | null;
  readonly actorType: string;
  readonly actorId: string | null;
  readonly comment: string | null;
  readonly details: Record<string, unknown>;
  readonly at: string;
}

export interface Incident {
  readonly id: string;
  readonly title: string;
  readonly status: IncidentStatus;
  readonly severity: Severity;
  readonly ownerId: string | null;
  readonly assetId: string | null;
  readonly siteId: string | null;
  readonly openedAt: string;
  readonly resolvedAt: string | null;
}

export interface IncidentTimelineEntry {
  readonly kind: string;
  readonly actorType: string;
  readonly actorId: string | null;
  readonly text: string | null;
  readonly details: Record<string, unknown>;
  readonly at: string;
}

export interface SensorType {
  readonly id: string;
  readonly key: string;
  readonly name: string;
  readonly unit: string;
  readonly validMin: number | null;
  readonly validMax: number | null;
  readonly expectedIntervalS: number | null;
}

export interface Sensor {
  readonly id: string;
  readonly key: string;
  readonly name: string;
  readonly typeId: string;
  readonly deviceId: string | null;
  readonly assetId: string | null;
  readonly status: string;
}

export interface Site {
  readonly id: string;
  readonly parentId: string | null;
  readonly kind: string;
  readonly key: string;
  readonly name: string;
}

export interface Geometry {
  readonly type: string;
  readonly coordinates?: unknown;
  readonly geometries?: readonly Geometry[];
}

export interface Asset {
  readonly id: string;
  readonly siteId: string | null;
  readonly kind: string;
  readonly key: string;
  readonly name: string;
  readonly geometry: Geometry | null;
}

export interface Device {
  readonly id: string;
  readonly key: string;
  readonly name: string;
  readonly status: string;
  readonly online: boolean;
  readonly lastSeenAt: string | null;
  readonly kind?: string;
  readonly firmware?: string | null;
  readonly quarantineReason?: string | null;
  readonly refusedCount?: number;
  readonly createdAt?: string;
}

/** A device's credential (the token itself is only in the answer that issued it). */
export interface DeviceCredential {
  readonly id: string;
  readonly deviceId: string;
  readonly prefix: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

export interface ApiKey {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly permissions: string[];
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

export interface Invitation {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export interface AuditEntry {
  readonly seq: number;
  readonly ts: string;
  readonly action: string;
  readonly outcome: string;
  readonly severity: string;
  readonly actorType?: string;
  readonly actorId?: string | null;
  readonly targetType?: string | null;
  readonly targetId?: string | null;
  readonly ip: string | null;
  readonly details: Record<string, unknown>;
}

export interface ModelVersion {
  readonly id: string;
  readonly scope: string;
  readonly targetId: string;
  readonly version: number;
  readonly status: 'active' | 'inactive' | 'rejected';
  readonly threshold: number;
  readonly features: string[];
  readonly trainingFrom: string;
  readonly trainingTo: string;
  readonly metrics: Record<string, unknown>;
  readonly createdAt: string;
  readonly activatedAt: string | null;
}

export interface TrainingRun {
  readonly id: string;
  readonly scope: string;
  readonly targetId: string;
  readonly trigger: string;
  readonly outcome: string;
  readonly metrics: Record<string, unknown> | null;
  readonly modelId: string | null;
  readonly error: string | null;
  readonly startedAt: string;
  readonly durationMs: number;
}

export interface LatestReading {
  readonly sensor: string;
  readonly key: string;
  readonly ts: string | null;
  readonly value: number | null;
  readonly quality?: string | null;
}

export interface Reading {
  readonly ts: string;
  readonly value: number;
  readonly quality: string;
}

export interface Bucket {
  readonly ts: string;
  readonly empty: boolean;
  readonly count: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly avg: number | null;
}

export interface Aggregates {
  readonly bucket: string;
  readonly buckets: Bucket[];
}

export interface AnomalyExplanation {
  readonly observed?: number;
  readonly expected?: { low: number; high: number; from?: string };
  readonly detectors?: { detector: string; score: number }[];
  readonly when?: string;
  readonly value?: number;
  readonly clear?: number;
  readonly forMs?: number;
  readonly late?: boolean;
  readonly [key: string]: unknown;
}

export interface Anomaly {
  readonly id: number | string;
  readonly sensorId: string | null;
  readonly assetId: string | null;
  readonly ts: string;
  readonly value: number | null;
  readonly kind: 'point' | 'raised' | 'cleared';
  readonly detector: string;
  readonly ruleId: string | null;
  readonly severity: Severity | null;
  readonly score: number;
  readonly confidence: number;
  readonly detectors: string[];
  readonly explanation: AnomalyExplanation;
}

export interface ThresholdRule {
  readonly id: string;
  readonly when: 'above' | 'below';
  readonly value: number;
  readonly clear?: number;
  readonly forS?: number;
  readonly severity?: Severity;
  readonly description?: string;
}

export interface EffectiveDetectors {
  readonly sensorTypeVersion: number;
  readonly sensorVersion: number;
  /** The engine's shape (rules with `below` and `forMs`); see normalizeRules. */
  readonly config: { rules?: unknown; [key: string]: unknown };
}

export interface MaintenanceWindow {
  readonly id: string;
  readonly assetId: string | null;
  readonly siteId: string | null;
  readonly title: string;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly recurrence: string;
  readonly until: string | null;
}

export type WorkOrderStatus = 'planned' | 'in_progress' | 'done';

/** A maintenance log entry (work order) of an asset; see src/incidents/work-orders.routes.ts. */
export interface WorkOrder {
  readonly id: string;
  readonly assetId: string;
  readonly title: string;
  readonly status: WorkOrderStatus;
  readonly notes: string;
  readonly assigneeId: string | null;
  readonly alarmId: string | null;
  readonly incidentId: string | null;
  readonly plannedFor: string | null;
  readonly startedAt: string | null;
  readonly doneAt: string | null;
  readonly createdBy: string | null;
  readonly createdAt: string;
}

/** An alarm rule (src/alarms/alarm-rules.routes.ts). */
export interface AlarmRule {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly sensorTypeId: string | null;
  readonly assetId: string | null;
  readonly sensorId: string | null;
  readonly detectors: string[];
  readonly ruleIds: string[] | null;
  readonly action: string;
  readonly severity: string | null;
  readonly minScore: number;
  readonly delayS: number;
  readonly minOccurrences: number;
  readonly withinS: number;
  readonly autoClear: string;
  readonly quietS: number;
  readonly createdAt: string;
}

/** What becomes of one detector's output for a sensor, and the rule that decides it (null: built in). */
export interface EffectiveAlarmPolicy {
  readonly detector: string;
  readonly alarmRuleId: string | null;
  readonly action: string;
  readonly severity: string | null;
  readonly minScore: number;
  readonly delayS: number;
  readonly minOccurrences: number;
  readonly withinS: number;
  readonly autoClear: string;
  readonly quietS: number;
}

export interface EffectiveAlarmRules {
  readonly sensorId: string;
  readonly items: EffectiveAlarmPolicy[];
  /** Enabled rules in scope that apply to some detector rules (limits) only. */
  readonly byRuleId: AlarmRule[];
}

export interface Member {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  readonly totpEnabled?: boolean;
  readonly status?: string;
  readonly joinedAt?: string;
}

/** `GET /api/v1/members/directory`: who is in the tenant, for every member (no emails). */
export type DirectoryEntry = Pick<Member, 'id' | 'displayName' | 'role'>;

/** An RFC 9457 problem document, as every API error is. */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status: number;
  readonly detail?: string;
  readonly code?: string;
  readonly requestId?: string;
  readonly errors?: { pointer: string; detail: string }[];
  readonly [key: string]: unknown;
}
