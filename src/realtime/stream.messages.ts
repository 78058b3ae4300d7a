import { type Static, type TSchema, Type } from 'typebox';
import { Value } from 'typebox/value';

/** The channels a live-stream connection can subscribe to. */
export const CHANNELS = ['alarms', 'incidents', 'readings', 'jobs', 'system', 'lab'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Channels whose messages are never dropped (and can be resumed from an event id). */
export const RELIABLE: ReadonlySet<string> = new Set(['alarms', 'incidents', 'jobs', 'system', 'lab']);

/** Close codes (docs/realtime.md). */
export const CLOSE = {
  goingAway: 1001,
  idle: 4000,
  badMessage: 4400,
  unauthenticated: 4401,
  slowConsumer: 4008,
  tooMany: 4429,
} as const;

const Ref = Type.Optional(Type.String({ maxLength: 64 }));
const Uuid = Type.String({ format: 'uuid' });

const Auth = Type.Object(
  { type: Type.Literal('auth'), token: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
);
const Subscribe = Type.Object(
  {
    type: Type.Literal('subscribe'),
    channel: Type.Unsafe<Channel>({ type: 'string', enum: [...CHANNELS] }),
    /** readings: the sensors. */
    sensorIds: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 1000, uniqueItems: true })),
    /** readings: at most this many messages a second (conflated in between). */
    maxRatePerS: Type.Optional(Type.Number({ minimum: 0.1, maximum: 100 })),
    /** alarms, incidents: resume after this event id. */
    since: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$' })),
    ref: Ref,
  },
  { additionalProperties: false },
);
const Unsubscribe = Type.Object(
  {
    type: Type.Literal('unsubscribe'),
    channel: Type.Unsafe<Channel>({ type: 'string', enum: [...CHANNELS] }),
    sensorIds: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 1000 })),
    ref: Ref,
  },
  { additionalProperties: false },
);
const Ping = Type.Object({ type: Type.Literal('ping'), ref: Ref }, { additionalProperties: false });

export type AuthMessage = Static<typeof Auth>;
export type SubscribeMessage = Static<typeof Subscribe>;
export type UnsubscribeMessage = Static<typeof Unsubscribe>;
export type ClientMessage =
  | AuthMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | { type: 'ping'; ref?: string };

const BY_TYPE: Record<string, TSchema> = {
  auth: Auth,
  subscribe: Subscribe,
  unsubscribe: Unsubscribe,
  ping: Ping,
};

/** A client's message, or why it is not one (with a JSON pointer, like the HTTP API's errors). */
export function parseClientMessage(
  text: string,
): { ok: true; message: ClientMessage } | { ok: false; pointer: string; detail: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, pointer: '', detail: 'not JSON' };
  }
  const type = (value as { type?: unknown } | null)?.type;
  const schema = typeof type === 'string' ? BY_TYPE[type] : undefined;
  if (!schema)
    return { ok: false, pointer: '/type', detail: `must be one of ${Object.keys(BY_TYPE).join(', ')}` };
  if (!Value.Check(schema, value)) {
    const first = [...Value.Errors(schema, value)][0];
    return {
      ok: false,
      pointer: first?.instancePath || '',
      detail: first?.message ?? 'is not valid',
    };
  }
  return { ok: true, message: value as ClientMessage };
}

/** What the server sends: every message has a type, a channel, an id and a payload. */
export interface ServerMessage {
  readonly type: string;
  readonly channel: string | null;
  readonly id: string | null;
  readonly payload: Readonly<Record<string, unknown>>;
}

export const encode = (m: ServerMessage): string => JSON.stringify(m);
