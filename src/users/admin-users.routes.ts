import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { auditContext, recordAuditIn } from '../audit/audit.service.js';
import { Email, Uuid } from '../auth/auth.schemas.js';
import { revokeUserSessions } from '../auth/sessions.repository.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import { presentUser } from './user.presenter.js';
import {
  findUserRecord,
  findUserRecordByEmail,
  lockUserSessions,
  toUser,
  updateUser,
} from './users.repository.js';

const AdminUserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  displayName: Type.String(),
  isPlatformAdmin: Type.Boolean(),
  totpEnabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  status: Type.String(),
});

/** Installation-wide user control for platform administrators: find a user, disable or re-enable them. */
export async function adminUserRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const tags = ['admin'];

  app.get(
    '/users',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: {
        tags,
        summary: 'Find a user by email',
        querystring: Type.Object({ email: Email }, { additionalProperties: false }),
        response: { 200: AdminUserSchema },
      },
    },
    async (request) => {
      const row = await findUserRecordByEmail(services.database.db, request.query.email);
      if (!row) throw new AppError('NOT_FOUND', 'No user with that email');
      return { ...presentUser(toUser(row)), status: row.status };
    },
  );

  app.patch(
    '/users/:id',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: {
        tags,
        summary: 'Disable (ends every session at once) or re-enable a user',
        params: Type.Object({ id: Uuid }, { additionalProperties: false }),
        body: Type.Object(
          { status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]) },
          { additionalProperties: false },
        ),
        response: { 200: AdminUserSchema },
      },
    },
    async (request) => {
      const { db } = services.database;
      const { id } = request.params;
      const { status } = request.body;
      const principal = request.principal;
      if (principal?.kind === 'user' && principal.userId === id && status === 'disabled') {
        throw new AppError('CONFLICT', 'You cannot disable yourself');
      }
      await db.transaction().execute(async (trx) => {
        const row = await findUserRecord(trx, id);
        if (!row) throw new AppError('NOT_FOUND', 'No such user');
        await lockUserSessions(trx, id);
        const now = Date.now();
        await updateUser(trx, id, { status, now });
        const revoked = status === 'disabled' ? await revokeUserSessions(trx, id, 'user disabled', now) : 0;
        await recordAuditIn(services, trx, {
          ...auditContext(request),
          tenantId: null,
          action: status === 'disabled' ? 'user.disable' : 'user.enable',
          outcome: 'success',
          severity: 'warning',
          targetType: 'user',
          targetId: id,
          details: { sessionsRevoked: revoked },
        });
      });
      const row = (await findUserRecord(db, id))!;
      return { ...presentUser(toUser(row)), status: row.status };
    },
  );
}
