import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

// Accept a caller's id only if it is short and harmless in logs and headers.
const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

/** Reuses a well-formed `X-Request-Id` from the caller (tracing across a proxy), else makes one. */
export function genRequestId(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  if (typeof incoming === 'string' && WELL_FORMED.test(incoming)) return incoming;
  return randomUUID();
}
