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
    return `${email.toLowerCase()}_${ip}`;
  }

  /** Throws 429 RATE_LIMITED (with Retry-After) if this email+IP or this IP is currently blocked. */
  async assertAllowed(email: string, ip: string): Promise<void> {
    const [pair, byIp] = await Promise.all([this.pair.get(LoginLimiter.pairKey(email, ip)), this.ip.get(ip)]);
    if (byIp && byIp.consumedPoints >= this.opts.loginMaxFailuresPerIpPerDay) throw blocked(byIp, 'ip');
    if (pair && pair.consumedPoints >= this.opts.loginMaxConsecutiveFailures) throw blocked(pair, 'account');
  }

  /**
   * Counts a failure. The failure that reaches a limit blocks at once (rate-limiter-flexible only
   * blocks past its points, which would allow one more guess), and is answered 429.
   */
  async recordFailure(email: string, ip: string): Promise<void> {
    const key = LoginLimiter.pairKey(email, ip);
    const [pair, byIp] = await Promise.all([
      this.pair.consume(key).catch((res: unknown) => settle(res)),
      this.ip.consume(ip).catch((res: unknown) => settle(res)),
    ]);
    if (byIp.consumedPoints >= this.opts.loginMaxFailuresPerIpPerDay) {
      throw blocked(await this.ip.block(ip, DAY_S), 'ip');
    }
    if (pair.consumedPoints >= this.opts.loginMaxConsecutiveFailures) {
      throw blocked(await this.pair.block(key, 3600), 'account');
    }
  }

  /** A successful login clears the consecutive-failure counter of the pair (not the IP's daily count). */
  async recordSuccess(email: string, ip: string): Promise<void> {
    await this.pair.delete(LoginLimiter.pairKey(email, ip));
  }
}

/** A rejected consume carries the limiter state; anything else is a store failure to surface. */
function settle(res: unknown): RateLimiterRes {
  if (res instanceof RateLimiterRes) return res;
  throw res;
}

function blocked(res: RateLimiterRes, scope: 'ip' | 'account'): AppError {
  const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new AppError(
    'RATE_LIMITED',
    scope === 'ip'
      ? 'Too many failed logins from this address; try again later'
      : 'Too many failed logins for this account from this address; try again later',
    { headers: { 'retry-after': String(retryAfter) }, fields: { limit: `login-${scope}`, retryAfter } },
  );
}
