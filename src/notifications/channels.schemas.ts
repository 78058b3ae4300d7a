import { Type } from 'typebox';
import { Uuid } from '../auth/auth.schemas.js';
import type { QuietHours } from './quiet-hours.js';
import {
  type ChannelRouting,
  NOTICE_EVENTS,
  type NoticeEvent,
  SEVERITIES,
  type Severity,
} from './routing.js';

const strict = { additionalProperties: false } as const;

export const SeveritySchema = Type.Unsafe<Severity>({ type: 'string', enum: [...SEVERITIES] });
const EventSchema = Type.Unsafe<NoticeEvent>({ type: 'string', enum: [...NOTICE_EVENTS] });
const Clock = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, 24-hour' });

/** Which notices a channel takes besides its minSeverity (notifications/routing.ts). */
export const RoutingSchema = Type.Unsafe<ChannelRouting>(
  Type.Object(
    {
      severities: Type.Optional(Type.Array(SeveritySchema, { minItems: 1, maxItems: 5, uniqueItems: true })),
      events: Type.Optional(Type.Array(EventSchema, { minItems: 1, maxItems: 5, uniqueItems: true })),
      siteIds: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 100, uniqueItems: true })),
      assetIds: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 100, uniqueItems: true })),
    },
    strict,
  ),
);

/** Quiet hours (notifications/quiet-hours.ts); the zone and start ≠ end are checked after the schema. */
export const QuietHoursSchema = Type.Unsafe<QuietHours>(
  Type.Object(
    {
      start: Clock,
      end: Clock,
      days: Type.Optional(
        Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { minItems: 1, maxItems: 7, uniqueItems: true }),
      ),
      timeZone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone, e.g. Europe/Berlin' }),
      minSeverity: Type.Optional(SeveritySchema),
      during: Type.Optional(Type.Unsafe<'hold' | 'drop'>({ type: 'string', enum: ['hold', 'drop'] })),
    },
    strict,
  ),
);

export const RateLimitSchema = Type.Integer({
  minimum: 0,
  maximum: 6000,
  description: 'Deliveries per rolling minute; 0 = unlimited',
});

export const ChannelSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.String(),
  url: Type.String(),
  minSeverity: Type.String(),
  enabled: Type.Boolean(),
  routing: RoutingSchema,
  quietHours: Type.Union([QuietHoursSchema, Type.Null()]),
  rateLimitPerMinute: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
});

export const DeliverySchema = Type.Object({
  id: Type.Integer(),
  alarmId: Type.String(),
  event: Type.String(),
  severity: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  /** Why it waits or was suppressed (quiet hours, rate limit, a recipient who left). */
  note: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  lastStatus: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  nextAttemptAt: Type.String({ format: 'date-time' }),
  createdAt: Type.String({ format: 'date-time' }),
  deliveredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const DeliveriesResponse = Type.Object({ items: Type.Array(DeliverySchema) });
