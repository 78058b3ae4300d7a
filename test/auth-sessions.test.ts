import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../src/audit/audit.repository.js';
import { createTestApp, createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { loginAs, PASSWORD, seedUser } from './helpers/identity.js';

describe.each(DIALECTS)('login, refresh rotation, logout on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestAppOn(dialect);
  });
  afterAll(() => t.close());

  it('logs in and returns tokens, the user and the tenant — never hashes', async () => {
    const { email } = await seedUser(t.services, { tenant: 'acme', role: 'operator' });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password: PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 900,
      user: { email, isPlatformAdmin: false, totpEnabled: false },
      tenant: { slug: 'acme', role: 'operator' },
      mfaEnrollmentRequired: false,
    });
    expect(body.accessToken.split('.')).toHaveLength(3);
    expect(body.refreshToken).toMatch(/^vrt_[A-Za-z0-9_-]{43}$/);
    expect(res.body).not.toMatch(/argon2|password_hash|passwordHash/);

    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${body.accessToken}` },
    });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ user: { email }, tenant: { slug: 'acme', role: 'operator' } });
    expect(me.json().permissions).toContain('alarms:ack');
    expect(me.json().permissions).not.toContain('users:manage');
  });

  it('answers the same 401 for an unknown email and a wrong password', async () => {
    const { email } = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password: 'Not-The-Password-1' },
    });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'nobody@acme.example.com', password: 'Not-The-Password-1' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    const strip = (b: { requestId?: string }) => ({ ...b, requestId: undefined });
    expect(strip(wrong.json())).toEqual(strip(unknown.json()));
    expect(wrong.json().code).toBe('INVALID_CREDENTIALS');
  });

  it('rotates refresh tokens; replaying a used one revokes the whole session', async () => {
    const { email } = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
    const a = await loginAs(t.app, email);
    const refresh = (token: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: token } });

    const r1 = await refresh(a.refreshToken);
    expect(r1.statusCode).toBe(200);
    const b = r1.json();
    expect(b.refreshToken).not.toBe(a.refreshToken);

    // B is rotated too, so A is no longer the immediately previous token: replaying it is reuse.
    const r2 = await refresh(b.refreshToken);
    expect(r2.statusCode).toBe(200);
    const c = r2.json();

    const replay = await refresh(a.refreshToken);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('TOKEN_INVALID');
    // The family is gone: the newest refresh token and the access tokens stop working.
    expect((await refresh(c.refreshToken)).statusCode).toBe(401);
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${c.accessToken}` },
    });
    expect(me.statusCode).toBe(401);

    const events = await listAudit(t.services.database.db, { action: 'auth.refresh_token_reuse', limit: 5 });
    expect(events[0]).toMatchObject({ outcome: 'denied', severity: 'critical' });
  });

  it('allows the immediately previous token within the grace period (concurrent tabs)', async () => {
    const { email } = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
    const a = await loginAs(t.app, email);
    const first = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: a.refreshToken },
    });
    const second = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: a.refreshToken },
    });
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    // Both branches keep working: nothing was revoked.
    for (const r of [first, second]) {
      const me = await t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { authorization: `Bearer ${r.json().accessToken}` },
      });
      expect(me.statusCode).toBe(200);
    }
  });

  it('does not extend the grace to another client: a replay from elsewhere is reuse', async () => {
    const { email } = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
    const a = await loginAs(t.app, email);
    const first = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: a.refreshToken },
    });
    expect(first.statusCode).toBe(200);
    const thief = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      remoteAddress: '203.0.113.66',
      payload: { refreshToken: a.refreshToken },
    });
    expect(thief.statusCode).toBe(401);
    // The whole session is revoked, including the legitimate tab's new tokens.
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${first.json().accessToken}` },
    });
    expect(me.statusCode).toBe(401);
  });

  it('logout ends this session only; logout-all ends every session', async () => {
    const { email } = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
    const s1 = await loginAs(t.app, email);
    const s2 = await loginAs(t.app, email);
    const s3 = await loginAs(t.app, email);
    const me = (s: typeof s1) => t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: s.auth });

    expect(
      (await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: s1.auth })).statusCode,
    ).toBe(204);
    expect((await me(s1)).statusCode).toBe(401);
    expect((await me(s2)).statusCode).toBe(200);
    const refreshS1 = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: s1.refreshToken },
    });
    expect(refreshS1.statusCode).toBe(401);

    expect(
      (await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers: s2.auth })).statusCode,
    ).toBe(204);
    expect((await me(s2)).statusCode).toBe(401);
    expect((await me(s3)).statusCode).toBe(401);
  });

  it('password change needs the current password and ends every other session', async () => {
    const { email } = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
    const mine = await loginAs(t.app, email);
    const other = await loginAs(t.app, email);
    const change = (body: object) =>
      t.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: mine.auth, payload: body });

    const wrong = await change({ currentPassword: 'Wrong-Password-123', newPassword: 'A-New-Password-456' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors[0].pointer).toBe('/body/currentPassword');

    const weak = await change({ currentPassword: PASSWORD, newPassword: 'password1234' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().errors[0]).toMatchObject({
      pointer: '/body/newPassword',
      detail: expect.stringMatching(/common/),
    });

    const same = await change({ currentPassword: PASSWORD, newPassword: PASSWORD });
    expect(same.json().errors[0]).toEqual({
      pointer: '/body/newPassword',
      detail: 'must differ from the current password',
    });

    expect((await change({ currentPassword: PASSWORD, newPassword: 'A-New-Password-456' })).statusCode).toBe(
      204,
    );
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: mine.auth })).statusCode,
    ).toBe(200);
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: other.auth })).statusCode,
    ).toBe(401);
    await expect(loginAs(t.app, email)).rejects.toThrow(/401/);
    await loginAs(t.app, email, 'A-New-Password-456');
  });

  it('rejects unknown fields (mass assignment) on auth bodies', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'a@b.example.com', password: 'x', isPlatformAdmin: true },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toContainEqual({
      pointer: '/body/isPlatformAdmin',
      detail: 'is not an allowed property',
    });
  });

  it('stores preferences with validation', async () => {
    const { email } = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
    const s = await loginAs(t.app, email);
    const get = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me/preferences', headers: s.auth });
    expect(get.json()).toMatchObject({ timezone: 'UTC', units: 'metric' });
    const prefs = {
      timezone: 'Europe/Paris',
      units: 'imperial',
      theme: 'dark',
      notifications: { email: false, sms: true, push: true, minSeverity: 'critical' },
    };
    const put = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/auth/me/preferences',
      headers: s.auth,
      payload: prefs,
    });
    expect(put.statusCode).toBe(200);
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me/preferences', headers: s.auth })).json(),
    ).toEqual(prefs);
    const bad = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/auth/me/preferences',
      headers: s.auth,
      payload: { ...prefs, timezone: 'Mars/Olympus' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].pointer).toBe('/body/timezone');
  });
});

describe('refresh reuse without grace', () => {
  it('A→B, then replaying A → 401 and B revoked', async () => {
    const t = await createTestApp({ REFRESH_REUSE_GRACE_MS: '0' });
    try {
      const { email } = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
      const a = await loginAs(t.app, email);
      const refresh = (token: string) =>
        t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: token } });
      const b = (await refresh(a.refreshToken)).json();
      expect(b.refreshToken).toMatch(/^vrt_/);
      // Let the clock move past the rotation instant so "no grace" really means none is left.
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect((await refresh(a.refreshToken)).statusCode).toBe(401);
      expect((await refresh(b.refreshToken)).statusCode).toBe(401);
      const me = await t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { authorization: `Bearer ${b.accessToken}` },
      });
      expect(me.statusCode).toBe(401);
    } finally {
      await t.close();
    }
  });
});

describe('browser sessions with the refresh token in a cookie', () => {
  it('keeps the refresh token out of the body and script reach, and requires the CSRF token to refresh', async () => {
    const t = await createTestApp();
    try {
      const { email } = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
      const login = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email, password: PASSWORD, session: 'cookie' },
      });
      expect(login.statusCode).toBe(200);
      const body = login.json();
      expect(body.refreshToken).toBeUndefined();
      expect(body.csrfToken).toEqual(expect.any(String));
      const cookies = Object.fromEntries(login.cookies.map((c) => [c.name, c]));
      expect(cookies.vigil_rt).toMatchObject({
        httpOnly: true,
        secure: true,
        sameSite: 'Strict',
        path: '/api/v1/auth',
      });
      expect(cookies.vigil_rt!.value).toMatch(/^vrt_/);
      expect(cookies.vigil_csrf).toMatchObject({ secure: true, sameSite: 'Strict', path: '/' });
      expect(cookies.vigil_csrf!.httpOnly).toBeFalsy();

      const jar = { vigil_rt: cookies.vigil_rt!.value, vigil_csrf: cookies.vigil_csrf!.value };
      const noCsrf = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', cookies: jar });
      expect(noCsrf.statusCode).toBe(403);
      const wrongCsrf = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        cookies: jar,
        headers: { 'x-csrf-token': 'forged' },
      });
      expect(wrongCsrf.statusCode).toBe(403);

      const ok = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        cookies: jar,
        headers: { 'x-csrf-token': body.csrfToken },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().refreshToken).toBeUndefined();
      const rotated = ok.cookies.find((c) => c.name === 'vigil_rt')!;
      expect(rotated.value).not.toBe(jar.vigil_rt);

      const logout = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: { authorization: `Bearer ${ok.json().accessToken}` },
      });
      expect(logout.statusCode).toBe(204);
      expect(logout.cookies.find((c) => c.name === 'vigil_rt')?.value).toBe('');

      const empty = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh' });
      expect(empty.statusCode).toBe(400);
      expect(empty.json().errors[0].pointer).toBe('/body/refreshToken');
    } finally {
      await t.close();
    }
  });
});

describe.each(DIALECTS)('concurrent refreshes on %s', (dialect) => {
  it('one rotation wins; the concurrent one gets the grace branch, and nothing escapes logout-all', async () => {
    const t = await createTestAppOn(dialect);
    try {
      const { email } = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
      const a = await loginAs(t.app, email);
      const results = await Promise.all(
        Array.from({ length: 4 }, () =>
          t.app.inject({
            method: 'POST',
            url: '/api/v1/auth/refresh',
            payload: { refreshToken: a.refreshToken },
          }),
        ),
      );
      const ok = results.filter((r) => r.statusCode === 200);
      expect(ok.length).toBeGreaterThanOrEqual(1);
      for (const r of results) expect([200, 401]).toContain(r.statusCode);
      // Whatever branches exist, logout-all ends them all.
      const any = ok[0]!.json();
      const out = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout-all',
        headers: { authorization: `Bearer ${any.accessToken}` },
      });
      expect(out.statusCode).toBe(204);
      for (const r of ok) {
        const again = await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refreshToken: r.json().refreshToken },
        });
        expect(again.statusCode).toBe(401);
      }
    } finally {
      await t.close();
    }
  });
});
