import type { Permission, Role } from './permissions.js';

/** Who is making a request, resolved once by the auth hook. */
export type Principal =
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly email: string;
      readonly tenantId: string;
      readonly role: Role;
      readonly permissions: ReadonlySet<Permission>;
      readonly sessionId: string;
      readonly isPlatformAdmin: boolean;
      /** The tenant requires MFA for this role and the user has not enrolled yet. */
      readonly mfaPending: boolean;
    }
  | {
      readonly kind: 'api-key';
      readonly apiKeyId: string;
      readonly tenantId: string;
      readonly permissions: ReadonlySet<Permission>;
    }
  | {
      readonly kind: 'device';
      readonly credentialId: string;
      readonly deviceId: string;
      readonly tenantId: string;
    };

export type UserPrincipal = Extract<Principal, { kind: 'user' }>;

/**
 * How a route authenticates: `public` (no credentials), `user` (a person's access token),
 * `principal` (a person or an API key), `device` (a device credential), `ingest` (a device, or a
 * person or API key with the route's permission).
 */
export type AuthMode = 'public' | 'user' | 'principal' | 'device' | 'ingest';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every /api route: the auth hook refuses to start without it. */
    auth?: AuthMode;
    /** Permission the principal's role (or API key) must include. */
    permission?: Permission;
    /** Only operators of the whole installation. */
    platformAdmin?: boolean;
    /** Reachable while a required MFA enrolment is pending (enrolment itself, me, logout). */
    allowMfaPending?: boolean;
    /** Accept the credential in the `p` query parameter (InfluxDB v1 clients send it there). */
    queryCredential?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}
