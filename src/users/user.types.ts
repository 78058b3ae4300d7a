import type { Role } from '../auth/permissions.js';
import type { UserStatus } from '../db/schema.js';

/** A user as the domain sees it: never carries hashes or secrets. */
export interface User {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly isPlatformAdmin: boolean;
  readonly status: UserStatus;
  readonly totpEnabled: boolean;
  readonly createdAt: Date;
}

export interface Member extends User {
  readonly role: Role;
  readonly joinedAt: Date;
}

export interface Preferences {
  readonly timezone: string;
  readonly units: 'metric' | 'imperial';
  readonly theme: 'system' | 'light' | 'dark';
  readonly notifications: {
    readonly email: boolean;
    readonly sms: boolean;
    readonly push: boolean;
    readonly minSeverity: 'critical' | 'major' | 'minor' | 'warning' | 'info';
  };
}

export const DEFAULT_PREFERENCES: Preferences = {
  timezone: 'UTC',
  units: 'metric',
  theme: 'system',
  notifications: { email: true, sms: false, push: true, minSeverity: 'major' },
};
