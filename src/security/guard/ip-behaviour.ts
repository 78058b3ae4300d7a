/** What a client IP did recently that makes its next suspicious request more suspicious. */
export type BehaviourEvent = 'failed-login' | 'not-found' | 'rate-limited' | 'flagged';

const WEIGHT: Record<BehaviourEvent, number> = {
  'failed-login': 0.15,
  'not-found': 0.03,
  'rate-limited': 0.1,
  flagged: 0.25,
};
/** Half-life of an event's weight: behaviour ten minutes ago counts half. */
const HALF_LIFE_MS = 600_000;

/**
 * Per-IP risk from recent behaviour, 0–1: each event adds its weight, and the total decays
 * exponentially. Kept per instance, bounded in size.
 */
export class IpBehaviour {
  private readonly scores = new Map<string, { value: number; at: number }>();

  record(ip: string, event: BehaviourEvent, now = Date.now()): void {
    const value = this.risk(ip, now) + WEIGHT[event];
    this.scores.delete(ip);
    this.scores.set(ip, { value: Math.min(1, value), at: now });
    if (this.scores.size > 50_000) {
      // Drop the oldest (Map keeps insertion order; recorded entries move to the end).
      for (const key of this.scores.keys()) {
        this.scores.delete(key);
        if (this.scores.size <= 40_000) break;
      }
    }
  }

  risk(ip: string, now = Date.now()): number {
    const s = this.scores.get(ip);
    if (!s) return 0;
    return s.value * 0.5 ** ((now - s.at) / HALF_LIFE_MS);
  }
}
