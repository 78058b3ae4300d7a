import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stepAt, totpCode } from '../src/auth/totp.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { loginAs, PASSWORD, seedUser } from './helpers/identity.js';

describe('TOTP multi-factor authentication', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const login = (payload: object) => t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload });

  async function enrolled() {
    const u = await seedUser(t.services, { tenant: 'acme', role: 'admin' });
    const s = await loginAs(t.app, u.email);
    const noPassword = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/enroll',
      headers: s.auth,
      payload: {},
    });
    expect(noPassword.statusCode).toBe(400);
    const enroll = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/enroll',
      headers: s.auth,
      payload: { password: PASSWORD },
    });
    expect(enroll.statusCode, enroll.body).toBe(200);
    const { secret, otpauthUri } = enroll.json();
    expect(otpauthUri).toContain(`secret=${secret}`);
    const now = stepAt(Date.now());
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/activate',
      headers: s.auth,
      payload: { totp: totpCode(secret, now + 5) },
    });
    expect(wrong.statusCode).toBe(401);
    const activate = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/activate',
      headers: s.auth,
      payload: { totp: totpCode(secret, now) },
    });
    expect(activate.statusCode).toBe(200);
    const { recoveryCodes } = activate.json();
    expect(recoveryCodes).toHaveLength(10);
    return { ...u, secret, recoveryCodes: recoveryCodes as string[], step: now, session: s };
  }

  it('enrols, then login needs a code; a wrong or replayed code is refused', async () => {
    const u = await enrolled();
    const noCode = await login({ email: u.email, password: PASSWORD });
    expect(noCode.statusCode).toBe(401);
    expect(noCode.json().code).toBe('MFA_REQUIRED');

    const bad = await login({ email: u.email, password: PASSWORD, totp: totpCode(u.secret, u.step + 3) });
    expect(bad.json().code).toBe('MFA_INVALID');

    // The activation code's step is used up; the next step's code works once.
    const replayActivation = await login({
      email: u.email,
      password: PASSWORD,
      totp: totpCode(u.secret, u.step),
    });
    expect(replayActivation.json().code).toBe('MFA_INVALID');
    const code = totpCode(u.secret, u.step + 1);
    const ok = await login({ email: u.email, password: PASSWORD, totp: code });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().user.totpEnabled).toBe(true);
    const replay = await login({ email: u.email, password: PASSWORD, totp: code });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('MFA_INVALID');

    // A code does not bypass the password.
    expect(
      (
        await login({ email: u.email, password: 'Wrong-Password-1', totp: totpCode(u.secret, u.step + 1) })
      ).json().code,
    ).toBe('INVALID_CREDENTIALS');
  });

  it('limits second-factor guesses per user, from whatever address', async () => {
    const u = await enrolled();
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: `192.0.2.${10 + i}`,
        payload: { email: u.email, password: PASSWORD, totp: totpCode(u.secret, u.step + 5 + i) },
      });
      codes.push(res.statusCode);
    }
    expect(codes).toEqual([401, 401, 401, 401, 401, 429]);
    // Even the right code waits out the block.
    const right = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: '192.0.2.99',
      payload: { email: u.email, password: PASSWORD, totp: totpCode(u.secret, u.step + 1) },
    });
    expect(right.statusCode).toBe(429);
  });

  it('accepts each recovery code once', async () => {
    const u = await enrolled();
    const [first, second] = u.recoveryCodes;
    expect((await login({ email: u.email, password: PASSWORD, recoveryCode: first })).statusCode).toBe(200);
    const again = await login({ email: u.email, password: PASSWORD, recoveryCode: first });
    expect(again.statusCode).toBe(401);
    expect(again.json().code).toBe('MFA_INVALID');
    expect(
      (await login({ email: u.email, password: PASSWORD, recoveryCode: second!.toUpperCase() })).statusCode,
    ).toBe(200);
  });

  it('disabling needs the password and a fresh code', async () => {
    const u = await enrolled();
    const disable = (payload: object) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa/totp/disable',
        headers: u.session.auth,
        payload,
      });
    expect(
      (await disable({ password: 'Wrong-Password-1', totp: totpCode(u.secret, u.step + 1) })).statusCode,
    ).toBe(400);
    expect((await disable({ password: PASSWORD, totp: totpCode(u.secret, u.step + 1) })).statusCode).toBe(
      204,
    );
    expect((await login({ email: u.email, password: PASSWORD })).statusCode).toBe(200);
  });

  it('a tenant can require MFA for owners and admins: they may only enrol until they do', async () => {
    const owner = await seedUser(t.services, { tenant: 'strict', role: 'owner' });
    const admin = await seedUser(t.services, { tenant: 'strict', role: 'admin' });
    const viewer = await seedUser(t.services, { tenant: 'strict', role: 'viewer' });
    const os = await loginAs(t.app, owner.email);
    const set = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/tenant',
      headers: os.auth,
      payload: { settings: { requireMfaForAdmins: true } },
    });
    expect(set.statusCode).toBe(200);
    expect(set.json().settings.requireMfaForAdmins).toBe(true);

    const res = await login({ email: admin.email, password: PASSWORD });
    expect(res.statusCode).toBe(200);
    expect(res.json().mfaEnrollmentRequired).toBe(true);
    const auth = { authorization: `Bearer ${res.json().accessToken}` };
    const blocked = await t.app.inject({ method: 'GET', url: '/api/v1/tenant', headers: auth });
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().code).toBe('MFA_ENROLLMENT_REQUIRED');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: auth })).statusCode).toBe(
      200,
    );
    const enroll = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/enroll',
      headers: auth,
      payload: { password: PASSWORD },
    });
    const { secret } = enroll.json();
    const step = stepAt(Date.now());
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/mfa/totp/activate',
          headers: auth,
          payload: { totp: totpCode(secret, step) },
        })
      ).statusCode,
    ).toBe(200);
    // Enrolled: the same session now reaches the tenant.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/tenant', headers: auth })).statusCode).toBe(
      200,
    );

    // Viewers are not affected.
    const vs = await loginAs(t.app, viewer.email);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/tenant', headers: vs.auth })).statusCode).toBe(
      200,
    );
  });

  it('never returns the TOTP secret or recovery codes outside enrolment, and stores them protected', async () => {
    const u = await enrolled();
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: u.session.auth });
    expect(me.body).not.toContain(u.secret);
    const row = await t.services.database.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', u.user.id)
      .executeTakeFirstOrThrow();
    expect(row.totp_secret).not.toContain(u.secret);
    expect(row.totp_secret).toMatch(/^v1\./);
    const stored = (
      await t.services.database.db
        .selectFrom('recovery_codes')
        .select('code_hash')
        .where('user_id', '=', u.user.id)
        .execute()
    ).map((c) => c.code_hash);
    expect(stored).toHaveLength(10);
    // Codes are keyed hashes: a plain SHA-256 of the code (crackable from a database copy) is not what is stored.
    for (const code of u.recoveryCodes) {
      const normal = code.replace(/-/g, '').toLowerCase();
      expect(stored).not.toContain(createHash('sha256').update(normal).digest('hex'));
      expect(stored.join()).not.toContain(normal);
    }
    expect(u.recoveryCodes[0]).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
  });

  it('rate limits password re-checks of a signed-in user', async () => {
    const u = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
    const s = await loginAs(t.app, u.email);
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/password',
        headers: s.auth,
        payload: { currentPassword: `Wrong-Password-${i}`, newPassword: 'Another-Strong-Pass-5' },
      });
      codes.push(res.statusCode);
    }
    expect(codes).toEqual([400, 400, 400, 400, 429, 429]);
    const enroll = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/enroll',
      headers: s.auth,
      payload: { password: PASSWORD },
    });
    expect(enroll.statusCode).toBe(429);
  });
});
