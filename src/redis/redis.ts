import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * A Redis client that fails fast instead of queueing while Redis is down, so callers can fall
 * back to in-process behaviour (and /readyz reports it) rather than hang. It keeps reconnecting
 * in the background with capped backoff.
 */
export function createRedis(url: string, logger: Logger): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 5000),
  });
  let lastLogged = 0;
  client.on('error', (err: Error) => {
    // Reconnect attempts fail every few seconds during an outage: log at most once a minute.
    const now = Date.now();
    if (now - lastLogged > 60_000) {
      lastLogged = now;
      logger.warn({ err: err.message }, 'redis unavailable; falling back where possible');
    }
  });
  client.connect().catch(() => {
    // Reported through the 'error' event; retryStrategy keeps trying.
  });
  return client;
}
