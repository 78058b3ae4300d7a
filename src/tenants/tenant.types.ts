export interface TenantSettings {
  /** Owners and admins must have TOTP enabled to use the tenant. */
  readonly requireMfaForAdmins: boolean;
}

export const DEFAULT_TENANT_SETTINGS: TenantSettings = { requireMfaForAdmins: false };

export interface Tenant {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly settings: TenantSettings;
  readonly createdAt: Date;
}
