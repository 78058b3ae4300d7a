import type { DbOrTrx } from '../db/database.js';

/** The rolling window of a channel's rate limit. */
export const RATE_WINDOW_MS = 60_000;

/**
 * How much of its rate limit a channel has used at `now`, read from the outbox so every instance
 * sharing the database sees the same count: deliveries sent in the last minute, plus deliveries
 * being sent right now (claimed by a lease). `freesAt` is when the oldest of those stops counting.
 */
export async function channelLoad(
  db: DbOrTrx,
  channelId: string,
  now: number,
): Promise<{ used: number; freesAt: number }> {
  const sent = await db
    .selectFrom('notification_outbox')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('delivered_at').as('oldest')])
    .where('channel_id', '=', channelId)
    .where('status', '=', 'delivered')
    .where('delivered_at', '>', now - RATE_WINDOW_MS)
    .executeTakeFirstOrThrow();
  const sending = await db
    .selectFrom('notification_outbox')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('channel_id', '=', channelId)
    .where('status', '=', 'pending')
    .where('lease_until', '>', now)
    .executeTakeFirstOrThrow();
  const oldest = sent.oldest === null ? now : Number(sent.oldest);
  return { used: Number(sent.n) + Number(sending.n), freesAt: oldest + RATE_WINDOW_MS };
}
