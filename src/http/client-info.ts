import type { FastifyRequest } from 'fastify';

/** Transport facts recorded with sessions and audit events. */
export function clientInfo(request: FastifyRequest): {
  ip: string;
  userAgent: string | null;
  requestId: string;
} {
  const ua = request.headers['user-agent'];
  return {
    ip: request.ip,
    userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null,
    requestId: request.id,
  };
}
