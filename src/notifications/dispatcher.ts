import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import { dialectOf } from '../db/dialect.js';
import type { SecretBox } from '../security/crypto.js';
import type { IpSet } from '../security/guard/ip-rules.js';
import { emailFor, type Mailer, mailRecipients } from './email.js';
import { isQuiet, parseQuietHours, quietEnd } from './quiet-hours.js';
import { channelLoad } from './rate-limit.js';
import { severityRank } from './routing.js';
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

/** A due delivery with what sending it needs from its channel (and the owner of a personal one). */
interface DueDelivery {
  readonly id: number;
  readonly tenant_id: string;
  readonly channel_id: string;
  readonly payload: string;
  readonly severity: string | null;
  readonly attempts: number;
  readonly url: string;
  readonly secret: string;
  readonly type: string;
  readonly quiet_hours: string | null;
  readonly rate_limit_per_minute: number;
  readonly user_id: string | null;
  readonly user_email: string | null;
  readonly user_status: string | null;
  readonly member_role: string | null;
}

const iso = (t: number) => new Date(t).toISOString();

/**
 * Delivers the outbox: claims due rows with a lease (so two instances, or a restarted one, never
 * send the same row at once and a crashed send is retried after the lease), posts them, and records
 * each attempt's outcome. At least once: a receiver may see a delivery twice (same
 * X-Vigil-Delivery id) but never miss one. Before sending it holds a delivery that came due in its
 * channel's quiet hours (a retry, say) until they end, postpones one over the channel's rate limit
 * (no attempt counted), and suppresses one whose personal recipient is no longer a member.
 */
export class NotificationDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  readonly stats = { delivered: 0, retried: 0, failed: 0, postponed: 0, suppressed: 0 };
  /** Attempt outcomes by channel type (webhook, slack, teams, email), for metrics. */
  readonly byChannelType = new Map<string, { delivered: number; retried: number; failed: number }>();

  private count(type: string, outcome: 'delivered' | 'retried' | 'failed'): void {
    let c = this.byChannelType.get(type);
    if (!c) {
      c = { delivered: 0, retried: 0, failed: 0 };
      this.byChannelType.set(type, c);
    }
    c[outcome]++;
  }

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
    const clock = this.deps.clock ?? Date.now;
    const passStart = clock();
    const due: DueDelivery[] = await db
      .selectFrom('notification_outbox')
      .innerJoin('notification_channels', 'notification_channels.id', 'notification_outbox.channel_id')
      .leftJoin('users', 'users.id', 'notification_channels.user_id')
      .leftJoin('memberships', (join) =>
        join
          .onRef('memberships.user_id', '=', 'notification_channels.user_id')
          .onRef('memberships.tenant_id', '=', 'notification_channels.tenant_id'),
      )
      .select([
        'notification_outbox.id',
        'notification_outbox.tenant_id',
        'notification_outbox.channel_id',
        'notification_outbox.payload',
        'notification_outbox.severity',
        'notification_outbox.attempts',
        'notification_channels.url',
        'notification_channels.secret',
        'notification_channels.type',
        'notification_channels.quiet_hours',
        'notification_channels.rate_limit_per_minute',
        'notification_channels.user_id',
        'users.email as user_email',
        'users.status as user_status',
        'memberships.role as member_role',
      ])
      .where('notification_outbox.status', '=', 'pending')
      .where('notification_outbox.next_attempt_at', '<=', passStart)
      .where((eb) =>
        eb.or([
          eb('notification_outbox.lease_until', 'is', null),
          eb('notification_outbox.lease_until', '<', passStart),
        ]),
      )
      .orderBy('notification_outbox.next_attempt_at')
      .orderBy('notification_outbox.id')
      .limit(BATCH)
      .execute();
    let attempted = 0;
    // Channels found at their limit in this pass: their other deliveries wait without a recount.
    const limited = new Map<string, number>();
    for (const d of due) {
      // Each delivery reads the clock: a pass of slow sends can outlast a lease, and the rate
      // limit and quiet hours need the real time of each send.
      const now = clock();
      if (d.user_id !== null && (d.member_role === null || d.user_status !== 'active')) {
        await this.settle(d.id, now, {
          status: 'suppressed',
          note: 'suppressed: the recipient is no longer an active member of the tenant',
        });
        continue;
      }
      const quiet = parseQuietHours(d.quiet_hours);
      const severity = d.severity ?? severityOfPayload(d.payload);
      const passes =
        quiet?.minSeverity !== undefined && severityRank(severity) >= severityRank(quiet.minSeverity);
      if (quiet && !passes && isQuiet(quiet, now)) {
        const until = quietEnd(quiet, now);
        await this.settle(d.id, now, {
          next_attempt_at: until,
          note: `held for quiet hours until ${iso(until)}`,
        });
        continue;
      }
      const known = limited.get(d.channel_id);
      const claim = known === undefined ? await this.claim(d, now) : known;
      if (claim === 'taken') continue;
      if (claim !== 'claimed') {
        limited.set(d.channel_id, claim);
        await this.settle(d.id, now, { next_attempt_at: claim, note: `rate limited until ${iso(claim)}` });
        continue;
      }
      attempted++;
      const attempts = Number(d.attempts) + 1;
      let result: { ok: boolean; status: number | null; error: string | null };
      try {
        if (d.type === 'email') {
          // A personal channel mails its owner's current address.
          const to = d.user_id === null ? mailRecipients(d.url) : d.user_email ? [d.user_email] : null;
          if (!to) throw new Error('the channel has no valid recipients');
          if (!this.deps.mailer) throw new Error('no SMTP server is configured (SMTP_URL)');
          const mail = emailFor(d.payload);
          const sent = await this.deps.mailer.send(to, mail.subject, mail.text);
          result = { ok: sent.ok, status: null, error: sent.error };
        } else {
          await assertPublicTarget(d.url, this.deps.allowedPrivate);
          const secret = this.deps.secretBox.decryptString(d.secret, `channel:${d.tenant_id}`);
          result = await postWebhook(d.url, secret, formatFor(d.type, d.payload), String(d.id), clock());
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
        this.count(d.type, 'delivered');
        await db
          .updateTable('notification_outbox')
          .set({
            status: 'delivered',
            attempts,
            last_status: result.status,
            last_error: null,
            delivered_at: clock(),
            lease_until: null,
          })
          .where('id', '=', d.id)
          .execute();
        continue;
      }
      const failed = attempts >= this.deps.maxAttempts;
      if (failed) this.stats.failed++;
      else this.stats.retried++;
      this.count(d.type, failed ? 'failed' : 'retried');
      await db
        .updateTable('notification_outbox')
        .set({
          status: failed ? 'failed' : 'pending',
          attempts,
          last_status: result.status,
          last_error: result.error?.slice(0, 500) ?? null,
          next_attempt_at: clock() + backoffMs(attempts),
          lease_until: null,
        })
        .where('id', '=', d.id)
        .execute();
    }
    return attempted;
  }
  /**
   * Claims a delivery with a lease, unless another dispatcher holds it (`taken`) or its channel
   * used up its rate limit (then: when a slot frees). On PostgreSQL the channel row is locked while
   * counting, so instances sharing the database cannot together exceed the limit.
   */
  private async claim(d: DueDelivery, now: number): Promise<'claimed' | 'taken' | number> {
    const limit = Number(d.rate_limit_per_minute);
    return this.deps.db.transaction().execute(async (trx) => {
      if (limit > 0) {
        if (dialectOf(trx) === 'postgres')
          await trx
            .selectFrom('notification_channels')
            .select('id')
            .where('id', '=', d.channel_id)
            // Not FOR UPDATE: that would also block the outbox inserts (their foreign key takes a
            // key-share lock on the channel) of the alarm and detection transactions.
            .forNoKeyUpdate()
            .execute();
        const load = await channelLoad(trx, d.channel_id, now);
        if (load.used >= limit) return load.freesAt;
      }
      // Only one dispatcher wins a row whose lease is free.
      const claimed = await trx
        .updateTable('notification_outbox')
        .set({ lease_until: now + LEASE_MS })
        .where('id', '=', d.id)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .executeTakeFirst();
      return Number(claimed.numUpdatedRows) === 1 ? 'claimed' : 'taken';
    });
  }

  /** Reschedules or suppresses a delivery without an attempt, unless another dispatcher claimed it meanwhile. */
  private async settle(
    id: number,
    now: number,
    change: { status?: 'suppressed'; next_attempt_at?: number; note: string },
  ): Promise<void> {
    const r = await this.deps.db
      .updateTable('notification_outbox')
      .set({ ...change, lease_until: null })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return;
    if (change.status === 'suppressed') this.stats.suppressed++;
    else this.stats.postponed++;
  }
}

/** Severity of a delivery queued before the outbox recorded it. */
function severityOfPayload(payload: string): string {
  const alarm = (JSON.parse(payload) as { alarm?: { severity?: unknown } }).alarm;
  return typeof alarm?.severity === 'string' ? alarm.severity : 'info';
}
