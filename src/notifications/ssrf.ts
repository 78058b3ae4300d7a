import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { IpSet } from '../security/guard/ip-rules.js';

/** Addresses a webhook must not reach unless allow-listed: private, loopback, link-local, and the like. */
const NON_PUBLIC = new IpSet([
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
]);

export class TargetRefused extends Error {}

/**
 * Refuses a webhook URL that is not http(s), carries credentials, or resolves to any non-public
 * address outside `allowed`. Checked when a channel is created and again before every delivery
 * (a name can be re-pointed at an internal address later).
 */
export async function assertPublicTarget(raw: string, allowed: IpSet): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefused('not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TargetRefused('only http and https URLs');
  if (url.username || url.password)
    throw new TargetRefused('no credentials in the URL (use the signing secret)');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [host]
    : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
  if (addresses.length === 0) throw new TargetRefused(`"${host}" does not resolve`);
  for (const a of addresses) {
    if (NON_PUBLIC.has(a) && !allowed.has(a)) {
      throw new TargetRefused(`"${host}" resolves to ${a}, a private, loopback or link-local address`);
    }
  }
  return url;
}
