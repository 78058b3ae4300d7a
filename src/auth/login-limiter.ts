import { isIPv6 } from 'node:net';
import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { Config } from '../config/config.js';
import { AppError } from '../http/errors/catalogue.js';

const DAY_S = 24 * 3600;
const REAUTH_FAILURES = 5;

/**
 * Brute-force protection for login, after rate-limiter-flexible's login recipe: consecutive
 * failures of one email from one IP block that pair for an hour; many failures from one IP in a
 * day block the IP for a day. Counters live in Redis when configured (shared by all instances),
 * with an in-memory insurance limiter so a Redis outage degrades to per-instance limits instead
 * of failing logins.
 */
export class LoginLimiter {
  private readonly pair: RateLimiterAbstract;
  private readonly ip: RateLimiterAbstract;
  /** Password re-checks of a signed-in user (password change, MFA changes): a stolen session must not become a guessing oracle. */
  private readonly reauth: RateLimiterAbstract;

  constructor(
    private readonly opts: Pick<
      Config['auth'],
      'loginMaxConsecutiveFailures' | 'loginMaxFailuresPerIpPerDay'
    >,
    redis?: Redis,
    prefix = 'vigil:login',
  ) {
    const pairOpts = {
      keyPrefix: `${prefix}:pair`,
      points: opts.loginMaxConsecutiveFailures,
      // The recipe's 90 days would overflow the in-memory store's timers (max ~24.8 days) and
      // expire counters at once; consecutive failures reset on success anyway.
      duration: 20 * DAY_S,
      blockDuration: 3600,
    };
    const ipOpts = {
      keyPrefix: `${prefix}:ip`,
      points: opts.loginMaxFailuresPerIpPerDay,
      duration: DAY_S,
      blockDuration: DAY_S,
    };
    const reauthOpts = {
      keyPrefix: `${prefix}:reauth`,
      points: REAUTH_FAILURES,
      duration: 900,
      blockDuration: 900,
    };
    this.reauth = redis
      ? new RateLimiterRedis({
          ...reauthOpts,
          storeClient: redis,
          insuranceLimiter: new RateLimiterMemory(reauthOpts),
        })
      : new RateLimiterMemory(reauthOpts);
    if (redis) {
      this.pair = new RateLimiterRedis({
        ...pairOpts,
        storeClient: redis,
        insuranceLimiter: new RateLimiterMemory(pairOpts),
      });
      this.ip = new RateLimiterRedis({
        ...ipOpts,
        storeClient: redis,
        insuranceLimiter: new RateLimiterMemory(ipOpts),
      });
    } else {
      this.pair = new RateLimiterMemory(pairOpts);
      this.ip = new RateLimiterMemory(ipOpts);
    }
  }

  private static pairKey(email: string, ip: string): string {
    return `${email.toLowerCase()}_${ipKey(ip)}`;
  }

  /**
   * Counts an attempt before the password is checked, so a burst of concurrent guesses cannot all
   * pass a check that only failures update. Throws 429 (with Retry-After) once the pair or the IP
   * is over its budget. Returns the ticket to settle with `succeeded`, `refund` or `failed`.
   */
  async begin(email: string, ip: string): Promise<LoginTicket> {
    const key = LoginLimiter.pairKey(email, ip);
    const ipk = ipKey(ip);
    const [pair, byIp] = await Promise.all([
      this.pair.consume(key).catch((res: unknown) => settle(res)),
      this.ip.consume(ipk).catch((res: unknown) => settle(res)),
    ]);
    if (byIp.consumedPoints > this.opts.loginMaxFailuresPerIpPerDay) throw blocked(byIp, 'ip');
    if (pair.consumedPoints > this.opts.loginMaxConsecutiveFailures) throw blocked(pair, 'account');
    return { key, ipk, pairCount: pair.consumedPoints, ipCount: byIp.consumedPoints };
  }

  async beginReauth(userId: string): Promise<ReauthGuard> {
    const res = await this.reauth.consume(userId).catch((r: unknown) => settle(r));
    if (res.consumedPoints > REAUTH_FAILURES) throw blocked(res, 'reauth');
    return {
      settle: async (ok) => {
        if (ok) await this.reauth.reward(userId, 1);
        else if (res.consumedPoints >= REAUTH_FAILURES)
          throw blocked(await this.reauth.block(userId, 900), 'reauth');
      },
    };
  }

  /** A successful login clears the pair's consecutive count and gives the IP its point back. */
  async succeeded(t: LoginTicket): Promise<void> {
    await Promise.all([this.pair.delete(t.key), this.ip.reward(t.ipk, 1)]);
  }

  /** Not a failure (e.g. the password was right and a second factor is now needed): undo the count. */
  async refund(t: LoginTicket): Promise<void> {
    await Promise.all([this.pair.reward(t.key, 1), this.ip.reward(t.ipk, 1)]);
  }

  /**
   * The attempt failed. The failure that reaches a limit blocks at once (rate-limiter-flexible
   * only blocks past its points, which would allow one more guess) and is answered 429.
   */
  async failed(t: LoginTicket): Promise<void> {
    if (t.ipCount >= this.opts.loginMaxFailuresPerIpPerDay)
      throw blocked(await this.ip.block(t.ipk, DAY_S), 'ip');
    if (t.pairCount >= this.opts.loginMaxConsecutiveFailures)
      throw blocked(await this.pair.block(t.key, 3600), 'account');
  }
}

/**
 * Guards a password (or code) check for an already signed-in user: at most 5 failures per user in
 * 15 minutes. Returns a function to call with the outcome.
 */
export interface ReauthGuard {
  settle(ok: boolean): Promise<void>;
}

export interface LoginTicket {
  readonly key: string;
  readonly ipk: string;
  readonly pairCount: number;
  readonly ipCount: number;
}

/**
 * The unit an address is limited by: an IPv4 address, or an IPv6 /64 (one subscriber usually
 * holds a whole /64, so per-address keys would give an attacker 2^64 fresh budgets).
 */
export function ipKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** A rejected consume carries the limiter state; anything else is a store failure to surface. */
function settle(res: unknown): RateLimiterRes {
  if (res instanceof RateLimiterRes) return res;
  throw res;
}

const BLOCKED: Record<'ip' | 'account' | 'reauth', string> = {
  ip: 'Too many failed logins from this address; try again later',
  account: 'Too many failed logins for this account from this address; try again later',
  reauth: 'Too many wrong passwords or codes; try again in 15 minutes',
};

function blocked(res: RateLimiterRes, scope: 'ip' | 'account' | 'reauth'): AppError {
  const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new AppError('RATE_LIMITED', BLOCKED[scope], {
    headers: { 'retry-after': String(retryAfter) },
    fields: { limit: `login-${scope}`, retryAfter },
  });
}
