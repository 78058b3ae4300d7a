import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { userOf } from '../auth/auth.routes.js';
import { Email, Password, RoleSchema, Uuid } from '../auth/auth.schemas.js';
import { listInvitations } from '../auth/one-time-tokens.repository.js';
import { isRole } from '../auth/permissions.js';
import { AppError } from '../http/errors/catalogue.js';
import { decodeCursor, PageOf, PageQuery, page } from '../http/pagination.js';
import type { Services } from '../services.js';
import {
  acceptInvitation,
  acceptInvitationAsUser,
  createInvitation,
  invitationLink,
  revokeInvitation,
} from './invitations.service.js';
import { changeRole, removeMember } from './members.service.js';
import { presentMember, presentUser } from './user.presenter.js';
import { findMember, listDirectory, listMembers } from './users.repository.js';

// No isPlatformAdmin here: tenant admins have no business learning who operates the installation.
const MemberSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  displayName: Type.String(),
  totpEnabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  role: RoleSchema,
  status: Type.String(),
  joinedAt: Type.String({ format: 'date-time' }),
});

const InvitationSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: RoleSchema,
  invitedBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
});

/** Most members the directory lists (a control room's crew, not a user base). */
const DIRECTORY_MAX = 2000;

const UserIdParams = Type.Object({ userId: Uuid }, { additionalProperties: false });
const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

/** Members of the caller's tenant and invitations to it. */
export async function memberRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const tags = ['members'];

  app.get(
    '/members',
    {
      config: { auth: 'principal', permission: 'users:read' },
      schema: {
        tags,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: {
          200: PageOf(MemberSchema),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const afterEmail = decodeCursor<string>(request.query.cursor, 'string');
      const members = await listMembers(services.database.db, request.principal!.tenantId, {
        afterEmail,
        limit,
      });
      return page(members.map(presentMember), limit, (m) => m.email);
    },
  );

  app.get(
    '/members/directory',
    {
      config: { auth: 'principal', permission: 'tenant:read' },
      schema: {
        tags,
        summary:
          'Who is in the tenant, by name and role only (no emails): for choosing an assignee or an owner; open to every member',
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({ id: Type.String(), displayName: Type.String(), role: RoleSchema }),
            ),
            truncated: Type.Boolean({
              description: `true when the tenant has more than ${DIRECTORY_MAX} members`,
            }),
          }),
        },
      },
    },
    async (request) => {
      const items = await listDirectory(services.database.db, request.principal!.tenantId, DIRECTORY_MAX + 1);
      return { items: items.slice(0, DIRECTORY_MAX), truncated: items.length > DIRECTORY_MAX };
    },
  );

  app.get(
    '/members/:userId',
    {
      config: { auth: 'principal', permission: 'users:read' },
      schema: { tags, params: UserIdParams, response: { 200: MemberSchema } },
    },
    async (request) => {
      const member = await findMember(
        services.database.db,
        request.principal!.tenantId,
        request.params.userId,
      );
      if (!member) throw new AppError('NOT_FOUND', 'No such member in this tenant');
      return presentMember(member);
    },
  );

  app.patch(
    '/members/:userId',
    {
      config: { auth: 'user', permission: 'users:manage' },
      schema: {
        tags,
        summary: 'Change a member’s role',
        params: UserIdParams,
        body: Type.Object({ role: RoleSchema }, { additionalProperties: false }),
        response: { 200: MemberSchema },
      },
    },
    async (request) =>
      presentMember(
        await changeRole(
          services,
          request,
          userOf(request.principal),
          request.params.userId,
          request.body.role,
        ),
      ),
  );

  app.delete(
    '/members/:userId',
    {
      config: { auth: 'user', permission: 'users:manage' },
      schema: {
        tags,
        summary: 'Remove a member from the tenant',
        params: UserIdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await removeMember(services, request, userOf(request.principal), request.params.userId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/invitations',
    {
      config: { auth: 'user', permission: 'users:manage' },
      schema: { tags, response: { 200: Type.Object({ items: Type.Array(InvitationSchema) }) } },
    },
    async (request) => {
      const rows = await listInvitations(services.database.db, request.principal!.tenantId, Date.now());
      return {
        items: rows.map((r) => ({
          id: r.id,
          email: r.email ?? '',
          role: isRole(r.role) ? r.role : 'viewer',
          invitedBy: r.created_by,
          createdAt: new Date(r.created_at).toISOString(),
          expiresAt: new Date(r.expires_at).toISOString(),
        })),
      };
    },
  );

  app.post(
    '/invitations',
    {
      config: { auth: 'user', permission: 'users:manage' },
      schema: {
        tags,
        summary: 'Invite an email with a role; returns a single-use link valid for 7 days (shown once)',
        body: Type.Object({ email: Email, role: RoleSchema }, { additionalProperties: false }),
        response: {
          201: Type.Object({ invitation: InvitationSchema, token: Type.String(), acceptUrl: Type.String() }),
        },
      },
    },
    async (request, reply) => {
      const { invitation, token } = await createInvitation(
        services,
        request,
        userOf(request.principal),
        request.body,
      );
      return reply.code(201).send({
        invitation: {
          ...invitation,
          createdAt: invitation.createdAt.toISOString(),
          expiresAt: invitation.expiresAt.toISOString(),
        },
        token,
        acceptUrl: invitationLink(services, token, `${request.protocol}://${request.host}`),
      });
    },
  );

  app.delete(
    '/invitations/:id',
    {
      config: { auth: 'user', permission: 'users:manage' },
      schema: { tags, params: IdParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await revokeInvitation(services, request, userOf(request.principal), request.params.id);
      return reply.code(204).send(null);
    },
  );
}

/** Public: accepting an invitation (the token is the credential). */
export async function invitationAcceptRoutes(
  base: FastifyInstance,
  opts: { services: Services },
): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/invitations/accept',
    {
      config: { auth: 'public', rateLimit: 'auth' },
      schema: {
        tags: ['auth'],
        summary: 'Accept an invitation as a new user by choosing a password',
        body: Type.Object(
          {
            token: Type.String({ minLength: 10, maxLength: 200 }),
            password: Password,
            displayName: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            user: Type.Object({ id: Type.String(), email: Type.String() }),
            tenantId: Type.String(),
            role: RoleSchema,
          }),
        },
      },
    },
    async (request) => {
      const result = await acceptInvitation(opts.services, request, request.body);
      return { ...result, user: presentUser(result.user) };
    },
  );

  app.post(
    '/invitations/accept-as-me',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['auth'],
        summary: 'Accept an invitation to your own email with your existing account (logged in)',
        body: Type.Object(
          { token: Type.String({ minLength: 10, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            user: Type.Object({ id: Type.String(), email: Type.String() }),
            tenantId: Type.String(),
            role: RoleSchema,
          }),
        },
      },
    },
    async (request) => {
      const result = await acceptInvitationAsUser(
        opts.services,
        request,
        userOf(request.principal),
        request.body.token,
      );
      return { ...result, user: presentUser(result.user) };
    },
  );
}
