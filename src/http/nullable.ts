import { type TUnsafe, Type } from 'typebox';

/**
 * An integer in [minimum, maximum], or null. One schema with `type: ['integer', 'null']` rather
 * than a union: under Ajv's type coercion a union's null branch would turn an out-of-range 0 into
 * null (a silent "reset to default") instead of refusing it.
 */
export function NullableInteger(bounds: { minimum: number; maximum: number }): TUnsafe<number | null> {
  return Type.Unsafe<number | null>({ type: ['integer', 'null'], ...bounds });
}
