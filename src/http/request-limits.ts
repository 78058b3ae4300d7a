import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, type ErrorCode } from './errors/catalogue.js';
import { buildProblem, PROBLEM_CONTENT_TYPE } from './errors/problem.js';

/**
 * Errors Node's HTTP parser raises before Fastify has a request (headers too large, a request that
 * did not arrive in time, garbage on the wire), answered as problem+json on the raw socket like
 * every other error, then the connection is closed.
 */
export function clientErrorHandler(
  err: NodeJS.ErrnoException & { bytesParsed?: number },
  socket: Socket,
): void {
  const code: ErrorCode =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 'HEADERS_TOO_LARGE'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'REQUEST_TIMEOUT'
        : 'BAD_REQUEST';
  const detail =
    code === 'HEADERS_TOO_LARGE'
      ? 'The request line and headers exceed the server limit (MAX_HEADER_BYTES)'
      : code === 'REQUEST_TIMEOUT'
        ? 'The request did not arrive completely in time (REQUEST_TIMEOUT_MS)'
        : 'The request could not be parsed as HTTP';
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const problem = buildProblem({ code, detail, requestId: randomUUID() });
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * How deep a JSON text nests (objects and arrays), scanning the text without parsing it, so a
 * body of a million `[` is refused before the parser walks it. Returns the offset where `limit`
 * was passed, or -1.
 */
export function jsonDepthExceeded(text: string, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limit) return i;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return -1;
}

export interface SheddingLimits {
  /** Event-loop delay (p99 over the last second, ms) beyond which requests are shed; 0: off. */
  readonly maxEventLoopDelayMs: number;
  /** Heap in use (bytes) beyond which requests are shed; 0: off. */
  readonly maxHeapUsedBytes: number;
  /** Requests in progress beyond which new ones are shed; 0: off. */
  readonly maxInFlight: number;
}

/** What the process is carrying now; `eventLoopDelayMs` comes from a sampler refreshed each second. */
export interface Pressure {
  eventLoopDelayMs(): number;
  heapUsedBytes(): number;
}

/**
 * Load shedding: past any configured bound, new requests get 503 with Retry-After before the
 * process falls over — health probes excepted, so orchestrators still see it alive and learn it
 * is overloaded from /readyz rather than killing it.
 */
export const loadSheddingPlugin = fp(
  async (app: FastifyInstance, opts: { limits: SheddingLimits; pressure: Pressure; maxUrlBytes: number }) => {
    let inFlight = 0;
    const counted = new WeakSet<FastifyRequest>();
    const { limits, pressure } = opts;
    app.addHook('onRequest', async (request) => {
      if (request.url.length > opts.maxUrlBytes) {
        throw new AppError(
          'URI_TOO_LONG',
          `The URL is longer than ${opts.maxUrlBytes} bytes (MAX_URL_BYTES)`,
          {
            fields: { limit: opts.maxUrlBytes },
          },
        );
      }
      if (request.routeOptions.config?.rateLimit === false) return;
      const reason =
        limits.maxInFlight > 0 && inFlight >= limits.maxInFlight
          ? 'requests in progress'
          : limits.maxHeapUsedBytes > 0 && pressure.heapUsedBytes() > limits.maxHeapUsedBytes
            ? 'memory'
            : limits.maxEventLoopDelayMs > 0 && pressure.eventLoopDelayMs() > limits.maxEventLoopDelayMs
              ? 'event-loop delay'
              : null;
      if (reason) {
        throw new AppError('SERVICE_UNAVAILABLE', `Overloaded (${reason}); retry shortly`, {
          fields: { overload: reason },
          headers: { 'retry-after': '2' },
        });
      }
      inFlight++;
      counted.add(request);
    });
    // Counted out once, when the response is sent or the client goes away first.
    const release = async (request: FastifyRequest) => {
      if (counted.delete(request)) inFlight--;
    };
    app.addHook('onResponse', release);
    app.addHook('onRequestAbort', release);
  },
  { name: 'vigil-load-shedding' },
);
