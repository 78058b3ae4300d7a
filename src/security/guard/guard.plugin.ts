import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { clientKey } from '../../http/client-key.js';
import { AppError } from '../../http/errors/catalogue.js';
import { redactUrl } from '../../http/logger.js';
import type { IpBlock } from './block-store.js';
import { type Inspected, ThreatGuard, type Verdict } from './threat-guard.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false`: the guard does not read this route's body (bulk readings: numbers and registered keys). */
    guardBody?: boolean;
  }
}

/** Headers that carry credentials or fixed protocol values: not free text an attacker shapes usefully. */
const SKIPPED_HEADERS = new Set([
  'authorization',
  'cookie',
  'host',
  'connection',
  'content-length',
  'content-type',
  'content-encoding',
  'accept',
  'accept-encoding',
  'accept-language',
  'idempotency-key',
  'x-request-id',
  'x-csrf-token',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-real-ip',
  'sec-fetch-site',
  'sec-fetch-mode',
  'sec-fetch-dest',
  'sec-ch-ua',
  'sec-ch-ua-mobile',
  'sec-ch-ua-platform',
  'cache-control',
  'pragma',
  'upgrade-insecure-requests',
  'if-none-match',
  'if-modified-since',
]);

function queryValues(query: unknown): string[] {
  if (!query || typeof query !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    out.push(k);
    for (const x of [v].flat()) if (typeof x === 'string') out.push(x);
  }
  return out;
}

/**
 * The threat guard in the request pipeline, before authentication: blocked and denied IPs are
 * refused first (cheap), then path, query and headers are scored; after parsing, JSON bodies too.
 * Health probes and allow-listed IPs are never scored. Afterwards each response's status feeds
 * the IP's behaviour (404 bursts, rate-limit hits, failed logins).
 */
export const guardPlugin = fp(
  async (
    app: FastifyInstance,
    opts: { guard: ThreatGuard; onBlock?: (block: IpBlock, request: FastifyRequest) => Promise<void> },
  ) => {
    const { guard } = opts;
    const seen = new WeakMap<FastifyRequest, Inspected | 'allowed'>();
    const flagged = new WeakMap<FastifyRequest, Verdict>();

    const refuse = (request: FastifyRequest, verdict: Verdict): never => {
      const ip = request.ip;
      guard.stats.blockedAttack++;
      guard.record(ip, 'flagged');
      void guard.blocks
        .block(clientKey(ip), verdict.findings[0]?.rule ?? 'behaviour', Date.now())
        .then(async (b) => {
          guard.stats.ipBlocks++;
          request.log.warn(
            { ip, until: new Date(b.until).toISOString(), offense: b.offense },
            'guard: IP blocked',
          );
          await opts.onBlock?.(b, request);
        })
        .catch((err: Error) => request.log.warn({ err: err.message }, 'guard: block not recorded'));
      event(request, 'blocked', verdict);
      throw new AppError(
        'REQUEST_BLOCKED',
        'This request looks like an attack and was refused; quote the requestId if it was not one',
      );
    };
    const event = (
      request: FastifyRequest,
      kind: string,
      verdict: { score: number; findings: Inspected['findings'] },
    ) =>
      guard.event({
        tenant_id: request.principal?.tenantId ?? null,
        kind,
        ip: request.ip,
        score: Math.round(verdict.score * 1000) / 1000,
        categories: verdict.findings.map((f) => f.category).join(','),
        rule: verdict.findings.map((f) => f.rule).join(',') || null,
        method: request.method,
        path: redactUrl(request.url).slice(0, 512),
        user_agent: (request.headers['user-agent'] ?? '').slice(0, 256) || null,
        request_id: request.id,
        created_at: Date.now(),
      });
    const judge = (request: FastifyRequest, inspected: Inspected) => {
      const verdict = guard.decide(request.ip, inspected);
      if (verdict.action === 'block') refuse(request, verdict);
      if (verdict.action === 'flag') {
        guard.stats.flagged++;
        guard.record(request.ip, 'flagged');
        // Recorded when the response goes out: by then authentication has named the tenant.
        flagged.set(request, verdict);
      }
    };

    const check = (request: FastifyRequest, standing: Awaited<ReturnType<ThreatGuard['standing']>>): void => {
      if (standing === 'allowed') {
        seen.set(request, 'allowed');
        return;
      }
      if (standing === 'denied') {
        guard.stats.blockedDenied++;
        event(request, 'denied', { score: 1, findings: [] });
        throw new AppError('REQUEST_BLOCKED', 'Requests from this address are not accepted');
      }
      if (standing) {
        guard.stats.blockedIp++;
        const retryAfter = Math.max(1, Math.ceil((standing.until - Date.now()) / 1000));
        throw new AppError(
          'REQUEST_BLOCKED',
          `This address is blocked for ${retryAfter} s after suspicious requests`,
          { headers: { 'retry-after': String(retryAfter) } },
        );
      }
      const path = request.url.split('?')[0] ?? '';
      const values = queryValues(request.query);
      values.push(path);
      for (const name in request.headers) {
        if (SKIPPED_HEADERS.has(name) || name === 'user-agent') continue;
        const value = request.headers[name];
        if (typeof value === 'string') values.push(value);
        else if (Array.isArray(value)) values.push(...value);
      }
      const inspected = guard.inspectRequest(values, path, request.headers['user-agent'] ?? '');
      seen.set(request, inspected);
      if (inspected.score > 0) judge(request, inspected);
    };

    // Callback-style hooks: most requests need no promise here (rules and blocks are in memory).
    app.addHook('onRequest', (request, _reply, done) => {
      if (request.routeOptions.config?.rateLimit === false) return done();
      const answer = guard.standing(request.ip);
      if (answer instanceof Promise) {
        answer.then(
          (standing) => {
            try {
              check(request, standing);
              done();
            } catch (err) {
              done(err as Error);
            }
          },
          (err: Error) => done(err),
        );
        return;
      }
      try {
        check(request, answer);
      } catch (err) {
        return done(err as Error);
      }
      done();
    });

    app.addHook('preValidation', (request, _reply, done) => {
      const before = seen.get(request);
      if (
        before === 'allowed' ||
        before === undefined ||
        // No route (a 404): nothing will read the body, so the guard does not either.
        request.routeOptions.url === undefined ||
        request.routeOptions.config?.guardBody === false ||
        !request.body ||
        typeof request.body !== 'object'
      )
        return done();
      const body = guard.inspectValues(ThreatGuard.bodyStrings(request.body));
      if (body.score <= before.score) return done();
      try {
        judge(request, guard.inspectValues([], [...before.findings, ...body.findings]));
      } catch (err) {
        return done(err as Error);
      }
      done();
    });

    app.addHook('onResponse', (request, reply, done) => {
      const verdict = flagged.get(request);
      if (verdict) event(request, 'flagged', verdict);
      const status = reply.statusCode;
      if (status < 400 || seen.get(request) === 'allowed') return done();
      if (status === 404) guard.record(request.ip, 'not-found');
      else if (status === 429) guard.record(request.ip, 'rate-limited');
      else if (status === 401 && request.routeOptions.url === '/api/v1/auth/login')
        guard.record(request.ip, 'failed-login');
      done();
    });
  },
  { name: 'vigil-guard' },
);
