/** A message for live clients: what happened, in which tenant, on which channel. */
export interface HubMessage {
  readonly tenantId: string;
  /** e.g. `alarms`, `incidents`, `readings:<sensorId>`, `system`. */
  readonly channel: string;
  /** e.g. `alarm.raised`. */
  readonly type: string;
  readonly payload: Readonly<Record<string, unknown>>;
  /** When it happened (epoch ms). */
  readonly at: number;
}

export type HubListener = (m: HubMessage) => void;

/**
 * The realtime hub: the alarm stage (and later ingest and jobs) publish here once their changes
 * have committed; live connections subscribe. In-process; a listener that throws does not stop
 * the others or the publisher.
 */
export class RealtimeHub {
  private readonly listeners = new Set<HubListener>();
  readonly stats = { published: 0, listenerErrors: 0 };

  /** Returns the unsubscribe function. */
  subscribe(listener: HubListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(m: HubMessage): void {
    this.stats.published++;
    for (const l of this.listeners) {
      try {
        l(m);
      } catch {
        this.stats.listenerErrors++;
      }
    }
  }
}
