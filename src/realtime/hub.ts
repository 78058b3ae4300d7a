import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Platform-wide messages (system status, jobs) carry this instead of a tenant id. */
export const PLATFORM = '*';

/** A message for live clients: what happened, in which tenant, on which channel. */
export interface HubMessage {
  /** The tenant it belongs to, or PLATFORM for platform-wide messages. */
  readonly tenantId: string;
  /** `alarms`, `incidents`, `readings`, `jobs`, `system`, or `control` (between instances). */
  readonly channel: string;
  /** e.g. `alarm.raised`. */
  readonly type: string;
  /** Resumable channels: the event's id in its durable log (alarm_events, incident_events); else null. */
  readonly id: string | null;
  readonly payload: Readonly<Record<string, unknown>>;
  /** When it happened (epoch ms). */
  readonly at: number;
}

export type HubListener = (m: HubMessage) => void;

const REDIS_CHANNEL = 'vigil:hub';

/**
 * The realtime hub: the alarm stage, ingest and jobs publish here once their changes have
 * committed; live connections subscribe. With Redis (`bridge`), every message is also published
 * to Redis and messages of the other instances are delivered here, so a client connected to one
 * instance sees what happened on another. A listener that throws does not stop the others or the
 * publisher.
 */
export class RealtimeHub {
  private readonly listeners = new Set<HubListener>();
  private redis: { pub: Redis; sub: Redis; instanceId: string } | undefined;
  readonly stats = { published: 0, fromRedis: 0, toRedisFailed: 0, listenerErrors: 0 };

  constructor(private readonly logger?: Logger) {}

  /** Returns the unsubscribe function. */
  subscribe(listener: HubListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(m: HubMessage): void {
    this.stats.published++;
    this.deliver(m);
    const r = this.redis;
    if (!r) return;
    // Pub/sub is at most once: a message lost while Redis is down reaches the other instances'
    // clients when they resume from their last event id (alarms, incidents) or the next update.
    r.pub.publish(REDIS_CHANNEL, JSON.stringify({ o: r.instanceId, m })).catch(() => {
      this.stats.toRedisFailed++;
    });
  }

  private deliver(m: HubMessage): void {
    for (const l of this.listeners) {
      try {
        l(m);
      } catch (err) {
        this.stats.listenerErrors++;
        this.logger?.warn({ err: (err as Error).message, channel: m.channel }, 'realtime: listener failed');
      }
    }
  }

  /** Fans out through Redis pub/sub (`sub` must be a connection of its own: it enters subscriber mode). */
  bridge(pub: Redis, sub: Redis, instanceId: string): void {
    this.redis = { pub, sub, instanceId };
    sub.on('message', (channel: string, text: string) => {
      if (channel !== REDIS_CHANNEL) return;
      let envelope: { o: string; m: HubMessage };
      try {
        envelope = JSON.parse(text) as { o: string; m: HubMessage };
      } catch {
        return;
      }
      // Our own messages were delivered locally when published.
      if (envelope.o === instanceId) return;
      this.stats.fromRedis++;
      this.deliver(envelope.m);
    });
    // Subscribes again after every reconnect (ioredis re-subscribes itself once subscribed).
    sub.subscribe(REDIS_CHANNEL).catch((err: Error) => {
      this.logger?.warn({ err: err.message }, 'realtime: redis subscribe failed; retrying on reconnect');
      sub.once('ready', () => void sub.subscribe(REDIS_CHANNEL).catch(() => undefined));
    });
  }

  async close(): Promise<void> {
    const r = this.redis;
    this.redis = undefined;
    if (r) {
      await r.sub.quit().catch(() => undefined);
      r.sub.disconnect();
    }
  }
}
