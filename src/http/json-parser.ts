import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { AppError } from './errors/catalogue.js';
import { jsonDepthExceeded } from './request-limits.js';

/**
 * Replaces Fastify's JSON parser so a malformed body is answered with where it broke (offset,
 * line, column), and `__proto__`/`constructor.prototype` keys are refused (prototype poisoning).
 */
export function registerJsonParser(app: FastifyInstance, opts: { maxDepth: number }): void {
  app.removeContentTypeParser('application/json');
  // Fastify matches the pattern against the whole header, parameters (`; charset=utf-8`) included.
  app.addContentTypeParser(
    /^application\/([\w.+-]+\+)?json\s*(;.*)?$/i,
    { parseAs: 'string' },
    (_req, body, done) => {
      const text = body as string;
      if (text.length === 0) {
        done(new AppError('MALFORMED_BODY', 'The body is empty but Content-Type says JSON'), undefined);
        return;
      }
      const tooDeep = jsonDepthExceeded(text, opts.maxDepth);
      if (tooDeep >= 0) {
        done(
          new AppError('MALFORMED_BODY', `JSON nested deeper than ${opts.maxDepth} levels (JSON_MAX_DEPTH)`, {
            fields: { position: tooDeep, limit: opts.maxDepth },
          }),
          undefined,
        );
        return;
      }
      try {
        done(null, sjson.parse(text, { protoAction: 'error', constructorAction: 'error' }));
      } catch (err) {
        done(malformed(text, err as Error), undefined);
      }
    },
  );
}

function malformed(text: string, err: Error): AppError {
  // secure-json-parse reports poisoning as a SyntaxError without a position.
  if (!(err instanceof SyntaxError) || /forbidden (prototype|constructor)/i.test(err.message)) {
    return new AppError(
      'MALFORMED_BODY',
      'The body contains a forbidden key (__proto__ or constructor.prototype)',
    );
  }
  const match = /position (\d+)/.exec(err.message);
  const position = match ? Number(match[1]) : text.length;
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  const reason = err.message.replace(/ in JSON at position \d+.*$/s, '').replace(/^JSON\.parse: /, '');
  return new AppError('MALFORMED_BODY', `Invalid JSON at line ${line}, column ${column}: ${reason}`, {
    fields: { position, line, column },
  });
}
