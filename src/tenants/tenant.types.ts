export interface TenantSettings {
  /** Owners and admins must have TOTP enabled to use the tenant. */
  readonly requireMfaForAdmins: boolean;
  /** Days readings are kept; null: the installation default (RETENTION_DAYS). */
  readonly retentionDays: number | null;
}

export const DEFAULT_TENANT_SETTINGS: TenantSettings = { requireMfaForAdmins: false, retentionDays: null };

export interface Tenant {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly settings: TenantSettings;
  readonly createdAt: Date;
}
