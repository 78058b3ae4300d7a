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

/** A water utility → pressure zones → district metered areas; plants and areas for industry. */
export const SITE_KINDS = ['utility', 'zone', 'dma', 'site', 'plant', 'area'];
export const ASSET_KINDS = [
  'pump',
  'tank',
  'reservoir',
  'valve',
  'pipeline',
  'meter',
  'station',
  'hydrant',
  'well',
  'machine',
  'other',
];
export const DEVICE_KINDS = ['logger', 'gateway', 'plc', 'meter', 'other'];

/** A string schema that must be one of `values`. */
export const OneOf = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));
