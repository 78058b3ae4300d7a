import { BlockList, isIP } from 'node:net';

/** A set of addresses and CIDR ranges (IPv4 and IPv6; IPv4-mapped IPv6 addresses match their IPv4 form). */
export class IpSet {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) IpSet.add(this.list, entry);
    this.size = entries.length;
  }

  /** Whether `entry` is an address or a CIDR range (`10.0.0.0/8`, `2001:db8::/32`). */
  static valid(entry: string): boolean {
    const [addr = '', prefix] = entry.split('/');
    const family = isIP(addr);
    if (family === 0) return false;
    if (prefix === undefined) return true;
    const n = Number(prefix);
    return /^\d{1,3}$/.test(prefix) && n >= 0 && n <= (family === 4 ? 32 : 128);
  }

  private static add(list: BlockList, entry: string): void {
    const [addr = '', prefix] = entry.split('/');
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(prefix), type);
  }

  has(ip: string): boolean {
    if (this.size === 0) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    const addr = mapped ? mapped[1]! : ip;
    const family = isIP(addr);
    if (family === 0) return false;
    return this.list.check(addr, family === 6 ? 'ipv6' : 'ipv4');
  }
}
