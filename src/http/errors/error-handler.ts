import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../../db/errors.js';
import { AppError, type ErrorCode } from './catalogue.js';
import { buildProblem, PROBLEM_CONTENT_TYPE } from './problem.js';
import { toFieldErrors } from './validation.js';

const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
};

const BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  503: 'SERVICE_UNAVAILABLE',
};

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Seconds a client should wait before retrying when the database is unreachable. */
const DB_RETRY_AFTER_S = 5;

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  error: AppError,
  opts: { stack?: string | undefined } = {},
): FastifyReply {
  const problem = buildProblem({
    code: error.code,
    detail: error.detail,
    requestId: request.id,
    instance: request.url.split('?')[0],
    errors: error.extra.errors,
    fields: error.extra.fields,
  });
  if (opts.stack) problem.stack = opts.stack;
  for (const [k, v] of Object.entries(error.extra.headers ?? {})) reply.header(k, v);
  return reply.code(error.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** Maps anything thrown into the catalogue; unknown errors become 500 without leaking internals. */
export function toAppError(error: FastifyError | Error): AppError {
  if (error instanceof AppError) return error;
  const fe = error as FastifyError;
  if (fe.validation) {
    return new AppError('VALIDATION_FAILED', 'One or more fields are invalid; see errors[]', {
      errors: toFieldErrors(fe.validation, fe.validationContext),
    });
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped === 'UNSUPPORTED_MEDIA_TYPE') {
    return new AppError(mapped, 'This endpoint does not accept that Content-Type', { cause: error });
  }
  if (mapped) return new AppError(mapped, fe.message, { cause: error });
  if (isDatabaseUnavailable(error)) {
    return new AppError('DEPENDENCY_UNAVAILABLE', 'The database is unavailable; retry later', {
      headers: { 'retry-after': String(DB_RETRY_AFTER_S) },
      cause: error,
    });
  }
  const status = fe.statusCode;
  if (status && status >= 400 && status < 500) {
    return new AppError(BY_STATUS[status] ?? 'BAD_REQUEST', fe.message, { cause: error });
  }
  return new AppError('INTERNAL', 'An unexpected error occurred; quote the requestId when reporting it', {
    cause: error,
  });
}

/** Installs the problem+json error handler and the 404/405 handler. */
export function registerErrorHandling(app: FastifyInstance, opts: { exposeStacks: boolean }): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    if (appError.status >= 500) {
      request.log.error({ err: error, code: appError.code }, 'request failed');
    } else {
      request.log.info({ code: appError.code, detail: appError.detail }, 'request rejected');
    }
    return sendProblem(request, reply, appError, {
      stack: opts.exposeStacks && appError.status >= 500 ? error.stack : undefined,
    });
  });

  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split('?')[0] ?? '/';
    const allowed = METHODS.filter((method) => app.findRoute({ method, url }) !== null);
    if (allowed.length > 0) {
      return sendProblem(
        request,
        reply,
        new AppError(
          'METHOD_NOT_ALLOWED',
          `${request.method} is not supported on ${url}; use ${allowed.join(', ')}`,
          {
            headers: { allow: allowed.join(', ') },
          },
        ),
      );
    }
    return sendProblem(
      request,
      reply,
      new AppError('ROUTE_NOT_FOUND', `No endpoint at ${request.method} ${url}`),
    );
  });
}
