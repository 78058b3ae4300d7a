import { IpSet } from '../security/guard/ip-rules.js';
import type { EnvVarName } from './env.spec.js';
import type { EnvReader } from './env-reader.js';

export interface GuardConfig {
  readonly enabled: boolean;
  readonly flagThreshold: number;
  readonly blockThreshold: number;
  readonly allow: readonly string[];
  readonly deny: readonly string[];
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
  return {
    enabled: r.bool('GUARD_ENABLED', true),
    flagThreshold,
    blockThreshold,
    allow: cidrs('GUARD_ALLOW'),
    deny: cidrs('GUARD_DENY'),
  };
}
