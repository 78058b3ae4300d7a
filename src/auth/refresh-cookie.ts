import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../http/errors/catalogue.js';
import { constantTimeEqual, randomToken } from '../security/crypto.js';

/**
 * Browser sessions keep the refresh token where scripts cannot read it: an HttpOnly, Secure,
 * SameSite=Strict cookie sent only to the auth endpoints. Refreshing with the cookie also needs
 * the CSRF token (double submit: a readable cookie echoed in `X-CSRF-Token`), so another site
 * cannot make the browser refresh or log out on its behalf. API clients keep using JSON bodies.
 */
export const REFRESH_COOKIE = 'vigil_rt';
export const CSRF_COOKIE = 'vigil_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const AUTH_PATH = '/api/v1/auth';

export function setSessionCookies(reply: FastifyReply, refreshToken: string, maxAgeS: number): string {
  const csrf = randomToken(24);
  reply.setCookie(REFRESH_COOKIE, refreshToken, {
    path: AUTH_PATH,
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    maxAge: maxAgeS,
  });
  reply.setCookie(CSRF_COOKIE, csrf, {
    path: '/',
    httpOnly: false,
    secure: true,
    sameSite: 'strict',
    maxAge: maxAgeS,
  });
  return csrf;
}

export function clearSessionCookies(reply: FastifyReply): void {
  reply.clearCookie(REFRESH_COOKIE, { path: AUTH_PATH, httpOnly: true, secure: true, sameSite: 'strict' });
  reply.clearCookie(CSRF_COOKIE, { path: '/', secure: true, sameSite: 'strict' });
}

/** The refresh token from the cookie, after checking the CSRF double submit; undefined if there is no cookie. */
export function refreshTokenFromCookie(request: FastifyRequest): string | undefined {
  const token = request.cookies[REFRESH_COOKIE];
  if (!token) return undefined;
  const cookie = request.cookies[CSRF_COOKIE];
  const header = request.headers[CSRF_HEADER];
  if (!cookie || typeof header !== 'string' || !constantTimeEqual(cookie, header)) {
    throw new AppError(
      'FORBIDDEN',
      `Cookie sessions must send the ${CSRF_COOKIE} cookie's value in X-CSRF-Token`,
    );
  }
  return token;
}
