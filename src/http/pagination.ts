import { type TSchema, Type } from 'typebox';
import { AppError } from './errors/catalogue.js';

/** Opaque cursors: base64url of the last item's sort key, so clients cannot depend on its shape. */
export function encodeCursor(value: string | number): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T extends string | number>(
  cursor: string | undefined,
  kind: 'string' | 'number',
): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value === kind) return value as T;
  } catch {
    // fall through
  }
  return undefined;
}

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
};

/** `nextCursor` is null on the last page. */
export function page<T>(items: T[], limit: number, key: (item: T) => string | number) {
  const last = items[items.length - 1];
  return { items, nextCursor: items.length === limit && last !== undefined ? encodeCursor(key(last)) : null };
}

/** Response schema of a cursor-paginated list of `item`. */
export function PageOf<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

/**
 * A keyset cursor `<sort value>:<tie-breaker>` (encodeCursor of that string), matched against the
 * route's own `shape` (two groups). Absent: undefined; present but not one of ours: 400.
 */
export function keysetCursor(cursor: string | undefined, shape: RegExp): [string, string] | undefined {
  if (cursor === undefined) return undefined;
  const raw = decodeCursor<string>(cursor, 'string');
  const m = raw === undefined ? null : shape.exec(raw);
  if (!m) {
    throw new AppError('VALIDATION_FAILED', 'Invalid cursor', {
      errors: [{ pointer: '/query/cursor', detail: 'unknown cursor' }],
    });
  }
  return [m[1]!, m[2]!];
}
