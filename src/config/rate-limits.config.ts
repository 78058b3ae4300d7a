import type { EnvVarName } from './env.spec.js';
import type { EnvReader } from './env-reader.js';

/** `points` requests per `durationS` seconds. */
export interface Rate {
  readonly points: number;
  readonly durationS: number;
  /** As configured, for messages (`100/minute`). */
  readonly text: string;
}

export interface RateLimitConfig {
  readonly enabled: boolean;
  readonly classes: {
    readonly default: Rate;
    readonly auth: Rate;
    readonly ingest: Rate;
    readonly analytics: Rate;
  };
  readonly tenantReadingsPerS: number;
  readonly ws: { readonly connectionsPerUser: number; readonly subscriptionsPerConnection: number };
}

const UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  second: 1,
  m: 60,
  min: 60,
  minute: 60,
  h: 3600,
  hour: 3600,
  d: 86400,
  day: 86400,
};

/** `100/minute`, `5/m`, `10/5 minutes`, `1000 per hour` → a Rate; null when it does not parse. */
export function parseRate(text: string): Rate | null {
  const m = /^\s*(\d{1,9})\s*(?:\/|per)\s*(\d{1,6})?\s*([a-z]+?)s?\s*$/i.exec(text);
  if (!m) return null;
  const unit = UNITS[m[3]!.toLowerCase()];
  const points = Number(m[1]);
  const n = m[2] === undefined ? 1 : Number(m[2]);
  if (!unit || points < 1 || n < 1) return null;
  return { points, durationS: n * unit, text: text.trim() };
}

export function readRateLimits(r: EnvReader, isProduction: boolean): RateLimitConfig {
  const rate = (name: EnvVarName, fallback: string): Rate => {
    const raw = r.string(name) ?? fallback;
    const parsed = parseRate(raw);
    if (!parsed) {
      r.problem(name, `must look like 100/minute (count/second|minute|hour|day), got "${raw}"`);
      return parseRate(fallback)!;
    }
    return parsed;
  };
  const enabled = r.bool('ENABLE_RATE_LIMIT', true);
  if (!enabled && isProduction && !r.bool('RATE_LIMIT_OFF_IN_PRODUCTION', false)) {
    r.problem(
      'ENABLE_RATE_LIMIT',
      'production refuses to run without rate limits; set RATE_LIMIT_OFF_IN_PRODUCTION=true if they are enforced elsewhere',
    );
  }
  return {
    enabled,
    classes: {
      default: rate('RATE_LIMIT_DEFAULT', '100/minute'),
      auth: rate('RATE_LIMIT_AUTH', '5/minute'),
      ingest: rate('RATE_LIMIT_INGEST', '200/minute'),
      analytics: rate('RATE_LIMIT_ANALYTICS', '20/minute'),
    },
    tenantReadingsPerS: r.int('INGEST_TENANT_READINGS_PER_S', { min: 1, max: 100_000_000 }, 20000),
    ws: {
      connectionsPerUser: r.int('WS_MAX_CONNECTIONS_PER_USER', { min: 1, max: 100_000 }, 10),
      subscriptionsPerConnection: r.int('WS_MAX_SUBSCRIPTIONS_PER_CONNECTION', { min: 1, max: 100_000 }, 200),
    },
  };
}
