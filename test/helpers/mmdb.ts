import { isIPv4 } from 'node:net';

/**
 * Writes a small MaxMind DB (format 2.0, IPv6 tree, 24-bit records) mapping networks to country
 * codes, so GeoIP tests run on a real database file without downloading one. Only what a
 * `GeoIP2-Country` reader needs: `{country: {iso_code}}` per network.
 */
export function countryDatabase(networks: Record<string, string>): Buffer {
  interface Node {
    children: [Node | number | null, Node | number | null];
  }
  const root: Node = { children: [null, null] };
  const data: Buffer[] = [];
  const dataOffsets = new Map<string, number>();
  let dataLength = 0;
  for (const [cidr, country] of Object.entries(networks)) {
    if (!dataOffsets.has(country)) {
      const encoded = encode({ country: { iso_code: country } });
      dataOffsets.set(country, dataLength);
      data.push(encoded);
      dataLength += encoded.length;
    }
    const [addr = '', prefixText] = cidr.split('/');
    const bits = toBits(addr);
    const prefix = Number(prefixText ?? '128') + (isIPv4(addr) ? 96 : 0);
    let node = root;
    for (let i = 0; i < prefix - 1; i++) {
      const b = bits[i]!;
      let next = node.children[b];
      if (typeof next !== 'object' || next === null) {
        next = { children: [null, null] };
        node.children[b] = next;
      }
      node = next;
    }
    node.children[bits[prefix - 1]!] = -1 - dataOffsets.get(country)!; // data, marked negative
  }
  // Number the nodes breadth first, then write each as two 24-bit records.
  const order: Node[] = [];
  const index = new Map<Node, number>();
  for (let queue = [root]; queue.length > 0; ) {
    const n = queue.shift()!;
    index.set(n, order.length);
    order.push(n);
    for (const c of n.children) if (c && typeof c === 'object') queue.push(c);
  }
  const nodeCount = order.length;
  const tree = Buffer.alloc(nodeCount * 6);
  order.forEach((n, i) => {
    n.children.forEach((c, side) => {
      const value =
        c === null ? nodeCount : typeof c === 'object' ? index.get(c)! : nodeCount + 16 + (-1 - c);
      tree.writeUIntBE(value, i * 6 + side * 3, 3);
    });
  });
  const metadata = encode({
    binary_format_major_version: { uint16: 2 },
    binary_format_minor_version: { uint16: 0 },
    build_epoch: { uint64: BigInt(Math.floor(Date.now() / 1000)) },
    database_type: 'GeoIP2-Country',
    description: { en: 'Vigil test database' },
    ip_version: { uint16: 6 },
    languages: ['en'],
    node_count: { uint32: nodeCount },
    record_size: { uint16: 24 },
  });
  return Buffer.concat([
    tree,
    Buffer.alloc(16),
    ...data,
    Buffer.from([0xab, 0xcd, 0xef]),
    Buffer.from('MaxMind.com'),
    metadata,
  ]);
}

function toBits(addr: string): number[] {
  const bytes: number[] = [];
  if (isIPv4(addr)) {
    bytes.push(...new Array(12).fill(0), ...addr.split('.').map(Number));
  } else {
    const [head = '', tail = ''] = addr.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
    for (const g of groups) {
      const v = Number.parseInt(g, 16);
      bytes.push(v >> 8, v & 0xff);
    }
  }
  return bytes.flatMap((b) => Array.from({ length: 8 }, (_, i) => (b >> (7 - i)) & 1));
}

type Value =
  | string
  | Value[]
  | { uint16: number }
  | { uint32: number }
  | { uint64: bigint }
  | { [key: string]: Value };

/** The MaxMind DB data-section encoding of a value (strings, maps, arrays, unsigned integers). */
function encode(v: Value): Buffer {
  const control = (type: number, size: number): Buffer => {
    const sizeBytes =
      size < 29 ? [] : size < 285 ? [size - 29] : [((size - 285) >> 8) & 0xff, (size - 285) & 0xff];
    const sizeBits = size < 29 ? size : size < 285 ? 29 : 30;
    return type <= 7
      ? Buffer.from([(type << 5) | sizeBits, ...sizeBytes])
      : Buffer.from([sizeBits, type - 7, ...sizeBytes]);
  };
  const uint = (type: number, n: bigint): Buffer => {
    const bytes: number[] = [];
    for (let x = n; x > 0n; x >>= 8n) bytes.unshift(Number(x & 0xffn));
    return Buffer.concat([control(type, bytes.length), Buffer.from(bytes)]);
  };
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    return Buffer.concat([control(2, s.length), s]);
  }
  if (Array.isArray(v)) return Buffer.concat([control(11, v.length), ...v.map(encode)]);
  if ('uint16' in v && typeof v.uint16 === 'number') return uint(5, BigInt(v.uint16));
  if ('uint32' in v && typeof v.uint32 === 'number') return uint(6, BigInt(v.uint32));
  if ('uint64' in v && typeof v.uint64 === 'bigint') return uint(9, v.uint64);
  const entries = Object.entries(v as Record<string, Value>);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, x]) => [encode(k), encode(x)])]);
}
