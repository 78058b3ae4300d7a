import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueBootstrapLinkIfEmpty } from '../src/auth/bootstrap.js';
import { createTestApp, createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { loginAs, PASSWORD, type Session, seedUser } from './helpers/identity.js';

describe.each(DIALECTS)('invitations and members on %s', (dialect) => {
  let t: TestApp;
  let owner: Session;
  let admin: Session;
  beforeAll(async () => {
    t = await createTestAppOn(dialect, { PUBLIC_URL: 'https://vigil.example.com' });
    owner = await loginAs(t.app, (await seedUser(t.services, { tenant: 'acme', role: 'owner' })).email);
    admin = await loginAs(t.app, (await seedUser(t.services, { tenant: 'acme', role: 'admin' })).email);
  });
  afterAll(() => t.close());

  const invite = (s: Session, payload: object) =>
    t.app.inject({ method: 'POST', url: '/api/v1/invitations', headers: s.auth, payload });
  const accept = (payload: object) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/invitations/accept', payload });

  it('invites a new user, who sets a password once with a single-use link', async () => {
    const res = await invite(admin, { email: 'New.Operator@Acme.example.com', role: 'operator' });
    expect(res.statusCode).toBe(201);
    const { token, acceptUrl, invitation } = res.json();
    expect(acceptUrl).toBe(`https://vigil.example.com/invite#token=${token}`);
    expect(invitation).toMatchObject({ email: 'new.operator@acme.example.com', role: 'operator' });
    const listed = await t.app.inject({ method: 'GET', url: '/api/v1/invitations', headers: admin.auth });
    expect(listed.json().items.map((i: { id: string }) => i.id)).toContain(invitation.id);
    expect(listed.body).not.toContain(token);

    const weak = await accept({ token, password: 'password' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().errors[0].pointer).toBe('/body/password');
    const ok = await accept({ token, password: 'Pump-Station-Seven-7', displayName: 'Nina' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ role: 'operator', user: { email: 'new.operator@acme.example.com' } });
    expect((await accept({ token, password: 'Pump-Station-Seven-7' })).statusCode).toBe(410);

    const s = await loginAs(t.app, 'new.operator@acme.example.com', 'Pump-Station-Seven-7');
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: s.auth });
    expect(me.json().tenant.role).toBe('operator');
  });

  it('lets an existing user of another tenant join only from their own logged-in account', async () => {
    const other = await seedUser(t.services, { tenant: 'other-utility', role: 'viewer' });
    const stranger = await seedUser(t.services, { tenant: 'other-utility', role: 'viewer' });
    const { token } = (await invite(owner, { email: other.email, role: 'analyst' })).json();
    // The public path never checks an existing account's password, so the link cannot be used to guess it.
    const pub = await accept({ token, password: 'Not-Their-Password-1' });
    expect(pub.statusCode).toBe(409);
    expect(pub.json().detail).toContain('accept-as-me');
    const asMe = (s: Session) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/invitations/accept-as-me',
        headers: s.auth,
        payload: { token },
      });
    expect((await asMe(await loginAs(t.app, stranger.email))).statusCode).toBe(403);
    const mine = await loginAs(t.app, other.email);
    const ok = await asMe(mine);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ role: 'analyst' });
    expect((await asMe(mine)).statusCode).toBe(410);
    const s = await loginAs(t.app, other.email, PASSWORD, { tenant: 'acme' });
    const me = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: s.auth })).json();
    expect(me.tenant).toMatchObject({ slug: 'acme', role: 'analyst' });
    expect(me.tenants.map((x: { slug: string }) => x.slug).sort()).toEqual(['acme', 'other-utility']);
  });

  it('an invitation dies with its inviter’s standing', async () => {
    const inviter = await seedUser(t.services, { tenant: 'acme', role: 'admin' });
    const is = await loginAs(t.app, inviter.email);
    const { token } = (
      await invite(is, { email: `pending-${inviter.user.id}@acme.example.com`, role: 'admin' })
    ).json();
    const demote = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/members/${inviter.user.id}`,
      headers: owner.auth,
      payload: { role: 'operator' },
    });
    expect(demote.statusCode).toBe(200);
    const res = await accept({ token, password: 'Pump-Station-Seven-7' });
    expect(res.statusCode).toBe(410);
    expect(res.json().detail).toMatch(/can no longer grant/);
  });

  it('admins cannot invite or promote owners; revoked invitations are dead', async () => {
    expect((await invite(admin, { email: 'boss@acme.example.com', role: 'owner' })).statusCode).toBe(403);
    const { token, invitation } = (
      await invite(admin, { email: 'late@acme.example.com', role: 'viewer' })
    ).json();
    expect(
      (
        await t.app.inject({
          method: 'DELETE',
          url: `/api/v1/invitations/${invitation.id}`,
          headers: admin.auth,
        })
      ).statusCode,
    ).toBe(204);
    expect((await accept({ token, password: 'Pump-Station-Seven-7' })).statusCode).toBe(410);
    expect(
      (
        await accept({
          token: 'vot_forged-token-value-xxxxxxxxxxxxxxxxxxxxxxx',
          password: 'Pump-Station-Seven-7',
        })
      ).statusCode,
    ).toBe(410);
  });

  it('changes roles within the rules and keeps the last owner', async () => {
    const member = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
    const s = await loginAs(t.app, member.email);
    const patch = (by: Session, userId: string, role: string) =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/v1/members/${userId}`,
        headers: by.auth,
        payload: { role },
      });

    const up = await patch(admin, member.user.id, 'operator');
    expect(up.statusCode).toBe(200);
    expect(up.json().role).toBe('operator');
    // Their sessions in this tenant end, so the new role takes effect with a fresh login.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: s.auth })).statusCode).toBe(
      401,
    );

    expect((await patch(admin, member.user.id, 'owner')).statusCode).toBe(403);
    const me = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: owner.auth })).json();
    const last = await patch(owner, me.user.id, 'admin');
    expect(last.statusCode).toBe(409);
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/api/v1/members/${me.user.id}`, headers: owner.auth }))
        .statusCode,
    ).toBe(409);

    expect(
      (
        await t.app.inject({
          method: 'DELETE',
          url: `/api/v1/members/${member.user.id}`,
          headers: admin.auth,
        })
      ).statusCode,
    ).toBe(204);
    expect(
      (await t.app.inject({ method: 'GET', url: `/api/v1/members/${member.user.id}`, headers: admin.auth }))
        .statusCode,
    ).toBe(404);
    const bad = await patch(admin, 'not-a-uuid', 'viewer');
    expect(bad.statusCode).toBe(400);
  });

  it('lists members with cursor pagination and never exposes secrets', async () => {
    const first = await t.app.inject({ method: 'GET', url: '/api/v1/members?limit=2', headers: admin.auth });
    const body = first.json();
    expect(body.items).toHaveLength(2);
    expect(first.body).not.toMatch(/argon2|password|totp_secret/i);
    const next = await t.app.inject({
      method: 'GET',
      url: `/api/v1/members?limit=2&cursor=${body.nextCursor}`,
      headers: admin.auth,
    });
    expect(next.json().items[0].email > body.items[1].email).toBe(true);
  });

  it('shows every member a directory of names and roles to assign work to, without emails', async () => {
    const viewer = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
    const session = await loginAs(t.app, viewer.email);
    // The member list itself needs users:read, which a viewer lacks.
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/members', headers: session.auth })).statusCode,
    ).toBe(403);
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/members/directory',
      headers: session.auth,
    });
    expect(res.statusCode, res.body).toBe(200);
    const items = res.json().items as { id: string; displayName: string; role: string }[];
    const all = (
      await t.app.inject({ method: 'GET', url: '/api/v1/members?limit=500', headers: admin.auth })
    ).json().items as { id: string; email: string; role: string; status: string }[];
    expect(items.map((m) => m.id).sort()).toEqual(
      all
        .filter((m) => m.status === 'active')
        .map((m) => m.id)
        .sort(),
    );
    expect(items.find((m) => m.id === viewer.user.id)?.role).toBe('viewer');
    expect(Object.keys(items[0]!).sort()).toEqual(['displayName', 'id', 'role']);
    expect(res.body).not.toContain('@');
    const names = items.map((m) => m.displayName);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    expect(res.json().truncated).toBe(false);
  });
});

describe('platform administration', () => {
  it('creates tenants (platform admins only) with validated slugs', async () => {
    const t = await createTestApp();
    try {
      const root = await loginAs(
        t.app,
        (await seedUser(t.services, { tenant: 'ops', role: 'owner', platformAdmin: true })).email,
      );
      const owner = await loginAs(
        t.app,
        (await seedUser(t.services, { tenant: 'ops', role: 'owner' })).email,
      );
      const create = (s: Session, payload: object) =>
        t.app.inject({ method: 'POST', url: '/api/v1/admin/tenants', headers: s.auth, payload });
      expect((await create(owner, { slug: 'north', name: 'North' })).statusCode).toBe(403);
      const ok = await create(root, { slug: 'north-water', name: 'North Water' });
      expect(ok.statusCode).toBe(201);
      expect(ok.json()).toMatchObject({ slug: 'north-water', settings: { requireMfaForAdmins: false } });
      expect((await create(root, { slug: 'north-water', name: 'Again' })).statusCode).toBe(409);
      const bad = await create(root, { slug: '-Bad Slug', name: 'x' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().errors[0].pointer).toBe('/body/slug');
      const list = await t.app.inject({ method: 'GET', url: '/api/v1/admin/tenants', headers: root.auth });
      expect(list.json().items.map((x: { slug: string }) => x.slug)).toEqual(['north-water', 'ops']);
      const runs = await t.app.inject({ method: 'GET', url: '/api/v1/admin/jobs/runs', headers: root.auth });
      expect(runs.statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('disabling users', () => {
  it('platform admins disable a user everywhere at once, and re-enable them', async () => {
    const t = await createTestApp();
    try {
      const root = await loginAs(
        t.app,
        (await seedUser(t.services, { tenant: 'ops', role: 'owner', platformAdmin: true })).email,
      );
      const victim = await seedUser(t.services, { tenant: 'ops', role: 'operator' });
      const vs = await loginAs(t.app, victim.email);
      const found = await t.app.inject({
        method: 'GET',
        url: `/api/v1/admin/users?email=${victim.email}`,
        headers: root.auth,
      });
      expect(found.json()).toMatchObject({ id: victim.user.id, status: 'active' });
      const set = (status: string) =>
        t.app.inject({
          method: 'PATCH',
          url: `/api/v1/admin/users/${victim.user.id}`,
          headers: root.auth,
          payload: { status },
        });

      expect((await set('disabled')).json().status).toBe('disabled');
      expect(
        (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: vs.auth })).statusCode,
      ).toBe(401);
      const login = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: victim.email, password: PASSWORD },
      });
      expect(login.statusCode).toBe(401);

      expect((await set('active')).json().status).toBe('active');
      await loginAs(t.app, victim.email);
      expect((await set('suspended')).statusCode).toBe(400);
      const me = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: root.auth })).json();
      const self = await t.app.inject({
        method: 'PATCH',
        url: `/api/v1/admin/users/${me.user.id}`,
        headers: root.auth,
        payload: { status: 'disabled' },
      });
      expect(self.statusCode).toBe(409);
    } finally {
      await t.close();
    }
  });
});

describe('first start', () => {
  it('offers a one-time bootstrap link only while there are no users', async () => {
    const t = await createTestApp();
    try {
      const link = await issueBootstrapLinkIfEmpty(t.services, 'http://127.0.0.1:8080');
      expect(link).toMatch(/^http:\/\/127\.0\.0\.1:8080\/setup#token=vot_/);
      const token = link!.split('#token=')[1]!;
      // A second start revokes the first link.
      const link2 = await issueBootstrapLinkIfEmpty(t.services, 'http://127.0.0.1:8080');
      const token2 = link2!.split('#token=')[1]!;
      const body = {
        email: 'root@utility.example.com',
        password: 'Reservoir-Level-42',
        tenantSlug: 'utility',
        tenantName: 'Utility',
      };
      const stale = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/bootstrap',
        payload: { ...body, token },
      });
      expect(stale.statusCode).toBe(410);
      const ok = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/bootstrap',
        payload: { ...body, token: token2 },
      });
      expect(ok.statusCode).toBe(201);
      expect(ok.json().user).toMatchObject({ email: 'root@utility.example.com', isPlatformAdmin: true });
      expect(
        (
          await t.app.inject({
            method: 'POST',
            url: '/api/v1/auth/bootstrap',
            payload: { ...body, token: token2 },
          })
        ).statusCode,
      ).toBe(410);
      expect(await issueBootstrapLinkIfEmpty(t.services, 'http://x')).toBeUndefined();
      const s = await loginAs(t.app, body.email, body.password);
      expect(
        (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: s.auth })).json().tenant.role,
      ).toBe('owner');
    } finally {
      await t.close();
    }
  });
});
