import { Type } from 'typebox';

/** What devices and agents call a sensor or device in readings: stable, URL- and topic-safe. */
export const Key = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$' });
export const Name = Type.String({ minLength: 1, maxLength: 200 });
/** Free-form labels; bounded so a registry row stays small. */
export const Metadata = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 50 });
export const strict = { additionalProperties: false } as const;

export const ListQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  /** Case-insensitive substring of key or name. */
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
};

export const MAX_METADATA_BYTES = 8192;
