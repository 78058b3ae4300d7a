/**
 * Undoes the encodings attackers use to slip past pattern matching: percent-encoding (repeated,
 * `%uXXXX` too), HTML character references, backslash escapes of quotes, control characters and
 * SQL comments between keywords. Returns the lower-cased result.
 */
export function normalize(input: string): string {
  let s = bounded(input);
  for (let i = 0; i < 3; i++) {
    const decoded = percentDecode(s);
    if (decoded === s) break;
    s = decoded;
  }
  s = decodeEntities(s);
  // Escape sequences typed as text (`\n`, `\x0a`, `\u003c`) reach shells and templates decoded.
  s = s
    .replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    .replace(/\\u([0-9a-f]{4})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    .replace(/\\[nr]/g, '\n');
  // Long runs of one character or a short pattern add nothing an attack needs, and make some
  // rules restart at every position (quadratic time): keep a few repetitions.
  s = s
    .replace(/(.)\1{15,}/gs, (_, c: string) => c.repeat(16))
    .replace(/(.{2,4}?)\1{7,}/gs, (_, p: string) => p.repeat(8));
  return s.toLowerCase();
}

/** At most the first and last 2 KB of a long value: an attack hidden behind filler is still seen. */
export function bounded(input: string): string {
  return input.length > 4096 ? `${input.slice(0, 2048)} ${input.slice(-2048)}` : input;
}

function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  return s
    .replace(/%u([0-9a-f]{4})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    .replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    .replace(/\+/g, ' ');
}

const NAMED: Record<string, string> = {
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  amp: '&',
  colon: ':',
  tab: '\t',
  newline: '\n',
  lpar: '(',
  rpar: ')',
  sol: '/',
  bsol: '\\',
  semi: ';',
  comma: ',',
  period: '.',
  equals: '=',
  grave: '`',
};

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s
    .replace(/&#x0*([0-9a-f]{1,6});?/gi, (_, h: string) => codePoint(Number.parseInt(h, 16)))
    .replace(/&#0*([0-9]{1,7});?/g, (_, d: string) => codePoint(Number(d)))
    .replace(/&([a-z]{2,8});/gi, (m, name: string) => NAMED[name.toLowerCase()] ?? m);
}

function codePoint(n: number): string {
  return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '';
}

/** The same text with SQL comments and the whitespace tricks around keywords reduced to one space. */
export function squeezeSql(s: string): string {
  return s.replace(/\/\*.*?\*\//g, ' ').replace(/[\s\u00a0]+/g, ' ');
}
