import { Type } from 'typebox';
import { PERMISSIONS, type Permission, ROLES, type Role } from './permissions.js';

const strict = { additionalProperties: false } as const;

export const Email = Type.String({ format: 'email', maxLength: 254 });
/** Length is checked by the password policy (with a clear message); the schema only bounds size. */
export const Password = Type.String({ minLength: 1, maxLength: 1024 });
export const TotpCode = Type.String({ pattern: '^[0-9]{6}$' });
export const RoleSchema = Type.Unsafe<Role>({ type: 'string', enum: [...ROLES] });
export const PermissionSchema = Type.Unsafe<Permission>({ type: 'string', enum: [...PERMISSIONS] });
export const Uuid = Type.String({ format: 'uuid' });

export const UserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  displayName: Type.String(),
  isPlatformAdmin: Type.Boolean(),
  totpEnabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});

export const TenantRefSchema = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  role: RoleSchema,
});

export const LoginBody = Type.Object(
  {
    email: Email,
    password: Password,
    totp: Type.Optional(TotpCode),
    recoveryCode: Type.Optional(Type.String({ minLength: 6, maxLength: 32 })),
    tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    /** `cookie`: browsers; the refresh token goes in an HttpOnly cookie instead of the body. */
    session: Type.Optional(Type.Union([Type.Literal('body'), Type.Literal('cookie')])),
  },
  strict,
);

export const TokenPairSchema = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.Optional(Type.String()),
  csrfToken: Type.Optional(Type.String()),
  expiresIn: Type.Integer(),
  tokenType: Type.Literal('Bearer'),
});

export const LoginResponse = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.Optional(Type.String()),
  csrfToken: Type.Optional(Type.String()),
  expiresIn: Type.Integer(),
  tokenType: Type.Literal('Bearer'),
  user: UserSchema,
  tenant: TenantRefSchema,
  mfaEnrollmentRequired: Type.Boolean(),
});

/** Body for API clients; browsers send none and use the cookie plus X-CSRF-Token. */
export const RefreshBody = Type.Union([
  Type.Object({ refreshToken: Type.Optional(Type.String({ minLength: 10, maxLength: 200 })) }, strict),
  Type.Null(),
]);

export const ChangePasswordBody = Type.Object({ currentPassword: Password, newPassword: Password }, strict);

export const PasswordAndCode = Type.Object({ password: Password, totp: TotpCode }, strict);

export const PreferencesSchema = Type.Object(
  {
    timezone: Type.String({ minLength: 1, maxLength: 64 }),
    units: Type.Union([Type.Literal('metric'), Type.Literal('imperial')]),
    theme: Type.Union([Type.Literal('system'), Type.Literal('light'), Type.Literal('dark')]),
    notifications: Type.Object(
      {
        email: Type.Boolean(),
        sms: Type.Boolean(),
        push: Type.Boolean(),
        minSeverity: Type.Union([
          Type.Literal('critical'),
          Type.Literal('major'),
          Type.Literal('minor'),
          Type.Literal('warning'),
          Type.Literal('info'),
        ]),
      },
      strict,
    ),
  },
  strict,
);

export const MeResponse = Type.Object({
  user: UserSchema,
  tenant: TenantRefSchema,
  permissions: Type.Array(Type.String()),
  tenants: Type.Array(TenantRefSchema),
  mfaEnrollmentRequired: Type.Boolean(),
  sessionId: Type.String(),
});
