/**
 * Every error a client can see. The code is the stable contract (clients switch on it); the title
 * is the human summary; `detail` on each response says what exactly went wrong. Add new errors
 * here, never ad hoc in a route. Documented in docs/errors.md.
 */
export const ERROR_CATALOGUE = {
  VALIDATION_FAILED: { status: 400, title: 'The request did not pass validation' },
  MALFORMED_BODY: { status: 400, title: 'The request body could not be parsed' },
  BAD_REQUEST: { status: 400, title: 'The request is not valid' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication is required' },
  INVALID_CREDENTIALS: { status: 401, title: 'Email or password is wrong' },
  MFA_REQUIRED: { status: 401, title: 'A one-time code is required' },
  MFA_INVALID: { status: 401, title: 'The one-time code is wrong or already used' },
  TOKEN_INVALID: { status: 401, title: 'The token is invalid, expired or revoked' },
  MFA_ENROLLMENT_REQUIRED: {
    status: 403,
    title: 'This tenant requires two-factor authentication for your role',
  },
  FORBIDDEN: { status: 403, title: 'You are not allowed to do this' },
  HTTPS_REQUIRED: { status: 403, title: 'This server only accepts HTTPS' },
  REQUEST_BLOCKED: { status: 403, title: 'The request was blocked' },
  NOT_FOUND: { status: 404, title: 'No such resource' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such endpoint' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'This endpoint does not support this method' },
  NOT_ACCEPTABLE: { status: 406, title: 'No acceptable representation' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request took too long to arrive' },
  CONFLICT: { status: 409, title: 'The request conflicts with the current state' },
  GONE: { status: 410, title: 'This link or token has expired or was already used' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  URI_TOO_LONG: { status: 414, title: 'The URL is too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'This content type is not supported here' },
  UNPROCESSABLE: { status: 422, title: 'The request was understood but none of it could be processed' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  BACKTEST_LIMIT: { status: 429, title: 'Too many backtests queued or running for this tenant' },
  HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large' },
  INTERNAL: { status: 500, title: 'Internal server error' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'The service is temporarily unavailable' },
  DEPENDENCY_UNAVAILABLE: { status: 503, title: 'A dependency is unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** One failed check in a validation error, located by JSON pointer (RFC 6901) into the request. */
export interface FieldError {
  /** e.g. `/body/readings/3/value`, `/query/limit`, `/headers/content-type`. */
  readonly pointer: string;
  readonly detail: string;
}

/** The error type application code throws; the error handler renders it as problem+json. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extra: {
      readonly errors?: readonly FieldError[];
      readonly headers?: Readonly<Record<string, string>>;
      /** Further members for the problem document (RFC 9457 extensions), e.g. `retryAfter`. */
      readonly fields?: Readonly<Record<string, unknown>>;
      readonly cause?: unknown;
    } = {},
  ) {
    super(detail ?? ERROR_CATALOGUE[code].title, { cause: extra.cause });
    this.name = 'AppError';
    this.status = ERROR_CATALOGUE[code].status;
  }
}
