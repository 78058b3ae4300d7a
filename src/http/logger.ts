import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config/config.js';

// Keys whose values never reach a log line, at the top level and up to three objects deep
// (pino's redaction has no recursive wildcard, so the depths are spelled out).
const SECRET_KEYS = [
  'password',
  'currentPassword',
  'newPassword',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'secret',
  'totp',
  'authorization',
  'cookie',
  '"set-cookie"',
  '"x-api-key"',
  '"proxy-authorization"',
];

export const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

const SECRET_QUERY_KEYS = new Set([
  'token',
  'access_token',
  'refresh_token',
  'api_key',
  'apikey',
  'key',
  'password',
  'secret',
  'p',
]);

/**
 * Request URLs may carry tokens in the query string (WebSocket clients, download links, InfluxDB
 * v1 clients' `p`). Names are compared after decoding, as the query parser sees them, so `%70=`
 * is redacted like `p=`.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const fragment = hash < 0 ? '' : url.slice(hash);
  const parts = url.slice(q + 1, hash < 0 ? undefined : hash).split('&');
  let changed = false;
  const out = parts.map((part) => {
    const eq = part.indexOf('=');
    if (eq < 0) return part;
    let name: string;
    try {
      name = decodeURIComponent(part.slice(0, eq).replace(/\+/g, ' '));
    } catch {
      name = part.slice(0, eq);
    }
    if (!SECRET_QUERY_KEYS.has(name.toLowerCase())) return part;
    changed = true;
    return `${part.slice(0, eq)}=[Redacted]`;
  });
  return changed ? `${url.slice(0, q)}?${out.join('&')}${fragment}` : url;
}

export function loggerOptions(config: Pick<Config, 'log' | 'instanceId'>): LoggerOptions {
  return {
    level: config.log.level,
    base: { instance: config.instanceId },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    serializers: {
      req: (req: { method: string; url: string; ip?: string; headers?: Record<string, unknown> }) => ({
        method: req.method,
        url: redactUrl(req.url),
        ip: req.ip,
        userAgent: req.headers?.['user-agent'],
      }),
    },
  };
}

/**
 * The process logger: JSON to stdout and, with LOG_FILE, also to a file rotated by size and
 * time (pino-roll, in a worker thread so file I/O never blocks requests). Tests pass `destination`.
 */
export function createLogger(
  config: Pick<Config, 'log' | 'instanceId'>,
  destination?: DestinationStream,
): Logger {
  const options = loggerOptions(config);
  if (destination) return pino(options, destination);
  if (!config.log.file) return pino(options, pino.destination({ dest: 1, sync: false }));
  const frequency = /^\d+$/.test(config.log.fileFrequency)
    ? Number(config.log.fileFrequency)
    : config.log.fileFrequency;
  const transport = pino.transport({
    targets: [
      { target: 'pino/file', level: config.log.level, options: { destination: 1 } },
      {
        target: 'pino-roll',
        level: config.log.level,
        options: {
          file: config.log.file,
          size: config.log.fileSize,
          frequency,
          mkdir: true,
          limit: { count: config.log.fileKeep },
        },
      },
    ],
  });
  return pino(options, transport);
}
