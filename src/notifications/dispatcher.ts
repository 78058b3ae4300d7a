import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import type { SecretBox } from '../security/crypto.js';
import type { IpSet } from '../security/guard/ip-rules.js';
import { emailFor, type Mailer, mailRecipients } from './email.js';
import { assertPublicTarget, TargetRefused } from './ssrf.js';
import { formatFor, postWebhook } from './webhook.js';

/** How long a claimed delivery is ours before another dispatcher may take it (a crash mid-send). */
const LEASE_MS = 60_000;
const BATCH = 20;

/** Exponential backoff from 2 s to 1 h, with ±50 % jitter so retries of many deliveries spread out. */
export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(3_600_000, 2000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.5 + random()));
}

/**
 * Delivers the outbox: claims due rows with a lease (so two instances, or a restarted one, never
 * send the same row at once and a crashed send is retried after the lease), posts them, and records
 * each attempt's outcome. At least once: a receiver may see a delivery twice (same
 * X-Vigil-Delivery id) but never miss one.
 */
export class NotificationDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  readonly stats = { delivered: 0, retried: 0, failed: 0 };

  constructor(
    private readonly deps: {
      readonly db: Db;
      readonly secretBox: SecretBox;
      readonly allowedPrivate: IpSet;
      readonly maxAttempts: number;
      readonly logger: Logger;
      /** Email channels' sender (absent: email deliveries fail with a clear error). */
      readonly mailer?: Mailer;
      readonly clock?: () => number;
    },
  ) {}

  private again = false;

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  /**
   * New deliveries were committed: send them now rather than at the next tick (a pass already
   * running is followed by another one).
   */
  kick(): void {
    if (!this.timer) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.tick();
  }

  private tick(): void {
    if (this.running) return;
    this.again = false;
    this.running = this.runOnce()
      .then(() => undefined)
      .catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'notifications: dispatch failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again && this.timer) this.tick();
      });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    this.deps.mailer?.close();
  }

  /** One pass over the due deliveries; returns how many were attempted. */
  async runOnce(): Promise<number> {
    const { db } = this.deps;
    const now = (this.deps.clock ?? Date.now)();
    const due = await db
      .selectFrom('notification_outbox')
      .innerJoin('notification_channels', 'notification_channels.id', 'notification_outbox.channel_id')
      .select([
        'notification_outbox.id',
        'notification_outbox.tenant_id',
        'notification_outbox.payload',
        'notification_outbox.attempts',
        'notification_channels.url',
        'notification_channels.secret',
        'notification_channels.type',
      ])
      .where('notification_outbox.status', '=', 'pending')
      .where('notification_outbox.next_attempt_at', '<=', now)
      .where((eb) =>
        eb.or([
          eb('notification_outbox.lease_until', 'is', null),
          eb('notification_outbox.lease_until', '<', now),
        ]),
      )
      .orderBy('notification_outbox.next_attempt_at')
      .limit(BATCH)
      .execute();
    let attempted = 0;
    for (const d of due) {
      // Claim: only one dispatcher wins a row whose lease is free.
      const claimed = await db
        .updateTable('notification_outbox')
        .set({ lease_until: now + LEASE_MS })
        .where('id', '=', d.id)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) continue;
      attempted++;
      const attempts = Number(d.attempts) + 1;
      let result: { ok: boolean; status: number | null; error: string | null };
      try {
        if (d.type === 'email') {
          const to = mailRecipients(d.url);
          if (!to) throw new Error('the channel has no valid recipients');
          if (!this.deps.mailer) throw new Error('no SMTP server is configured (SMTP_URL)');
          const mail = emailFor(d.payload);
          const sent = await this.deps.mailer.send(to, mail.subject, mail.text);
          result = { ok: sent.ok, status: null, error: sent.error };
        } else {
          await assertPublicTarget(d.url, this.deps.allowedPrivate);
          const secret = this.deps.secretBox.decryptString(d.secret, `channel:${d.tenant_id}`);
          result = await postWebhook(d.url, secret, formatFor(d.type, d.payload), String(d.id), now);
        }
      } catch (err) {
        result = {
          ok: false,
          status: null,
          error: err instanceof TargetRefused ? `refused: ${err.message}` : (err as Error).message,
        };
      }
      if (result.ok) {
        this.stats.delivered++;
        await db
          .updateTable('notification_outbox')
          .set({
            status: 'delivered',
            attempts,
            last_status: result.status,
            last_error: null,
            delivered_at: now,
            lease_until: null,
          })
          .where('id', '=', d.id)
          .execute();
        continue;
      }
      const failed = attempts >= this.deps.maxAttempts;
      if (failed) this.stats.failed++;
      else this.stats.retried++;
      await db
        .updateTable('notification_outbox')
        .set({
          status: failed ? 'failed' : 'pending',
          attempts,
          last_status: result.status,
          last_error: result.error?.slice(0, 500) ?? null,
          next_attempt_at: now + backoffMs(attempts),
          lease_until: null,
        })
        .where('id', '=', d.id)
        .execute();
    }
    return attempted;
  }
}
