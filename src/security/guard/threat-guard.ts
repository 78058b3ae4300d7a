import type { Logger } from 'pino';
import type { GuardConfig } from '../../config/guard.config.js';
import type { Db } from '../../db/database.js';
import { clientKey } from '../../http/client-key.js';
import { insertSecurityEvents, listIpRules, type SecurityEventRow } from '../security.repository.js';
import type { BlockStore, IpBlock } from './block-store.js';
import { type Finding, inspectPath, inspectUserAgent, scoreValues } from './detectors.js';
import type { CountryRisk } from './geoip.js';
import { type BehaviourEvent, IpBehaviour } from './ip-behaviour.js';
import { IpSet } from './ip-rules.js';
import type { ReputationCache } from './reputation.js';

/** The parts of a request the guard reads. */
export interface Inspected {
  readonly findings: readonly Finding[];
  readonly score: number;
}

export interface Verdict extends Inspected {
  readonly action: 'pass' | 'flag' | 'block';
  /** The IP's behaviour risk at the time (0–1). */
  readonly ipRisk: number;
}

const SECRET_FIELD = /password|secret|token|^code$|recovery/i;

/** Strings taken from one JSON body at most (and their total length): bounded work per request. */
const MAX_STRINGS = 2000;
const MAX_CHARS = 64 * 1024;

/**
 * Scores requests (0–1) from pattern detectors over path, query, headers and JSON strings,
 * raised by the client IP's recent behaviour (failed logins, 404 bursts, rate-limit hits, earlier
 * flags). Above the flag threshold a security event is recorded; above the block threshold the
 * request is refused and the IP blocked for an escalating time. Allow lists win over everything;
 * deny lists and administrators' rules come from the environment and the database.
 */
export class ThreatGuard {
  readonly behaviour = new IpBehaviour();
  /** Requests refused (scored as attacks, deny-listed, from a blocked IP), flagged, and IPs blocked: metrics. */
  readonly stats = { blockedAttack: 0, blockedDenied: 0, blockedIp: 0, flagged: 0, ipBlocks: 0 };
  private readonly envAllow: IpSet;
  private readonly envDeny: IpSet;
  private rules: { allow: IpSet; deny: IpSet; loadedAt: number } | null = null;
  private rulesLoading: Promise<void> | null = null;
  private readonly pending: SecurityEventRow[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    readonly config: GuardConfig,
    private readonly db: Db,
    readonly blocks: BlockStore,
    private readonly logger: Logger,
    /** Optional: the IPs' abuse reputation (AbuseIPDB-compatible), cached and looked up in the background. */
    readonly reputation?: ReputationCache,
    /** Optional: risk by the client's country (GeoIP). */
    readonly countries?: CountryRisk,
  ) {
    this.envAllow = new IpSet(config.allow);
    this.envDeny = new IpSet(config.deny);
  }

  /** Allowed (never scored or blocked), denied (always refused), or neither. */
  standing(
    ip: string,
  ): Promise<'allowed' | 'denied' | IpBlock | null> | 'allowed' | 'denied' | IpBlock | null {
    const now = Date.now();
    // The common case answers without a promise: rules fresh and blocks in this process's memory.
    if (this.rules && now - this.rules.loadedAt < 10_000 && this.blocks.peek) {
      const listed = this.listed(ip, this.rules);
      return listed ?? this.blocks.peek(clientKey(ip), now);
    }
    return this.currentRules().then(
      (rules): Promise<'allowed' | 'denied' | IpBlock | null> | 'allowed' | 'denied' =>
        this.listed(ip, rules) ?? this.blocks.get(clientKey(ip)),
    );
  }

  private listed(ip: string, rules: { allow: IpSet; deny: IpSet }): 'allowed' | 'denied' | null {
    if (this.envAllow.has(ip) || rules.allow.has(ip)) return 'allowed';
    if (this.envDeny.has(ip) || rules.deny.has(ip)) return 'denied';
    return null;
  }

  /** Strongest finding per category over the values, combined into one score. */
  inspectValues(values: Iterable<string>, extra: readonly (Finding | null)[] = []): Inspected {
    return scoreValues(values, extra);
  }

  /** Path, query and header values, plus the user agent and path against scanner signatures. */
  inspectRequest(values: readonly string[], path: string, userAgent: string): Inspected {
    return this.inspectValues(values, [inspectUserAgent(userAgent), inspectPath(path)]);
  }

  /** Every string in a parsed JSON body, bounded in count and size. */
  static bodyStrings(body: unknown): string[] {
    const out: string[] = [];
    let chars = 0;
    const stack: unknown[] = [body];
    while (stack.length > 0 && out.length < MAX_STRINGS && chars < MAX_CHARS) {
      const v = stack.pop();
      if (typeof v === 'string') {
        out.push(v);
        chars += Math.min(v.length, 4096); // what the detectors read of it (normalize.bounded)
      } else if (Array.isArray(v)) stack.push(...v);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          out.push(k);
          chars += k.length;
          // Secrets may contain anything; they are checked by hashing, never interpreted.
          if (!SECRET_FIELD.test(k)) stack.push(x);
        }
      }
    }
    return out;
  }

  /** Combines a request's own score with its IP's recent behaviour, and decides. */
  decide(ip: string, inspected: Inspected): Verdict {
    // Nothing suspicious in the request: behaviour alone never flags or blocks.
    if (inspected.score === 0) return { ...inspected, action: 'pass', ipRisk: 0 };
    // The worse of what this IP did here recently and what the reputation service knows of it.
    const ipRisk = Math.max(
      this.behaviour.risk(clientKey(ip)),
      this.reputation?.risk(ip) ?? 0,
      this.countries?.risk(ip) ?? 0,
    );
    const score = inspected.score + (1 - inspected.score) * 0.5 * ipRisk * (inspected.score > 0 ? 1 : 0);
    const action =
      score >= this.config.blockThreshold ? 'block' : score >= this.config.flagThreshold ? 'flag' : 'pass';
    return { ...inspected, score, action, ipRisk };
  }

  record(ip: string, event: BehaviourEvent): void {
    this.behaviour.record(clientKey(ip), event);
  }

  /** Queues a security event; written in batches off the request path. */
  event(row: SecurityEventRow): void {
    if (this.pending.length >= 10_000) return; // a flood: the counts in the log are enough
    this.pending.push(row);
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, 500);
        await insertSecurityEvents(this.db, batch).catch((err: Error) =>
          this.logger.warn({ err: err.message, events: batch.length }, 'security events not recorded'),
        );
      }
    } finally {
      this.flushing = null;
    }
  }

  /** Administrators' rules changed (here or elsewhere): read them again on next use. */
  invalidateRules(): void {
    this.rules = null;
  }

  private async currentRules(): Promise<{ allow: IpSet; deny: IpSet }> {
    const now = Date.now();
    // Re-read every 10 s so other instances' changes and expiries apply without a restart.
    if (this.rules && now - this.rules.loadedAt < 10_000) return this.rules;
    this.rulesLoading ??= listIpRules(this.db, now)
      .then((rows) => {
        this.rules = {
          allow: new IpSet(rows.filter((r) => r.kind === 'allow').map((r) => r.cidr)),
          deny: new IpSet(rows.filter((r) => r.kind === 'block').map((r) => r.cidr)),
          loadedAt: now,
        };
      })
      .catch((err: Error) => {
        // Database down: keep what we had (or nothing) rather than failing every request.
        this.logger.warn({ err: err.message }, 'security rules not loaded');
        this.rules ??= { allow: new IpSet([]), deny: new IpSet([]), loadedAt: now };
      })
      .finally(() => {
        this.rulesLoading = null;
      });
    await this.rulesLoading;
    return this.rules!;
  }
}
