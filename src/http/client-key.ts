import { isIPv4, isIPv6 } from 'node:net';

/**
 * Whom per-client limits and blocks count against: an IPv4 address (IPv4-mapped IPv6 included) as
 * itself, an IPv6 address by its /64 — one subscriber's usual allocation, so rotating through it
 * does not buy a fresh allowance or escape a block.
 */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
