import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config/config.js';

/** Paths whose values never reach a log line, wherever they appear in a logged object. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'password',
  'token',
  'secret',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.apiKey',
  '*.secret',
  '*.totp',
  '*.authorization',
];

const SECRET_QUERY = /([?&](?:token|access_token|refresh_token|api_key|apikey|key|password|secret)=)[^&#]*/gi;

/** Request URLs may carry tokens in the query string (WebSocket clients, download links). */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[Redacted]');
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
