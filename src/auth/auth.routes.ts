import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { clientInfo } from '../http/client-info.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import { findTenant } from '../tenants/tenants.repository.js';
import { presentUser } from '../users/user.presenter.js';
import {
  findUserRecord,
  listMembershipsOfUser,
  parsePreferences,
  toUser,
  updateUser,
} from '../users/users.repository.js';
import {
  ChangePasswordBody,
  LoginBody,
  LoginResponse,
  MeResponse,
  Password,
  PasswordAndCode,
  PreferencesSchema,
  RefreshBody,
  TokenPairSchema,
  TotpCode,
} from './auth.schemas.js';
import {
  activateTotp,
  changePassword,
  disableTotp,
  enrollTotp,
  login,
  logout,
  regenerateRecoveryCodes,
} from './auth.service.js';
import { mfaRequiredFor } from './authenticate.js';
import type { Principal, UserPrincipal } from './principal.js';
import { clearSessionCookies, refreshTokenFromCookie, setSessionCookies } from './refresh-cookie.js';
import { refreshSession } from './sessions.service.js';

export function userOf(principal: Principal | null): UserPrincipal {
  if (principal?.kind !== 'user') throw new AppError('UNAUTHENTICATED');
  return principal;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** /api/v1/auth: login, token refresh, logout, the current user, password, MFA, preferences. */
export async function authRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const tags = ['auth'];

  app.post(
    '/login',
    {
      config: { auth: 'public', rateLimit: 'auth' },
      schema: {
        tags,
        summary: 'Log in with email, password and (if enabled) a TOTP or recovery code',
        body: LoginBody,
        response: { 200: LoginResponse },
      },
    },
    async (request, reply) => {
      const { session, ...credentials } = request.body;
      const result = await login(services, credentials, clientInfo(request));
      const body = { ...result, user: presentUser(result.user) };
      if (session !== 'cookie') return body;
      const csrfToken = setSessionCookies(
        reply,
        result.refreshToken,
        services.config.auth.refreshAbsoluteTtlS,
      );
      return { ...body, refreshToken: undefined, csrfToken };
    },
  );

  app.post(
    '/refresh',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Exchange a refresh token for a new pair (the old one is used up)',
        body: RefreshBody,
        response: { 200: TokenPairSchema },
      },
    },
    async (request, reply) => {
      const fromBody = request.body?.refreshToken;
      const presented = fromBody ?? refreshTokenFromCookie(request);
      if (!presented) {
        throw new AppError('VALIDATION_FAILED', 'No refresh token', {
          errors: [
            {
              pointer: '/body/refreshToken',
              detail: 'is required (or send the session cookie with X-CSRF-Token)',
            },
          ],
        });
      }
      const pair = await refreshSession(services, presented, clientInfo(request));
      if (fromBody) return pair;
      const csrfToken = setSessionCookies(reply, pair.refreshToken, services.config.auth.refreshAbsoluteTtlS);
      return { ...pair, refreshToken: undefined, csrfToken };
    },
  );

  app.post(
    '/logout',
    {
      config: { auth: 'user', allowMfaPending: true },
      schema: { tags, summary: 'End this session', response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await logout(services, userOf(request.principal), clientInfo(request), false);
      clearSessionCookies(reply);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/logout-all',
    {
      config: { auth: 'user', allowMfaPending: true },
      schema: { tags, summary: 'End every session of this user', response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await logout(services, userOf(request.principal), clientInfo(request), true);
      clearSessionCookies(reply);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me',
    {
      config: { auth: 'user', allowMfaPending: true },
      schema: {
        tags,
        summary: 'The current user, tenant, role and permissions',
        response: { 200: MeResponse },
      },
    },
    async (request) => {
      const p = userOf(request.principal);
      const { db } = services.database;
      const [user, memberships, tenant] = await Promise.all([
        findUserRecord(db, p.userId),
        listMembershipsOfUser(db, p.userId),
        findTenant(db, p.tenantId),
      ]);
      const current = memberships.find((m) => m.tenantId === p.tenantId)!;
      const ref = (m: typeof current) => ({ id: m.tenantId, slug: m.slug, name: m.name, role: m.role });
      return {
        user: presentUser(toUser(user!)),
        tenant: ref(current),
        permissions: [...p.permissions].sort(),
        tenants: memberships.map(ref),
        mfaEnrollmentRequired: user!.totp_enabled !== 1 && mfaRequiredFor(p.role, tenant!.settings),
        sessionId: p.sessionId,
      };
    },
  );

  app.get(
    '/me/preferences',
    {
      config: { auth: 'user' },
      schema: { tags, summary: 'Display and notification preferences', response: { 200: PreferencesSchema } },
    },
    async (request) => {
      const user = await findUserRecord(services.database.db, userOf(request.principal).userId);
      return parsePreferences(user!.preferences);
    },
  );

  app.put(
    '/me/preferences',
    {
      config: { auth: 'user' },
      schema: {
        tags,
        summary: 'Replace preferences',
        body: PreferencesSchema,
        response: { 200: PreferencesSchema },
      },
    },
    async (request) => {
      if (!isTimeZone(request.body.timezone)) {
        throw new AppError('VALIDATION_FAILED', 'Unknown time zone', {
          errors: [{ pointer: '/body/timezone', detail: 'must be an IANA time zone such as Europe/Paris' }],
        });
      }
      await updateUser(services.database.db, userOf(request.principal).userId, {
        preferences: JSON.stringify(request.body),
        now: Date.now(),
      });
      return request.body;
    },
  );

  app.post(
    '/password',
    {
      config: { auth: 'user', allowMfaPending: true, rateLimit: 'auth' },
      schema: {
        tags,
        summary: 'Change password (needs the current one); ends every other session',
        body: ChangePasswordBody,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await changePassword(services, userOf(request.principal), request.body, clientInfo(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/mfa/totp/enroll',
    {
      config: { auth: 'user', allowMfaPending: true },
      schema: {
        tags,
        summary:
          'Start TOTP enrolment (password required): returns the secret and an otpauth:// URI for a QR code',
        body: Type.Object({ password: Password }, { additionalProperties: false }),
        response: { 200: Type.Object({ secret: Type.String(), otpauthUri: Type.String() }) },
      },
    },
    async (request) =>
      enrollTotp(services, userOf(request.principal), request.body.password, clientInfo(request)),
  );

  app.post(
    '/mfa/totp/activate',
    {
      config: { auth: 'user', allowMfaPending: true, rateLimit: 'auth' },
      schema: {
        tags,
        summary: 'Confirm enrolment with a first code; returns recovery codes (shown once)',
        body: Type.Object({ totp: TotpCode }, { additionalProperties: false }),
        response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }) },
      },
    },
    async (request) =>
      activateTotp(services, userOf(request.principal), request.body.totp, clientInfo(request)),
  );

  app.post(
    '/mfa/totp/disable',
    {
      config: { auth: 'user', rateLimit: 'auth' },
      schema: {
        tags,
        summary: 'Turn TOTP off (password and a current code)',
        body: PasswordAndCode,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await disableTotp(services, userOf(request.principal), request.body, clientInfo(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/mfa/recovery-codes',
    {
      config: { auth: 'user', rateLimit: 'auth' },
      schema: {
        tags,
        summary: 'Replace all recovery codes (password and a current code)',
        body: PasswordAndCode,
        response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }) },
      },
    },
    async (request) =>
      regenerateRecoveryCodes(services, userOf(request.principal), request.body, clientInfo(request)),
  );
}
