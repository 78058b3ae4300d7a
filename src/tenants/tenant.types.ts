export interface TenantSettings {
  /** Owners and admins must have TOTP enabled to use the tenant. */
  readonly requireMfaForAdmins: boolean;
  /** Days readings are kept; null: the installation default (RETENTION_DAYS). */
  readonly retentionDays: number | null;
}

export const DEFAULT_TENANT_SETTINGS: TenantSettings = { requireMfaForAdmins: false, retentionDays: null };

/** Limits a platform admin sets per tenant; null: the installation default from the environment. */
export interface TenantQuotas {
  /** Readings per second over HTTP and MQTT (INGEST_TENANT_READINGS_PER_S). */
  readonly ingestReadingsPerS: number | null;
  /** Device connections to the embedded MQTT broker (MQTT_MAX_CONNECTIONS_PER_TENANT). */
  readonly mqttConnections: number | null;
}

export const DEFAULT_TENANT_QUOTAS: TenantQuotas = { ingestReadingsPerS: null, mqttConnections: null };

export interface Tenant {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly settings: TenantSettings;
  readonly quotas: TenantQuotas;
  readonly createdAt: Date;
}
