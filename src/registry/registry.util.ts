import type { FastifyInstance } from 'fastify';
import { AppError } from '../http/errors/catalogue.js';
import { decodeCursor } from '../http/pagination.js';
import { MAX_METADATA_BYTES } from './registry.schemas.js';

export function metadataText(
  metadata: Record<string, unknown> | undefined,
  pointer = '/body/metadata',
): string {
  const text = JSON.stringify(metadata ?? {});
  if (Buffer.byteLength(text) > MAX_METADATA_BYTES) {
    throw new AppError('VALIDATION_FAILED', 'Metadata too large', {
      errors: [{ pointer, detail: `must serialise to at most ${MAX_METADATA_BYTES} bytes` }],
    });
  }
  return text;
}

/** The key after which a page starts; a cursor that is not ours is a 400, not an empty page. */
export function afterKey(cursor: string | undefined): string | undefined {
  const key = decodeCursor<string>(cursor, 'string');
  if (cursor !== undefined && key === undefined) {
    throw new AppError('VALIDATION_FAILED', 'Bad cursor', {
      errors: [{ pointer: '/query/cursor', detail: 'is not a cursor from this endpoint' }],
    });
  }
  return key;
}

/** Unique violations on both dialects. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    e.code === '23505' ||
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    /UNIQUE constraint failed/.test(e.message ?? '')
  );
}

export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    e.code === '23503' ||
    e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' ||
    /FOREIGN KEY constraint failed/.test(e.message ?? '')
  );
}

/** Escapes LIKE wildcards so a search for "a_b" matches literally. */
export function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Runs an insert, turning a duplicate key into 409 CONFLICT with `message`. */
export async function conflictOnDuplicate<T>(insert: () => Promise<T>, message: string): Promise<T> {
  try {
    return await insert();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('CONFLICT', message);
    throw err;
  }
}

/**
 * After a successful registry write, drop the tenant's cached sensor lookups so ingestion sees
 * the change at once in this process (other instances within the cache TTL). Runs before the
 * response is sent, so a client's next request already sees it.
 */
export function invalidateSensorsOnWrite(
  app: FastifyInstance,
  directory: { invalidate(tenantId: string): void },
): void {
  app.addHook('onSend', async (request, reply) => {
    if (request.method !== 'GET' && reply.statusCode < 400 && request.principal) {
      directory.invalidate(request.principal.tenantId);
    }
  });
}
