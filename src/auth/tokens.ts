import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../config/config.js';
import { deriveKey, type KeyMaterial, randomToken, sha256 } from '../security/crypto.js';

/** Claims of a Vigil access token. */
export interface AccessClaims {
  /** User id. */
  readonly sub: string;
  /** Tenant the token acts in. */
  readonly tid: string;
  /** Session (refresh-token family) id, checked on every request so logout takes effect at once. */
  readonly sid: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
  /** Set while the user still has to enrol MFA the tenant requires: only enrolment routes accept it. */
  readonly mfa?: 'enroll';
}

const ALG = 'HS256';
const KID = /^[A-Za-z0-9_-]{8}$/;

export class TokenError extends Error {
  override name = 'TokenError';
}

/**
 * Signs and verifies access tokens. One algorithm (HS256) is pinned: `none`, RS256, ES256 and anything
 * else is refused before any key is touched. Keys come from SECRET_KEY (signing) and
 * SECRET_KEY_PREVIOUS (verification only), each derived for this purpose and named by `kid`.
 */
export class AccessTokens {
  private readonly keys: Map<string, Uint8Array>;
  private readonly current: string;

  constructor(
    secrets: { secretKey: KeyMaterial; secretKeyPrevious: readonly KeyMaterial[] },
    private readonly opts: Pick<Config['auth'], 'issuer' | 'audience' | 'accessTokenTtlS'>,
  ) {
    this.current = secrets.secretKey.id;
    this.keys = new Map(
      [secrets.secretKey, ...secrets.secretKeyPrevious].map((k) => [
        k.id,
        new Uint8Array(deriveKey(k, 'jwt-hs256')),
      ]),
    );
  }

  async sign(
    claims: { sub: string; tid: string; sid: string; mfa?: 'enroll' },
    now = Date.now(),
  ): Promise<string> {
    const iat = Math.floor(now / 1000);
    const jwt = new SignJWT({
      tid: claims.tid,
      sid: claims.sid,
      typ: 'access',
      ...(claims.mfa ? { mfa: claims.mfa } : {}),
    })
      .setProtectedHeader({ alg: ALG, typ: 'JWT', kid: this.current })
      .setIssuer(this.opts.issuer)
      .setAudience(this.opts.audience)
      .setSubject(claims.sub)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.opts.accessTokenTtlS);
    return jwt.sign(this.keys.get(this.current)!);
  }

  /** Returns the claims of a valid access token, or throws TokenError saying why (for logs, not clients). */
  async verify(token: string, now = Date.now()): Promise<AccessClaims> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new TokenError('not a JWT');
    }
    if (header.alg !== ALG) throw new TokenError(`algorithm ${String(header.alg)} is not accepted`);
    if (typeof header.kid !== 'string' || !KID.test(header.kid)) throw new TokenError('malformed kid');
    const key = this.keys.get(header.kid);
    if (!key) throw new TokenError('unknown kid');
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: [ALG],
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        typ: 'JWT',
        requiredClaims: ['exp', 'iat', 'sub', 'jti', 'tid', 'sid'],
        currentDate: new Date(now),
        clockTolerance: 5,
      });
      if (payload.typ !== 'access') throw new TokenError('not an access token');
      if (
        typeof payload.tid !== 'string' ||
        typeof payload.sid !== 'string' ||
        typeof payload.sub !== 'string'
      ) {
        throw new TokenError('malformed claims');
      }
      if (payload.mfa !== undefined && payload.mfa !== 'enroll') throw new TokenError('malformed mfa claim');
      return payload as unknown as AccessClaims;
    } catch (err) {
      if (err instanceof TokenError) throw err;
      if (err instanceof joseErrors.JOSEError) throw new TokenError(err.code);
      throw new TokenError('invalid token');
    }
  }
}

/** Opaque secrets users and machines present: the prefix says what it is, the rest is 256 random bits. */
export const TOKEN_PREFIX = { refresh: 'vrt_', apiKey: 'vgl_', device: 'vdt_', oneTime: 'vot_' } as const;

export function newOpaqueToken(kind: keyof typeof TOKEN_PREFIX): string {
  return `${TOKEN_PREFIX[kind]}${randomToken(32)}`;
}

/**
 * Opaque tokens are stored as SHA-256 digests: they carry 256 bits of entropy, so a fast hash is
 * enough (no dictionary to attack) and lookups stay a single indexed equality.
 */
export function hashToken(token: string): string {
  return sha256(token).toString('hex');
}
