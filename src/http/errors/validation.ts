import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import type { FieldError } from './catalogue.js';

/**
 * Turns Ajv errors into JSON pointers into the request (`/body/readings/0/value`) with a
 * sentence each, so a client can tell which item failed and why.
 */
export function toFieldErrors(
  validation: readonly FastifySchemaValidationError[],
  context: string | undefined,
): FieldError[] {
  const root = `/${context ?? 'body'}`;
  return validation.map((v) => {
    const params = v.params as Record<string, unknown>;
    let pointer = `${root}${v.instancePath}`;
    let detail = v.message ?? 'is invalid';
    if (v.keyword === 'required' && typeof params.missingProperty === 'string') {
      pointer = `${pointer}/${escapePointer(params.missingProperty)}`;
      detail = 'is required';
    } else if (v.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      pointer = `${pointer}/${escapePointer(params.additionalProperty)}`;
      detail = 'is not an allowed property';
    } else if (v.keyword === 'enum' && Array.isArray(params.allowedValues)) {
      detail = `must be one of: ${params.allowedValues.join(', ')}`;
    }
    return { pointer, detail };
  });
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
