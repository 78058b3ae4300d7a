import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { Rate, RateLimitConfig } from '../../config/rate-limits.config.js';
import { AppError } from '../errors/catalogue.js';
import { ConnectionLimits } from './connection-limits.js';

export type RateLimitClass = keyof RateLimitConfig['classes'];

/** The state a response reports in its RateLimit-* headers. */
export interface RateLimitState {
  readonly limit: number;
  readonly remaining: number;
  readonly resetS: number;
  readonly policy: string;
}

/** Tenant readings are averaged over this window, so a burst of up to this many seconds' budget passes. */
const READINGS_WINDOW_S = 10;

/**
 * Request limits per class and the per-tenant readings budget. Counters live in Redis when
 * configured (shared by every instance), with an in-memory insurance limiter: if Redis fails,
 * each instance enforces the limits on its own instead of failing requests.
 */
export class RateLimits {
  private readonly classes: Record<RateLimitClass, RateLimiterAbstract>;
  /** Live-stream sockets per user or API key (for the realtime API). */
  readonly wsConnections: ConnectionLimits;
  /** One limiter per distinct readings quota (rate-limiter-flexible's points are fixed per limiter). */
  private readonly readings = new Map<number, RateLimiterAbstract>();

  private readonly policies: Record<RateLimitClass, string>;
  /** Requests refused per class, and readings batches refused by tenant budgets (`ingest_readings`), for metrics. */
  readonly rejections: Record<RateLimitClass | 'ingest_readings', number> = {
    default: 0,
    auth: 0,
    ingest: 0,
    analytics: 0,
    ingest_readings: 0,
  };

  constructor(
    readonly config: RateLimitConfig,
    private readonly redis?: Redis,
    private readonly prefix = 'vigil:rl',
  ) {
    this.wsConnections = new ConnectionLimits(config.ws.connectionsPerUser);
    const policy = (r: Rate) => `${r.points};w=${r.durationS}`;
    this.policies = {
      default: policy(config.classes.default),
      auth: policy(config.classes.auth),
      ingest: policy(config.classes.ingest),
      analytics: policy(config.classes.analytics),
    };
    const make = (name: RateLimitClass) => this.limiter(`${prefix}:${name}`, config.classes[name]);
    this.classes = {
      default: make('default'),
      auth: make('auth'),
      ingest: make('ingest'),
      analytics: make('analytics'),
    };
  }

  /** Counts one request of `cls` for `key`; throws 429 (RATE_LIMITED) past the limit. */
  async hit(cls: RateLimitClass, key: string, scope: string): Promise<RateLimitState> {
    const rate = this.config.classes[cls];
    const res = await this.classes[cls].consume(key).catch(settle);
    const state: RateLimitState = {
      limit: rate.points,
      remaining: Math.max(0, rate.points - res.consumedPoints),
      resetS: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
      policy: this.policies[cls],
    };
    if (res.consumedPoints > rate.points) {
      this.rejections[cls]++;
      throw limited(
        `Rate limit "${cls}" reached: ${rate.text} per ${scope}; retry in ${state.resetS} s`,
        { limit: cls, policy: rate.text, scope },
        state,
      );
    }
    return state;
  }

  /**
   * Seconds until `key` may be counted again under `cls` when its allowance is spent (the next
   * hit would be refused), else 0 — without counting anything (the live stream checks before it accepts a connection whose
   * authentication would be counted). A store that cannot answer lets it through: counting, when
   * it happens, still enforces the limit.
   */
  async retryAfter(cls: RateLimitClass, key: string): Promise<number> {
    const res = await this.classes[cls].get(key).catch(() => null);
    if (!res || res.consumedPoints < this.config.classes[cls].points) return 0;
    return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  }

  /**
   * Takes `count` readings from a tenant's budget of `perS` readings per second (averaged over
   * 10 s); throws 429 when the budget is spent. A batch larger than the whole window's budget is
   * refused outright: no wait would let it through.
   */
  async takeReadings(tenantId: string, count: number, perS: number): Promise<void> {
    const points = perS * READINGS_WINDOW_S;
    let limiter = this.readings.get(perS);
    if (!limiter) {
      limiter = this.limiter(`${this.prefix}:readings:${perS}`, {
        points,
        durationS: READINGS_WINDOW_S,
        text: `${perS}/second`,
      });
      this.readings.set(perS, limiter);
    }
    const policy = `${perS} readings/second`;
    if (count > points) {
      this.rejections.ingest_readings++;
      throw limited(
        `A batch of ${count} readings exceeds the tenant's whole budget (${policy} over ${READINGS_WINDOW_S} s)`,
        { limit: 'ingest-readings', policy, scope: 'tenant' },
        { limit: points, remaining: 0, resetS: READINGS_WINDOW_S, policy },
      );
    }
    const res = await limiter.consume(tenantId, count).catch(settle);
    if (res.consumedPoints > points) {
      // Give back what this refused batch took, so it does not eat the budget of the next window.
      await limiter.reward(tenantId, count).catch(() => undefined);
      this.rejections.ingest_readings++;
      const resetS = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw limited(
        `The tenant's ingestion budget of ${policy} is spent; retry in ${resetS} s`,
        { limit: 'ingest-readings', policy, scope: 'tenant' },
        { limit: points, remaining: 0, resetS, policy },
      );
    }
  }

  private limiter(keyPrefix: string, rate: Rate): RateLimiterAbstract {
    const opts = { keyPrefix, points: rate.points, duration: rate.durationS };
    return this.redis
      ? new RateLimiterRedis({
          ...opts,
          storeClient: this.redis,
          insuranceLimiter: new RateLimiterMemory(opts),
        })
      : new RateLimiterMemory(opts);
  }
}

/** A rejected consume carries the limiter state; anything else is a store failure to surface. */
function settle(res: unknown): RateLimiterRes {
  if (res instanceof RateLimiterRes) return res;
  throw res;
}

export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    'ratelimit-limit': String(state.limit),
    'ratelimit-remaining': String(state.remaining),
    'ratelimit-reset': String(state.resetS),
    'ratelimit-policy': state.policy,
  };
}

function limited(detail: string, fields: Record<string, string>, state: RateLimitState): AppError {
  return new AppError('RATE_LIMITED', detail, {
    fields,
    headers: { 'retry-after': String(state.resetS), ...rateLimitHeaders(state) },
  });
}
