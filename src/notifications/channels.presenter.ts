import type { Channel, Delivery } from './channels.repository.js';

const iso = (t: number) => new Date(t).toISOString();

/** The public shape of a channel (never its secret). */
export function presentChannel(c: Channel) {
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    url: c.url,
    minSeverity: c.minSeverity,
    enabled: c.enabled,
    routing: c.routing,
    quietHours: c.quietHours,
    rateLimitPerMinute: c.rateLimitPerMinute,
    createdAt: iso(c.createdAt),
  };
}

export function presentDelivery(d: Delivery) {
  return {
    ...d,
    nextAttemptAt: iso(d.nextAttemptAt),
    createdAt: iso(d.createdAt),
    deliveredAt: d.deliveredAt === null ? null : iso(d.deliveredAt),
  };
}
