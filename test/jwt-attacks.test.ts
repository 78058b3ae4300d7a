import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKey } from '../src/security/crypto.js';
import { updateUser } from '../src/users/users.repository.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { loginAs, type Session, seedUser } from './helpers/identity.js';

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('access token attacks: each is refused with 401', () => {
  let t: TestApp;
  let session: Session;
  let userId: string;
  let tenantId: string;
  let sid: string;
  let key: Uint8Array;
  let kid: string;

  beforeAll(async () => {
    t = await createTestApp();
    const seeded = await seedUser(t.services, { tenant: 'acme', role: 'owner' });
    userId = seeded.user.id;
    tenantId = seeded.tenant.id;
    session = await loginAs(t.app, seeded.email);
    const [, payload] = session.accessToken.split('.');
    sid = JSON.parse(Buffer.from(payload!, 'base64url').toString()).sid;
    key = new Uint8Array(deriveKey(t.config.secrets.secretKey, 'jwt-hs256'));
    kid = t.config.secrets.secretKey.id;
  });
  afterAll(() => t.close());

  const me = (token: string) =>
    t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } });

  async function expect401(token: string) {
    const res = await me(token);
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('TOKEN_INVALID');
  }

  /** A token signed with the real key, with claims overridden or removed (value undefined). */
  function forge(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
    const now = Math.floor(Date.now() / 1000);
    const base: Record<string, unknown> = {
      iss: 'vigil',
      aud: 'vigil-api',
      sub: userId,
      tid: tenantId,
      sid,
      typ: 'access',
      jti: randomUUID(),
      iat: now,
      exp: now + 600,
      ...claims,
    };
    for (const k of Object.keys(base)) if (base[k] === undefined) delete base[k];
    return new SignJWT(base)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid, ...header } as { alg: string })
      .sign(key);
  }

  it('accepts a well-formed forged token (the forge helper is right)', async () => {
    expect((await me(await forge({}))).statusCode).toBe(200);
  });

  it('alg: none', async () => {
    const [, payload] = (await forge({})).split('.');
    await expect401(`${b64({ alg: 'none', typ: 'JWT', kid })}.${payload}.`);
    await expect401(`${b64({ alg: 'None', typ: 'JWT', kid })}.${payload}.`);
  });

  it('HS/RS confusion and other algorithms', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const claims = {
      iss: 'vigil',
      aud: 'vigil-api',
      sub: userId,
      tid: tenantId,
      sid,
      typ: 'access',
      jti: randomUUID(),
    };
    const rs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    await expect401(rs);
    // HS256 keyed with the RSA public key (the classic confusion attack).
    const jwk = await exportJWK(publicKey);
    const confused = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid })
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    await expect401(confused);
    const hs512 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS512', kid })
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key);
    await expect401(hs512);
  });

  it('a different key with the right kid', async () => {
    const other = await new SignJWT({ tid: tenantId, sid, typ: 'access' })
      .setProtectedHeader({ alg: 'HS256', kid })
      .setIssuer('vigil')
      .setAudience('vigil-api')
      .setSubject(userId)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(randomBytes(32));
    await expect401(other);
  });

  it('a tampered payload', async () => {
    const [h, p, s] = session.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    await expect401(`${h}.${b64({ ...claims, tid: randomUUID() })}.${s}`);
    await expect401(`${h}.${b64({ ...claims, exp: claims.exp + 3600 })}.${s}`);
  });

  it('expired, and missing exp', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    await expect401(await forge({ iat: past - 900, exp: past }));
    await expect401(await forge({ exp: undefined }));
  });

  it('wrong audience or issuer, missing claims', async () => {
    await expect401(await forge({ aud: 'someone-else' }));
    await expect401(await forge({ iss: 'evil' }));
    await expect401(await forge({ sid: undefined }));
    await expect401(await forge({ tid: undefined }));
  });

  it('a refresh token, or a token of another type, used as an access token', async () => {
    await expect401(session.refreshToken);
    await expect401(await forge({ typ: 'refresh' }));
    await expect401(await forge({ typ: undefined }));
  });

  it('kid path and SQL injection strings', async () => {
    for (const bad of [
      '../../../../etc/passwd',
      "' OR '1'='1",
      'x"; DROP TABLE users; --',
      '',
      `../${kid}`,
    ]) {
      await expect401(await forge({}, { kid: bad }));
    }
    await expect401(await forge({}, { kid: undefined }));
  });

  it('a token of a disabled or deleted user', async () => {
    const victim = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
    const s = await loginAs(t.app, victim.email);
    expect((await me(s.accessToken)).statusCode).toBe(200);
    await updateUser(t.services.database.db, victim.user.id, { status: 'disabled', now: Date.now() });
    await expect401(s.accessToken);

    const gone = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
    const g = await loginAs(t.app, gone.email);
    await t.services.database.db.deleteFrom('users').where('id', '=', gone.user.id).execute();
    await expect401(g.accessToken);
  });

  it('garbage', async () => {
    for (const bad of ['x', 'a.b.c', `${b64({ alg: 'HS256' })}..`, 'Bearer', '.'.repeat(3)])
      await expect401(bad);
  });
});
