import type { FastifyRequest } from 'fastify';
import type { Db, DbOrTrx } from '../db/database.js';
import type { Services } from '../services.js';
import { appendAudit } from './audit.repository.js';
import type { ActorType, AuditEvent } from './audit.types.js';

/** Actor and transport facts of a request, to spread into an audit event. */
export function auditContext(
  request: FastifyRequest,
): Pick<AuditEvent, 'actorType' | 'actorId' | 'tenantId' | 'ip' | 'userAgent' | 'requestId'> {
  const p = request.principal;
  let actorType: ActorType = 'anonymous';
  let actorId: string | null = null;
  if (p?.kind === 'user') [actorType, actorId] = ['user', p.userId];
  else if (p?.kind === 'api-key') [actorType, actorId] = ['api-key', p.apiKeyId];
  else if (p?.kind === 'device') [actorType, actorId] = ['device', p.deviceId];
  return {
    actorType,
    actorId,
    tenantId: p?.tenantId ?? null,
    ip: request.ip,
    userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : null,
    requestId: request.id,
  };
}

/** Records an event in its own transaction (for events not tied to another write, e.g. a failed login). */
export async function recordAudit(
  services: Services,
  event: AuditEvent,
  db: Db = services.database.db,
): Promise<void> {
  await db.transaction().execute((trx) => appendAudit(trx, services.identity.auditChain, event));
}

/** Records an event inside the caller's transaction, so it commits or rolls back with the change. */
export async function recordAuditIn(services: Services, trx: DbOrTrx, event: AuditEvent): Promise<void> {
  await appendAudit(trx, services.identity.auditChain, event);
}
