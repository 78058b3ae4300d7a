import { randomBytes, randomUUID } from 'node:crypto';
import type { DbOrTrx } from '../db/database.js';
import { AppError, type FieldError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import {
  type Delivery,
  findPersonalChannel,
  listDeliveries,
  upsertPersonalChannel,
} from './channels.repository.js';
import { type ChannelSettings, settingsErrors } from './channels.service.js';
import type { QuietHours } from './quiet-hours.js';
import type { ChannelRouting } from './routing.js';

/**
 * A member's alarm emails in one tenant. Stored as their personal email channel (`user_id` set),
 * so routing, quiet hours, the outbox, retries and the delivery log are the tenant channels' own;
 * it sends only while they are an active member, always to their account's current address.
 */
export interface NotificationPreferences {
  readonly email: boolean;
  /** Where the emails go: the account's address (not settable here). */
  readonly address: string;
  readonly minSeverity: string;
  readonly routing: ChannelRouting;
  readonly quietHours: QuietHours | null;
}

export interface PreferencesInput extends ChannelSettings {
  readonly email: boolean;
}

interface Member {
  readonly userId: string;
  readonly email: string;
}

export async function readPreferences(
  db: DbOrTrx,
  tenantId: string,
  member: Member,
): Promise<NotificationPreferences> {
  const c = await findPersonalChannel(db, tenantId, member.userId);
  if (!c)
    return { email: false, address: member.email, minSeverity: 'warning', routing: {}, quietHours: null };
  return {
    email: c.enabled,
    address: member.email,
    minSeverity: c.minSeverity,
    routing: c.routing,
    quietHours: c.quietHours,
  };
}

/** Replaces the member's preferences (what is left out takes its default). */
export async function writePreferences(
  services: Services,
  tenantId: string,
  member: Member,
  input: PreferencesInput,
): Promise<NotificationPreferences> {
  const { db } = services.database;
  const errors: FieldError[] = await settingsErrors(db, tenantId, input);
  if (input.email && !services.config.notifications.smtpUrl)
    errors.push({ pointer: '/body/email', detail: 'alarm emails need an SMTP server (SMTP_URL)' });
  if (errors.length > 0)
    throw new AppError('VALIDATION_FAILED', 'The notification preferences are not valid', { errors });
  await upsertPersonalChannel(db, {
    id: randomUUID(),
    tenant_id: tenantId,
    user_id: member.userId,
    name: 'Personal email',
    type: 'email',
    // For the record; the dispatcher mails the account's address as it is when sending.
    url: `mailto:${member.email}`,
    // Email needs no signing secret; the column does, and an unguessable value costs nothing.
    secret: services.identity.secretBox.encrypt(randomBytes(32).toString('base64url'), `channel:${tenantId}`),
    min_severity: input.minSeverity ?? 'warning',
    enabled: input.email ? 1 : 0,
    routing: JSON.stringify(input.routing ?? {}),
    quiet_hours: input.quietHours ? JSON.stringify(input.quietHours) : null,
    created_by: member.userId,
    created_at: Date.now(),
  });
  return readPreferences(db, tenantId, member);
}

/** The member's own delivery log, newest first (empty before they set preferences). */
export async function personalDeliveries(db: DbOrTrx, tenantId: string, userId: string): Promise<Delivery[]> {
  const c = await findPersonalChannel(db, tenantId, userId);
  return c ? listDeliveries(db, c.id) : [];
}
