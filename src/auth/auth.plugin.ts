import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import { authenticateAccessToken, authenticateApiKey, authenticateDeviceToken } from './authenticate.js';
import type { Principal } from './principal.js';
import { TOKEN_PREFIX } from './tokens.js';

/** Every /api route with its access rules; tests walk it so new routes are covered automatically. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly config: NonNullable<RouteOptions['config']>;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: readonly RouteEntry[];
  }
}

const CHALLENGE = { 'www-authenticate': 'Bearer realm="vigil"' };

function unauthenticated(detail: string): AppError {
  return new AppError('UNAUTHENTICATED', detail, { headers: CHALLENGE });
}

/**
 * The credential of a request: `Authorization: Bearer|Device <token>`; InfluxDB clients' `Token
 * <token>` and Basic (password = token); and on routes that allow it (InfluxDB v1 `/write`), the
 * `p` query parameter. Which kind of credential it is follows from its prefix or scheme.
 */
function credentialOf(request: FastifyRequest): { scheme: string; credential: string } {
  const header = request.headers.authorization;
  if (!header) {
    const p = request.routeOptions.config?.queryCredential
      ? (request.query as Record<string, unknown> | undefined)?.p
      : undefined;
    if (typeof p === 'string' && p !== '') return { scheme: 'token', credential: p };
    throw unauthenticated('Send Authorization: Bearer <token> (or Device <token> for devices)');
  }
  const match = /^(Bearer|Device|Token|Basic)\s+(\S+)$/i.exec(header);
  if (!match) throw unauthenticated('Malformed Authorization header');
  const scheme = match[1]!.toLowerCase();
  if (scheme !== 'basic') return { scheme, credential: match[2]! };
  const decoded = Buffer.from(match[2]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw unauthenticated('Malformed Basic credentials');
  return { scheme: 'token', credential: decoded.slice(colon + 1) };
}

async function resolve(services: Services, request: FastifyRequest): Promise<Principal> {
  const { scheme, credential } = credentialOf(request);
  try {
    // Bearer stays strictly for access tokens and API keys; InfluxDB clients' Token/Basic/p carry any kind.
    if (scheme === 'device' || (scheme === 'token' && credential.startsWith(TOKEN_PREFIX.device))) {
      return await authenticateDeviceToken(services, credential);
    }
    if (credential.startsWith(TOKEN_PREFIX.apiKey)) return await authenticateApiKey(services, credential);
    return await authenticateAccessToken(services, credential);
  } catch (err) {
    if (err instanceof AppError && err.code === 'TOKEN_INVALID') {
      request.log.info({ reason: (err.cause as Error | undefined)?.message }, 'credential rejected');
      throw new AppError('TOKEN_INVALID', undefined, { headers: CHALLENGE });
    }
    throw err;
  }
}

/**
 * Authentication and route-level authorization, before any body is parsed or validated
 * (rate-limit → authenticate → validate → … in every route). Every /api route must declare
 * `config.auth`; one that forgets fails at start-up rather than being silently public.
 */
export const authPlugin = fp(
  async (
    app: FastifyInstance,
    opts: {
      services: Services;
      /** Told of every failed authentication (may throw instead, e.g. 429 for too many). */
      onAuthFailure?: (request: FastifyRequest) => Promise<void>;
    },
  ) => {
    app.decorateRequest('principal', null);

    const table: RouteEntry[] = [];
    app.decorate('routeTable', table);
    app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/api/')) return;
      if (route.config?.auth === undefined) {
        throw new Error(`route ${String(route.method)} ${route.url} must declare config.auth`);
      }
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD') table.push({ method, url: route.url, config: route.config });
      }
    });

    app.addHook('onRequest', async (request) => {
      const config = request.routeOptions.config;
      const mode = config?.auth;
      if (mode === undefined || mode === 'public') return;
      let principal: Principal;
      try {
        principal = await resolve(opts.services, request);
      } catch (err) {
        await opts.onAuthFailure?.(request);
        throw err;
      }
      request.principal = principal;

      if (mode === 'device' && principal.kind !== 'device') {
        throw new AppError('FORBIDDEN', 'This endpoint is for devices (Authorization: Device <token>)');
      }
      if (mode !== 'device' && mode !== 'ingest' && principal.kind === 'device') {
        throw new AppError(
          'FORBIDDEN',
          'Device credentials can only send data and read their own configuration',
        );
      }
      if (mode === 'user' && principal.kind !== 'user') {
        throw new AppError('FORBIDDEN', 'This endpoint needs a user session, not an API key');
      }
      if (principal.kind === 'user' && principal.mfaPending && !config.allowMfaPending) {
        throw new AppError(
          'MFA_ENROLLMENT_REQUIRED',
          'Enrol an authenticator (POST /api/v1/auth/mfa/totp/enroll) before using this tenant',
        );
      }
      if (config.platformAdmin && !(principal.kind === 'user' && principal.isPlatformAdmin)) {
        throw new AppError('FORBIDDEN', 'Only platform administrators can do this');
      }
      if (config.permission && principal.kind !== 'device' && !principal.permissions.has(config.permission)) {
        throw new AppError('FORBIDDEN', `This needs the ${config.permission} permission`, {
          fields: { permission: config.permission },
        });
      }
    });
  },
  { name: 'vigil-auth' },
);
