import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { presentUser } from '../users/user.presenter.js';
import { Email, Password, UserSchema } from './auth.schemas.js';
import { completeBootstrap } from './bootstrap.js';

export async function bootstrapRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/bootstrap',
    {
      config: { auth: 'public', rateLimit: 'auth' },
      schema: {
        tags: ['auth'],
        summary:
          'First start only: create the first platform administrator and tenant with the printed setup token',
        body: Type.Object(
          {
            token: Type.String({ minLength: 10, maxLength: 200 }),
            email: Email,
            password: Password,
            displayName: Type.Optional(Type.String({ maxLength: 200 })),
            tenantSlug: Type.String({ minLength: 1, maxLength: 63 }),
            tenantName: Type.String({ minLength: 1, maxLength: 200 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ user: UserSchema, tenantId: Type.String() }) },
      },
    },
    async (request, reply) => {
      const { user, tenantId } = await completeBootstrap(opts.services, request, request.body);
      return reply.code(201).send({ user: presentUser(user), tenantId });
    },
  );
}
