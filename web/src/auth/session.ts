import { ApiError, toApiError } from '../api/errors';
import type { Me, TokenPair } from '../api/types';

/** Where the session is; the UI renders from this alone. */
export type SessionState =
  | { readonly status: 'starting' }
  | { readonly status: 'signed-out'; readonly message?: string }
  | { readonly status: 'second-factor'; readonly email: string; readonly message?: string }
  | { readonly status: 'signed-in'; readonly me: Me; readonly expiresAt: number };

/** Messages tabs of one browser exchange so one sign-in, renewal or sign-out serves them all. */
export type TabMessage =
  | { readonly type: 'token'; readonly accessToken: string; readonly expiresAt: number }
  | { readonly type: 'signed-out' };

export interface SessionDeps {
  readonly fetch: (input: string, init?: RequestInit) => Promise<Response>;
  readonly now: () => number;
  readonly setTimer: (fn: () => void, ms: number) => unknown;
  readonly clearTimer: (handle: unknown) => void;
  /** A cookie the page can read (the CSRF half of the cookie session). */
  readonly readCookie: (name: string) => string | undefined;
  /**
   * Keep the refresh token in the HttpOnly cookie (secure contexts: https, localhost). Elsewhere a
   * browser drops the Secure cookie, so the token is kept in memory and lost on reload.
   */
  readonly useCookie: boolean;
  /** Other tabs of this browser (BroadcastChannel), if available. */
  readonly tabs?: { post(message: TabMessage): void; listen(fn: (message: TabMessage) => void): void };
  /** A lock across tabs (Web Locks), so only one tab renews at a time. */
  readonly lock?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export const CSRF_COOKIE = 'vigil_csrf';
/** Renew this long before the access token expires. */
export const RENEW_BEFORE_MS = 60_000;
/** A token with less than this left is renewed before it is used. */
const MIN_VALIDITY_MS = 15_000;

export const EXPIRED_MESSAGE = 'Your session has expired. Sign in again to continue.';

const json = { 'content-type': 'application/json', accept: 'application/json' };

/**
 * The browser's session: sign-in (with the second factor when the account has one), the access
 * token in memory, silent renewal through the refresh cookie before the token expires, sign-out,
 * and "session expired" when renewal is refused. Framework-free so it can be tested with fakes.
 */
export class SessionManager {
  private current: SessionState = { status: 'starting' };
  private readonly listeners = new Set<(s: SessionState) => void>();
  private accessToken: string | undefined;
  private expiresAt = 0;
  private refreshToken: string | undefined;
  private csrfToken: string | undefined;
  private pending: { email: string; password: string } | undefined;
  private renewing: Promise<boolean> | undefined;
  private timer: unknown;

  constructor(private readonly deps: SessionDeps) {
    deps.tabs?.listen((m) => void this.fromTab(m));
  }

  get state(): SessionState {
    return this.current;
  }

  subscribe(fn: (s: SessionState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Whether the signed-in user holds a permission (`alarms:ack`). */
  can(permission: string): boolean {
    return this.current.status === 'signed-in' && this.current.me.permissions.includes(permission);
  }

  /** On page load: resume the cookie session if there is one, else show sign-in. */
  async start(): Promise<void> {
    if (this.deps.useCookie && this.deps.readCookie(CSRF_COOKIE)) {
      if (await this.renew()) {
        if (await this.loadMe()) return;
      }
    }
    if (this.current.status === 'starting') this.set({ status: 'signed-out' });
  }

  /** Email and password; moves to the second-factor step when the account needs a code. */
  async login(email: string, password: string): Promise<void> {
    this.pending = undefined;
    const res = await this.postLogin({ email, password });
    if (res === 'mfa') {
      this.pending = { email, password };
      this.set({ status: 'second-factor', email });
    }
  }

  /** The authenticator code (or a recovery code) for the sign-in started with login(). */
  async secondFactor(code: { totp: string } | { recoveryCode: string }): Promise<void> {
    if (!this.pending) throw new Error('Start again with your email and password');
    const res = await this.postLogin({ ...this.pending, ...code });
    if (res === 'mfa') throw new ApiError(401, { status: 401, detail: 'That code was not accepted' });
  }

  cancelSecondFactor(): void {
    this.pending = undefined;
    this.set({ status: 'signed-out' });
  }

  /** Ends the session on the server (best effort) and everywhere in this browser. */
  async logout(): Promise<void> {
    const token = this.accessToken;
    this.clear();
    this.deps.tabs?.post({ type: 'signed-out' });
    this.set({ status: 'signed-out', message: 'You have signed out.' });
    if (token) {
      await this.deps
        .fetch('/api/v1/auth/logout', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
          credentials: 'same-origin',
        })
        .catch(() => undefined);
    }
  }

  /** Back to sign-in with a reason (the session was ended, or could not be renewed). */
  expire(message = EXPIRED_MESSAGE): void {
    if (this.current.status !== 'signed-in' && this.current.status !== 'starting') return;
    this.clear();
    this.set({ status: 'signed-out', message });
  }

  /** The access token, renewed first when it is about to expire; undefined when signed out. */
  async token(): Promise<string | undefined> {
    if (!this.accessToken) return undefined;
    if (this.expiresAt - this.deps.now() < MIN_VALIDITY_MS) {
      if (!(await this.renew())) {
        this.expire();
        return undefined;
      }
    }
    return this.accessToken;
  }

  /**
   * Exchanges the refresh token (cookie + CSRF header, or the one in memory) for a new pair.
   * Concurrent callers share one request; across tabs a lock keeps renewals one at a time, and a
   * tab that finds a fresh token (renewed by another tab meanwhile) does not renew again.
   */
  renew(): Promise<boolean> {
    this.renewing ??= (async () => {
      const before = this.accessToken;
      const run = async () => {
        if (this.accessToken && this.accessToken !== before) return true;
        return this.postRefresh();
      };
      try {
        return await (this.deps.lock ? this.deps.lock(run) : run());
      } finally {
        this.renewing = undefined;
      }
    })();
    return this.renewing;
  }

  private async postRefresh(): Promise<boolean> {
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: string | undefined;
    if (this.deps.useCookie) {
      const csrf = this.deps.readCookie(CSRF_COOKIE) ?? this.csrfToken;
      if (!csrf) return false;
      headers['x-csrf-token'] = csrf;
    } else {
      if (!this.refreshToken) return false;
      headers['content-type'] = 'application/json';
      body = JSON.stringify({ refreshToken: this.refreshToken });
    }
    let res: Response;
    try {
      res = await this.deps.fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers,
        credentials: 'same-origin',
        ...(body ? { body } : {}),
      });
    } catch {
      // The network, not the session: keep the token we have and try again shortly.
      this.schedule(10_000);
      return this.expiresAt > this.deps.now();
    }
    if (!res.ok) return false;
    this.adopt((await res.json()) as TokenPair);
    this.deps.tabs?.post({ type: 'token', accessToken: this.accessToken!, expiresAt: this.expiresAt });
    return true;
  }

  private async postLogin(body: Record<string, string>): Promise<'ok' | 'mfa'> {
    const res = await this.deps.fetch('/api/v1/auth/login', {
      method: 'POST',
      headers: json,
      credentials: 'same-origin',
      body: JSON.stringify({ ...body, session: this.deps.useCookie ? 'cookie' : 'body' }),
    });
    if (!res.ok) {
      const err = await toApiError(res);
      if (err.code === 'MFA_REQUIRED' && !('totp' in body) && !('recoveryCode' in body)) return 'mfa';
      throw err;
    }
    this.adopt((await res.json()) as TokenPair);
    this.pending = undefined;
    if (!(await this.loadMe())) throw new Error('Signed in, but your account could not be loaded');
    this.deps.tabs?.post({ type: 'token', accessToken: this.accessToken!, expiresAt: this.expiresAt });
    return 'ok';
  }

  /** Reads the user again (after a change to the account, such as enrolling an authenticator). */
  async reloadMe(): Promise<void> {
    if (this.accessToken) await this.loadMe();
  }

  private async loadMe(): Promise<boolean> {
    const res = await this.deps.fetch('/api/v1/auth/me', {
      headers: { authorization: `Bearer ${this.accessToken}`, accept: 'application/json' },
    });
    if (!res.ok) {
      this.clear();
      return false;
    }
    const me = (await res.json()) as Me;
    this.set({ status: 'signed-in', me, expiresAt: this.expiresAt });
    return true;
  }

  private adopt(pair: TokenPair): void {
    this.accessToken = pair.accessToken;
    this.expiresAt = this.deps.now() + pair.expiresIn * 1000;
    if (pair.refreshToken) this.refreshToken = pair.refreshToken;
    if (pair.csrfToken) this.csrfToken = pair.csrfToken;
    if (this.current.status === 'signed-in') this.set({ ...this.current, expiresAt: this.expiresAt });
    this.schedule();
  }

  /** Renews RENEW_BEFORE_MS before expiry (or after `inMs`); a refused renewal ends the session. */
  private schedule(inMs?: number): void {
    if (this.timer !== undefined) this.deps.clearTimer(this.timer);
    const lifetime = this.expiresAt - this.deps.now();
    const delay = inMs ?? Math.max(1_000, Math.min(lifetime - RENEW_BEFORE_MS, lifetime * 0.8));
    this.timer = this.deps.setTimer(() => {
      this.timer = undefined;
      void this.renew().then((ok) => {
        if (!ok) this.expire();
      });
    }, delay);
  }

  private async fromTab(m: TabMessage): Promise<void> {
    if (m.type === 'signed-out') {
      if (this.current.status === 'signed-in') {
        this.clear();
        this.set({ status: 'signed-out', message: 'You signed out in another tab.' });
      }
      return;
    }
    if (m.expiresAt <= this.expiresAt) return;
    this.accessToken = m.accessToken;
    this.expiresAt = m.expiresAt;
    this.schedule();
    if (this.current.status === 'signed-in') this.set({ ...this.current, expiresAt: m.expiresAt });
    else await this.loadMe();
  }

  private clear(): void {
    if (this.timer !== undefined) this.deps.clearTimer(this.timer);
    this.timer = undefined;
    this.accessToken = undefined;
    this.refreshToken = undefined;
    this.csrfToken = undefined;
    this.expiresAt = 0;
    this.pending = undefined;
  }

  private set(state: SessionState): void {
    this.current = state;
    for (const fn of this.listeners) fn(state);
  }
}

/** The manager wired to the browser: fetch, timers, cookies, BroadcastChannel and Web Locks. */
export function browserSession(): SessionManager {
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('vigil-session') : undefined;
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  return new SessionManager({
    fetch: (input, init) => fetch(input, init),
    now: () => Date.now(),
    setTimer: (fn, ms) => window.setTimeout(fn, ms),
    clearTimer: (h) => window.clearTimeout(h as number),
    readCookie: (name) =>
      document.cookie
        .split('; ')
        .find((c) => c.startsWith(`${name}=`))
        ?.slice(name.length + 1),
    useCookie: window.isSecureContext,
    ...(channel
      ? {
          tabs: {
            post: (m: TabMessage) => channel.postMessage(m),
            listen: (fn: (m: TabMessage) => void) => {
              channel.onmessage = (e: MessageEvent<TabMessage>) => fn(e.data);
            },
          },
        }
      : {}),
    ...(locks
      ? { lock: <T>(fn: () => Promise<T>) => locks.request('vigil-session-renew', fn) as Promise<T> }
      : {}),
  });
}
