/**
 * The reserved tenant that owns Vigil's own alarms (self-monitoring: a dependency down, the disk
 * filling…). It is created by a migration, has no members (no membership can be created in it,
 * and its slug cannot be taken), so no tenant user or API key can ever act in it; platform
 * administrators reach its alarms and notification channels only through
 * `/api/v1/monitoring/platform/*` (docs/monitoring.md).
 */
export const PLATFORM_TENANT_ID = '00000000-0000-4000-8000-000000000001';
export const PLATFORM_TENANT_SLUG = 'platform';
export const PLATFORM_TENANT_NAME = 'Vigil platform';

export const isPlatformTenant = (idOrSlug: string): boolean =>
  idOrSlug === PLATFORM_TENANT_ID || idOrSlug === PLATFORM_TENANT_SLUG;
