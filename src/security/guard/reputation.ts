import { IpSet } from './ip-rules.js';

/** Where an IP's abuse reputation comes from: 0 (clean) to 1 (known abuser), or null if unknown. */
export interface ReputationProvider {
  lookup(ip: string): Promise<number | null>;
}

/** Addresses no public reputation service knows: never sent out. */
const LOCAL = new IpSet([
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '169.254.0.0/16',
  '::1',
  'fc00::/7',
  'fe80::/10',
]);

/**
 * An AbuseIPDB-compatible HTTP API (`GET <url>?ipAddress=…&maxAgeInDays=90` with a `Key` header,
 * answering `{"data":{"abuseConfidenceScore":0-100}}`).
 */
export class HttpReputationProvider implements ReputationProvider {
  constructor(private readonly opts: { url: string; key: string; timeoutMs: number }) {}

  async lookup(ip: string): Promise<number | null> {
    const url = new URL(this.opts.url);
    url.searchParams.set('ipAddress', ip);
    url.searchParams.set('maxAgeInDays', '90');
    const res = await fetch(url, {
      headers: { Key: this.opts.key, Accept: 'application/json' },
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    if (!res.ok) throw new Error(`reputation service answered ${res.status}`);
    const body = (await res.json()) as { data?: { abuseConfidenceScore?: unknown } };
    const score = body.data?.abuseConfidenceScore;
    return typeof score === 'number' && score >= 0 && score <= 100 ? score / 100 : null;
  }
}

/**
 * Reputation answers cached per IP, looked up in the background: a request never waits for the
 * service. The first request from an address starts the lookup; later ones see the answer.
 * Failures are remembered briefly so an outage does not turn into a request per hit.
 */
export class ReputationCache {
  private readonly entries = new Map<string, { risk: number | null; expires: number }>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly provider: ReputationProvider,
    private readonly ttlMs: number,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  /** The cached risk (0–1), or 0 while unknown; starts a lookup when there is none. */
  risk(ip: string, now = Date.now()): number {
    if (LOCAL.has(ip)) return 0;
    const hit = this.entries.get(ip);
    if (hit && hit.expires > now) return hit.risk ?? 0;
    if (!this.pending.has(ip)) this.pending.set(ip, this.fetch(ip));
    return hit?.risk ?? 0;
  }

  /** For tests and callers that can wait: the lookup in progress for `ip`, if any. */
  settled(ip: string): Promise<void> {
    return this.pending.get(ip) ?? Promise.resolve();
  }

  private async fetch(ip: string): Promise<void> {
    try {
      const risk = await this.provider.lookup(ip);
      this.remember(ip, risk, this.ttlMs);
    } catch (err) {
      this.onError(err as Error);
      this.remember(ip, null, Math.min(this.ttlMs, 300_000));
    } finally {
      this.pending.delete(ip);
    }
  }

  private remember(ip: string, risk: number | null, ttlMs: number): void {
    if (this.entries.size > 100_000) this.entries.clear();
    this.entries.set(ip, { risk, expires: Date.now() + ttlMs });
  }
}
