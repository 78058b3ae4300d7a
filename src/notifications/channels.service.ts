import { randomBytes, randomUUID } from 'node:crypto';
import type { Updateable } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { NotificationChannelsTable } from '../db/schema.js';
import { AppError, type FieldError } from '../http/errors/catalogue.js';
import { findAsset } from '../registry/assets.repository.js';
import { findSite } from '../registry/sites.repository.js';
import { IpSet } from '../security/guard/ip-rules.js';
import type { Services } from '../services.js';
import {
  type Channel,
  findTenantChannel,
  insertChannel,
  toChannel,
  updateTenantChannel,
} from './channels.repository.js';
import { mailRecipients } from './email.js';
import { clockMinutes, isTimeZone, type QuietHours } from './quiet-hours.js';
import type { ChannelRouting, Severity } from './routing.js';
import { assertPublicTarget, TargetRefused } from './ssrf.js';

export const DEFAULT_RATE_LIMIT = 30;

/** What decides which notices a channel takes and when (shared by channels and personal preferences). */
export interface ChannelSettings {
  readonly minSeverity?: Severity;
  readonly routing?: ChannelRouting;
  /** null clears them. */
  readonly quietHours?: QuietHours | null;
}

export interface NewChannel extends ChannelSettings {
  readonly name: string;
  readonly type: Channel['type'];
  readonly url: string;
  readonly rateLimitPerMinute?: number;
}

export interface ChannelPatch extends ChannelSettings {
  readonly name?: string;
  readonly url?: string;
  readonly enabled?: boolean;
  readonly rateLimitPerMinute?: number;
}

/** Problems with a channel's target: SSRF for webhooks; valid recipients and an SMTP server for email. */
export async function targetErrors(
  services: Services,
  type: Channel['type'],
  url: string,
  pointer = '/body/url',
): Promise<FieldError[]> {
  try {
    if (type === 'email') {
      if (!mailRecipients(url))
        throw new TargetRefused('an email channel needs mailto: with valid addresses');
      if (!services.config.notifications.smtpUrl)
        throw new TargetRefused('email channels need an SMTP server (SMTP_URL)');
    } else await assertPublicTarget(url, new IpSet(services.config.notifications.allowedPrivate));
    return [];
  } catch (err) {
    if (!(err instanceof TargetRefused)) throw err;
    return [{ pointer, detail: err.message }];
  }
}

/** Problems the schema cannot see: sites or assets that are not the tenant's, unknown zones, an empty quiet period. */
export async function settingsErrors(
  db: DbOrTrx,
  tenantId: string,
  s: ChannelSettings,
): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  for (const [i, id] of (s.routing?.siteIds ?? []).entries()) {
    if (!(await findSite(db, tenantId, id)))
      errors.push({ pointer: `/body/routing/siteIds/${i}`, detail: 'is not a site of this tenant' });
  }
  for (const [i, id] of (s.routing?.assetIds ?? []).entries()) {
    if (!(await findAsset(db, tenantId, id)))
      errors.push({ pointer: `/body/routing/assetIds/${i}`, detail: 'is not an asset of this tenant' });
  }
  const q = s.quietHours;
  if (q) {
    if (!isTimeZone(q.timeZone))
      errors.push({
        pointer: '/body/quietHours/timeZone',
        detail: 'must be an IANA time zone such as Europe/Berlin',
      });
    if (clockMinutes(q.start) === clockMinutes(q.end))
      errors.push({ pointer: '/body/quietHours/end', detail: 'must differ from start' });
  }
  return errors;
}

function refuse(errors: readonly FieldError[]): void {
  if (errors.length > 0)
    throw new AppError('VALIDATION_FAILED', 'The channel settings are not valid', { errors });
}

/** Adds a tenant channel; the answer holds its signing secret (shown only this once). */
export async function createChannel(
  services: Services,
  tenantId: string,
  actorId: string | null,
  b: NewChannel,
): Promise<{ channel: Channel; secret: string }> {
  const { db } = services.database;
  refuse([...(await targetErrors(services, b.type, b.url)), ...(await settingsErrors(db, tenantId, b))]);
  const secret = randomBytes(32).toString('base64url');
  const row = {
    id: randomUUID(),
    tenant_id: tenantId,
    user_id: null,
    name: b.name,
    type: b.type,
    url: b.url,
    secret: services.identity.secretBox.encrypt(secret, `channel:${tenantId}`),
    min_severity: b.minSeverity ?? 'warning',
    enabled: 1,
    routing: JSON.stringify(b.routing ?? {}),
    quiet_hours: b.quietHours ? JSON.stringify(b.quietHours) : null,
    rate_limit_per_minute: b.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT,
    created_by: actorId,
    created_at: Date.now(),
  };
  await insertChannel(db, row);
  return { channel: toChannel(row), secret };
}

/** Changes a tenant channel; its type and secret stay. Returns the channel as it is now. */
export async function changeChannel(
  services: Services,
  tenantId: string,
  id: string,
  p: ChannelPatch,
): Promise<Channel> {
  const { db } = services.database;
  const current = await findTenantChannel(db, tenantId, id);
  if (!current) throw new AppError('NOT_FOUND', 'No such channel');
  refuse([
    ...(p.url === undefined ? [] : await targetErrors(services, current.type, p.url)),
    ...(await settingsErrors(db, tenantId, p)),
  ]);
  const set: Updateable<NotificationChannelsTable> = {};
  if (p.name !== undefined) set.name = p.name;
  if (p.url !== undefined) set.url = p.url;
  if (p.minSeverity !== undefined) set.min_severity = p.minSeverity;
  if (p.enabled !== undefined) set.enabled = p.enabled ? 1 : 0;
  if (p.routing !== undefined) set.routing = JSON.stringify(p.routing);
  if (p.quietHours !== undefined) set.quiet_hours = p.quietHours ? JSON.stringify(p.quietHours) : null;
  if (p.rateLimitPerMinute !== undefined) set.rate_limit_per_minute = p.rateLimitPerMinute;
  if (Object.keys(set).length > 0 && !(await updateTenantChannel(db, tenantId, id, set)))
    throw new AppError('NOT_FOUND', 'No such channel');
  return (await findTenantChannel(db, tenantId, id)) ?? current;
}
