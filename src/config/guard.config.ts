import { existsSync } from 'node:fs';
import path from 'node:path';
import { IpSet } from '../security/guard/ip-rules.js';
import type { EnvVarName } from './env.spec.js';
import type { EnvReader } from './env-reader.js';

export interface GuardConfig {
  readonly enabled: boolean;
  readonly flagThreshold: number;
  readonly blockThreshold: number;
  readonly allow: readonly string[];
  readonly deny: readonly string[];
  readonly reputation: { readonly url: string; readonly key: string; readonly ttlS: number } | undefined;
  readonly geoip: { readonly file: string; readonly countryRisk: ReadonlyMap<string, number> } | undefined;
}

export function readGuard(r: EnvReader): GuardConfig {
  const score = (name: EnvVarName, fallback: number): number => {
    const raw = r.string(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0 || n > 1) {
      r.problem(name, `must be a number in (0, 1], got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const cidrs = (name: EnvVarName): string[] => {
    const list = r.list(name);
    const bad = list.filter((e) => !IpSet.valid(e));
    if (bad.length > 0) r.problem(name, `not an address or CIDR range: ${bad.join(', ')}`);
    return list.filter((e) => IpSet.valid(e));
  };
  const flagThreshold = score('GUARD_FLAG_THRESHOLD', 0.8);
  const blockThreshold = score('GUARD_BLOCK_THRESHOLD', 0.9);
  if (blockThreshold < flagThreshold)
    r.problem('GUARD_BLOCK_THRESHOLD', 'must not be below GUARD_FLAG_THRESHOLD');
  const reputationUrl = r.url('GUARD_REPUTATION_URL', ['https', 'http']);
  const reputationKey = r.string('GUARD_REPUTATION_KEY');
  if (reputationUrl && !reputationKey)
    r.problem('GUARD_REPUTATION_KEY', 'is required when GUARD_REPUTATION_URL is set');
  const geoFile = r.string('GUARD_GEOIP_DB');
  if (geoFile && !existsSync(geoFile)) r.problem('GUARD_GEOIP_DB', `file not found: ${geoFile}`);
  const countryRisk = new Map<string, number>();
  for (const pair of r.list('GUARD_COUNTRY_RISK')) {
    const m = /^([A-Za-z]{2})=(\d*\.?\d+)$/.exec(pair);
    const risk = m ? Number(m[2]) : Number.NaN;
    if (!m || !(risk > 0 && risk <= 1))
      r.problem('GUARD_COUNTRY_RISK', `"${pair}" is not ISO=risk with risk in (0, 1]`);
    else countryRisk.set(m[1]!.toUpperCase(), risk);
  }
  if (countryRisk.size > 0 && !geoFile) r.problem('GUARD_COUNTRY_RISK', 'needs GUARD_GEOIP_DB');
  return {
    geoip: geoFile && existsSync(geoFile) ? { file: path.resolve(geoFile), countryRisk } : undefined,
    reputation:
      reputationUrl && reputationKey
        ? {
            url: reputationUrl.href,
            key: reputationKey,
            ttlS: r.int('GUARD_REPUTATION_TTL_S', { min: 60, max: 30 * 86400 }, 86400),
          }
        : undefined,
    enabled: r.bool('GUARD_ENABLED', true),
    flagThreshold,
    blockThreshold,
    allow: cidrs('GUARD_ALLOW'),
    deny: cidrs('GUARD_DENY'),
  };
}
