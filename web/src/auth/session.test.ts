import { describe, expect, it, vi } from 'vitest';
import { Api } from '../api/client';
import {
  EXPIRED_MESSAGE,
  RENEW_BEFORE_MS,
  type SessionDeps,
  SessionManager,
  type TabMessage,
} from './session';

const ME = {
  user: { id: 'u1', email: 'op@example.com', displayName: 'Op', isPlatformAdmin: false, totpEnabled: false },
  tenant: { id: 't1', slug: 'water', name: 'Water', role: 'operator' },
  permissions: ['alarms:read', 'alarms:ack'],
  tenants: [],
  mfaEnrollmentRequired: false,
  sessionId: 's1',
};

const json = (status: number, body: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' },
  });

/** A fake browser: a clock, timers run by hand, a cookie jar, and a scripted server. */
function world(opts: { useCookie?: boolean } = {}) {
  let now = 1_000_000;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let nextTimer = 1;
  const cookies = new Map<string, string>();
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  let tokenN = 0;
  const server = {
    refreshOk: true,
    mfa: false,
    refreshDelay: undefined as Promise<void> | undefined,
  };
  const tabMessages: TabMessage[] = [];
  let tabListener: ((m: TabMessage) => void) | undefined;
  const fetchFn = vi.fn(async (url: string, init?: RequestInit): Promise<Response> => {
    calls.push({ url, init });
    const body = init?.body ? (JSON.parse(String(init.body)) as Record<string, string>) : {};
    if (url === '/api/v1/auth/login') {
      if (body.password !== 'right-password') return json(401, { status: 401, code: 'INVALID_CREDENTIALS' });
      if (server.mfa && !body.totp) return json(401, { status: 401, code: 'MFA_REQUIRED' });
      if (server.mfa && body.totp !== '123456') return json(401, { status: 401, code: 'MFA_INVALID' });
      cookies.set('vigil_csrf', `csrf-${++tokenN}`);
      return json(200, { accessToken: `at-${tokenN}`, csrfToken: `csrf-${tokenN}`, expiresIn: 900 });
    }
    if (url === '/api/v1/auth/refresh') {
      if (server.refreshDelay) await server.refreshDelay;
      const headers = init?.headers as Record<string, string>;
      if (!server.refreshOk || headers['x-csrf-token'] !== cookies.get('vigil_csrf'))
        return json(401, { status: 401, code: 'UNAUTHENTICATED' });
      cookies.set('vigil_csrf', `csrf-${++tokenN}`);
      return json(200, { accessToken: `at-${tokenN}`, csrfToken: `csrf-${tokenN}`, expiresIn: 900 });
    }
    if (url === '/api/v1/auth/me') return json(200, ME);
    if (url === '/api/v1/auth/logout') return json(204, undefined);
    return json(404, { status: 404 });
  });
  const deps: SessionDeps = {
    fetch: fetchFn,
    now: () => now,
    setTimer: (fn, ms) => {
      const id = nextTimer++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimer: (h) => timers.delete(h as number),
    readCookie: (name) => cookies.get(name),
    useCookie: opts.useCookie ?? true,
    tabs: {
      post: (m) => tabMessages.push(m),
      listen: (fn) => {
        tabListener = fn;
      },
    },
  };
  /** Moves the clock, firing due timers in order. */
  const advance = async (ms: number) => {
    const end = now + ms;
    for (;;) {
      const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      now = due[1].at;
      due[1].fn();
      for (let i = 0; i < 20; i++) await Promise.resolve();
    }
    now = end;
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  return {
    deps,
    calls,
    cookies,
    server,
    timers,
    advance,
    tabMessages,
    fromOtherTab: (m: TabMessage) => tabListener?.(m),
    get now() {
      return now;
    },
  };
}

const refreshes = (w: ReturnType<typeof world>) => w.calls.filter((c) => c.url === '/api/v1/auth/refresh');

describe('the browser session', () => {
  it('signs in with a cookie session and loads the user and permissions', async () => {
    const w = world();
    const s = new SessionManager(w.deps);
    await s.start();
    expect(s.state.status).toBe('signed-out');
    expect(refreshes(w)).toHaveLength(0); // no cookie yet: no refresh attempt
    await s.login('op@example.com', 'right-password');
    expect(s.state).toMatchObject({ status: 'signed-in', me: { user: { id: 'u1' } } });
    expect(s.can('alarms:ack')).toBe(true);
    expect(s.can('users:manage')).toBe(false);
    const login = JSON.parse(String(w.calls[0]!.init!.body)) as Record<string, string>;
    expect(login.session).toBe('cookie');
    expect(await s.token()).toBe('at-1');
    expect(w.tabMessages.at(-1)).toMatchObject({ type: 'token', accessToken: 'at-1' });
  });

  it('asks for the authenticator code when the account has one', async () => {
    const w = world();
    w.server.mfa = true;
    const s = new SessionManager(w.deps);
    await s.start();
    await s.login('op@example.com', 'right-password');
    expect(s.state).toEqual({ status: 'second-factor', email: 'op@example.com' });
    await expect(s.secondFactor({ totp: '000000' })).rejects.toMatchObject({ code: 'MFA_INVALID' });
    expect(s.state.status).toBe('second-factor');
    await s.secondFactor({ totp: '123456' });
    expect(s.state.status).toBe('signed-in');
  });

  it('renews silently before the access token expires, with the CSRF double submit', async () => {
    const w = world();
    const s = new SessionManager(w.deps);
    await s.login('op@example.com', 'right-password');
    // At 80 % of the 15-minute lifetime (and at least RENEW_BEFORE_MS before the end).
    const renewAt = Math.min(900_000 - RENEW_BEFORE_MS, 900_000 * 0.8);
    await w.advance(renewAt - 1000);
    expect(refreshes(w)).toHaveLength(0);
    await w.advance(2000);
    expect(refreshes(w)).toHaveLength(1);
    const headers = refreshes(w)[0]!.init!.headers as Record<string, string>;
    expect(headers['x-csrf-token']).toBe('csrf-1');
    expect(refreshes(w)[0]!.init!.body).toBeUndefined(); // the refresh token travels in the HttpOnly cookie
    expect(await s.token()).toBe('at-2');
    // And again before the new token expires: the session never lapses while the page is open.
    await w.advance(900_000);
    expect(refreshes(w)).toHaveLength(2);
    expect(s.state.status).toBe('signed-in');
  });

  it('goes back to sign-in with a message when renewal is refused (the session ended elsewhere)', async () => {
    const w = world();
    const s = new SessionManager(w.deps);
    await s.login('op@example.com', 'right-password');
    w.server.refreshOk = false;
    await w.advance(900_000);
    expect(s.state).toEqual({ status: 'signed-out', message: EXPIRED_MESSAGE });
    expect(await s.token()).toBeUndefined();
  });

  it('resumes the cookie session on page load', async () => {
    const w = world();
    w.cookies.set('vigil_csrf', 'csrf-0');
    const s = new SessionManager(w.deps);
    await s.start();
    expect(s.state.status).toBe('signed-in');
    expect(refreshes(w)).toHaveLength(1);
  });

  it('shares one renewal between concurrent callers', async () => {
    const w = world();
    const s = new SessionManager(w.deps);
    await s.login('op@example.com', 'right-password');
    let release!: () => void;
    w.server.refreshDelay = new Promise((r) => {
      release = r;
    });
    const a = s.renew();
    const b = s.renew();
    release();
    expect(await Promise.all([a, b])).toEqual([true, true]);
    expect(refreshes(w)).toHaveLength(1);
  });

  it('adopts a token another tab renewed, and signs out when another tab does', async () => {
    const w = world();
    const s = new SessionManager(w.deps);
    await s.login('op@example.com', 'right-password');
    w.fromOtherTab({ type: 'token', accessToken: 'from-tab', expiresAt: w.now + 900_000 + 5000 });
    expect(await s.token()).toBe('from-tab');
    w.fromOtherTab({ type: 'signed-out' });
    expect(s.state).toMatchObject({ status: 'signed-out', message: 'You signed out in another tab.' });
  });

  it('keeps the refresh token in memory where the browser would drop a Secure cookie', async () => {
    const w = world({ useCookie: false });
    const s = new SessionManager({
      ...w.deps,
      fetch: async (url, init) => {
        if (url === '/api/v1/auth/login')
          return json(200, { accessToken: 'at-x', refreshToken: 'vrt_1', expiresIn: 900 });
        if (url === '/api/v1/auth/refresh') {
          expect(JSON.parse(String(init?.body))).toEqual({ refreshToken: 'vrt_1' });
          return json(200, { accessToken: 'at-y', refreshToken: 'vrt_2', expiresIn: 900 });
        }
        return w.deps.fetch(url, init);
      },
    });
    await s.login('op@example.com', 'whatever');
    expect(await s.renew()).toBe(true);
    expect(await s.token()).toBe('at-y');
  });

  it('logs out on the server and everywhere in the browser', async () => {
    const w = world();
    const s = new SessionManager(w.deps);
    await s.login('op@example.com', 'right-password');
    await s.logout();
    expect(s.state).toEqual({ status: 'signed-out', message: 'You have signed out.' });
    const logout = w.calls.find((c) => c.url === '/api/v1/auth/logout')!;
    expect((logout.init!.headers as Record<string, string>).authorization).toBe('Bearer at-1');
    expect(w.tabMessages.at(-1)).toEqual({ type: 'signed-out' });
    expect(w.timers.size).toBe(0);
  });
});

describe('the API client', () => {
  it('renews once on a 401 and retries; expires the session when renewal fails', async () => {
    const w = world();
    const s = new SessionManager(w.deps);
    await s.login('op@example.com', 'right-password');
    const seen: string[] = [];
    const api = new Api(s, async (url, init) => {
      const auth = (init!.headers as Record<string, string>).authorization!;
      seen.push(auth);
      return auth === 'Bearer at-1'
        ? json(401, { status: 401, code: 'UNAUTHENTICATED' })
        : json(200, { ok: url });
    });
    expect(await api.get('/api/v1/alarms', { query: { status: 'open', q: '' } })).toEqual({
      ok: '/api/v1/alarms?status=open',
    });
    expect(seen).toEqual(['Bearer at-1', 'Bearer at-2']);

    w.server.refreshOk = false;
    const denied = new Api(s, async () => json(401, { status: 401, code: 'UNAUTHENTICATED' }));
    await expect(denied.get('/api/v1/alarms')).rejects.toMatchObject({ status: 401 });
    expect(s.state).toEqual({ status: 'signed-out', message: EXPIRED_MESSAGE });
  });

  it('turns problem+json into ApiError with the field errors', async () => {
    const w = world();
    const s = new SessionManager(w.deps);
    await s.login('op@example.com', 'right-password');
    const api = new Api(s, async () =>
      json(400, {
        status: 400,
        code: 'VALIDATION_FAILED',
        detail: 'One or more fields are invalid',
        errors: [{ pointer: '/body/comment', detail: 'is required' }],
      }),
    );
    await expect(api.post('/api/v1/alarms/x/resolve', {})).rejects.toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      fieldErrors: [{ pointer: '/body/comment', detail: 'is required' }],
    });
  });
});
