import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { Config } from '../config/config.js';

type TrustSetting = Config['http']['trustProxy'];
type TrustFn = (addr: string, hop: number) => boolean;

/** Fastify's `trustProxy` option for TRUST_PROXY: a hop count trusts that many hops. */
export function toTrustProxy(value: TrustSetting): boolean | string[] | TrustFn {
  return typeof value === 'number' ? (_addr, hop) => hop < value : value;
}

/**
 * The client's address of a raw request (a WebSocket upgrade, which never reaches Fastify) by the
 * rules of Fastify's `request.ip`: `X-Forwarded-For` is believed only from the proxies TRUST_PROXY
 * names, so a client cannot pick its own address to dodge per-IP limits and blocks.
 */
export function clientAddress(trust: TrustSetting): (req: IncomingMessage) => string {
  if (trust === false) return (req) => req.socket.remoteAddress ?? 'unknown';
  const t = toTrustProxy(trust);
  const fn: TrustFn =
    t === true ? () => true : typeof t === 'function' ? t : proxyAddr.compile(t as string[]);
  return (req) => proxyAddr(req, fn);
}
