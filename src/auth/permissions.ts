/**
 * Every permission and every role, in one place. Routes declare the permission they need
 * (`config: { permission: 'users:manage' }`); a role is a set of permissions; an API key carries
 * a subset of its creator's. Add a permission here before using it anywhere.
 */
export const PERMISSIONS = [
  'tenant:read',
  'tenant:manage',
  'users:read',
  'users:manage',
  'api-keys:manage',
  'devices:read',
  'devices:write',
  'devices:credentials',
  'telemetry:read',
  'telemetry:write',
  'detection:read',
  'detection:write',
  'alarms:read',
  'alarms:ack',
  'alarms:manage',
  'incidents:write',
  'audit:read',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['owner', 'admin', 'operator', 'analyst', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const VIEWER: readonly Permission[] = [
  'tenant:read',
  'devices:read',
  'telemetry:read',
  'detection:read',
  'alarms:read',
];

export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  viewer: new Set(VIEWER),
  analyst: new Set([...VIEWER, 'detection:write']),
  operator: new Set([...VIEWER, 'alarms:ack', 'incidents:write']),
  admin: new Set(PERMISSIONS.filter((p) => p !== 'tenant:manage')),
  owner: new Set(PERMISSIONS),
};

/** Roles ordered by power, so an admin cannot grant or remove an owner. */
export const ROLE_RANK: Readonly<Record<Role, number>> = {
  viewer: 0,
  analyst: 1,
  operator: 2,
  admin: 3,
  owner: 4,
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}

/** Whether someone with `actor` may grant or manage `role`: never one above their own. */
export function canGrant(actor: Role, role: Role): boolean {
  return ROLE_RANK[role] <= ROLE_RANK[actor];
}

export function roleHas(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission);
}
