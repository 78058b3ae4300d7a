/**
 * The MDN HTTP Observatory's scoring (httpobs/docs/scoring.md, 2024 revision) computed from real
 * responses: start at 100, apply each test's modifier; bonuses count only when the score without
 * them is at least 90. Tests that need the network (HSTS preload list) are left at their neutral
 * result.
 */
export interface ObservedSite {
  /** Headers of the final https response for the page. */
  readonly headers: Record<string, string | string[] | number | undefined>;
  /** Its body when it is HTML (for Subresource Integrity). */
  readonly html?: string;
  /** The answer to the same URL over plain http: status and Location. */
  readonly http: { readonly status: number; readonly location?: string | undefined };
  readonly host: string;
}

export interface Modifier {
  readonly test: string;
  readonly result: string;
  readonly modifier: number;
}

const one = (v: string | string[] | number | undefined) =>
  Array.isArray(v) ? v.join(', ') : String(v ?? '');

function csp(h: ObservedSite['headers']): Modifier {
  const raw = one(h['content-security-policy']);
  if (!raw) return { test: 'csp', result: 'csp-not-implemented', modifier: -25 };
  const d = new Map<string, string[]>();
  for (const part of raw.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) d.set(name.toLowerCase(), values);
  }
  const script = d.get('script-src') ?? d.get('default-src') ?? ['*'];
  const style = d.get('style-src') ?? d.get('default-src') ?? ['*'];
  if (script.includes("'unsafe-inline'"))
    return { test: 'csp', result: 'csp-implemented-with-unsafe-inline', modifier: -20 };
  if (script.some((s) => s === '*' || s === 'http:' || s.startsWith('http://')))
    return { test: 'csp', result: 'csp-implemented-with-insecure-scheme', modifier: -20 };
  if (script.includes("'unsafe-eval'"))
    return { test: 'csp', result: 'csp-implemented-with-unsafe-eval', modifier: -10 };
  if (style.includes("'unsafe-inline'"))
    return { test: 'csp', result: 'csp-implemented-with-unsafe-inline-in-style-src-only', modifier: 0 };
  if ((d.get('default-src') ?? []).join(' ') === "'none'")
    return { test: 'csp', result: 'csp-implemented-with-no-unsafe-default-src-none', modifier: 10 };
  return { test: 'csp', result: 'csp-implemented-with-no-unsafe', modifier: 5 };
}

function cookies(h: ObservedSite['headers'], hsts: boolean): Modifier {
  const raw = h['set-cookie'];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [String(raw)];
  if (list.length === 0) return { test: 'cookies', result: 'cookies-not-found', modifier: 0 };
  let samesite = true;
  for (const c of list) {
    const [pair = '', ...attrs] = c.split(';').map((s) => s.trim().toLowerCase());
    const name = pair.split('=')[0] ?? '';
    // The refresh token cookie (`vigil_rt`) is the session cookie; the CSRF cookie must stay readable.
    const session = /sess|token|auth|refresh|login|_rt$/.test(name);
    const secure = attrs.includes('secure');
    const httpOnly = attrs.includes('httponly');
    if (!attrs.some((a) => a.startsWith('samesite='))) samesite = false;
    if (session && !secure)
      return { test: 'cookies', result: 'cookies-session-without-secure-flag', modifier: hsts ? -10 : -40 };
    if (session && !httpOnly)
      return { test: 'cookies', result: 'cookies-session-without-httponly-flag', modifier: -30 };
    if (!secure) return { test: 'cookies', result: 'cookies-without-secure-flag', modifier: hsts ? -5 : -20 };
  }
  return samesite
    ? { test: 'cookies', result: 'cookies-secure-with-httponly-sessions-and-samesite', modifier: 5 }
    : { test: 'cookies', result: 'cookies-secure-with-httponly-sessions', modifier: 0 };
}

function cors(h: ObservedSite['headers']): Modifier {
  const acao = one(h['access-control-allow-origin']);
  if (acao === '*')
    return {
      test: 'cors',
      result: 'cross-origin-resource-sharing-implemented-with-universal-access',
      modifier: -50,
    };
  return {
    test: 'cors',
    result: acao
      ? 'cross-origin-resource-sharing-implemented-with-restricted-access'
      : 'cross-origin-resource-sharing-not-implemented',
    modifier: 0,
  };
}

function redirection(site: ObservedSite): Modifier {
  const { status, location } = site.http;
  if (status < 300 || status >= 400 || !location)
    return { test: 'redirection', result: 'redirection-missing', modifier: -20 };
  const target = new URL(location, `http://${site.host}`);
  if (target.protocol !== 'https:')
    return { test: 'redirection', result: 'redirection-not-to-https', modifier: -20 };
  if (target.host !== site.host)
    return { test: 'redirection', result: 'redirection-off-host-from-http', modifier: -5 };
  return { test: 'redirection', result: 'redirection-to-https', modifier: 0 };
}

function referrer(h: ObservedSite['headers']): Modifier {
  const policy = one(h['referrer-policy']).split(',').pop()?.trim().toLowerCase() ?? '';
  if (!policy) return { test: 'referrer-policy', result: 'referrer-policy-not-implemented', modifier: 0 };
  if (['no-referrer', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin'].includes(policy))
    return { test: 'referrer-policy', result: 'referrer-policy-private', modifier: 5 };
  if (policy === 'no-referrer-when-downgrade')
    return { test: 'referrer-policy', result: 'referrer-policy-no-referrer-when-downgrade', modifier: 0 };
  return { test: 'referrer-policy', result: 'referrer-policy-unsafe', modifier: -5 };
}

function hsts(h: ObservedSite['headers']): Modifier {
  const m = /max-age=(\d+)/i.exec(one(h['strict-transport-security']));
  if (!m) return { test: 'hsts', result: 'hsts-not-implemented', modifier: -20 };
  return Number(m[1]) >= 15768000
    ? { test: 'hsts', result: 'hsts-implemented-max-age-at-least-six-months', modifier: 0 }
    : { test: 'hsts', result: 'hsts-implemented-max-age-less-than-six-months', modifier: -10 };
}

function sri(site: ObservedSite): Modifier {
  if (!one(site.headers['content-type']).startsWith('text/html') || site.html === undefined)
    return { test: 'sri', result: 'sri-not-implemented-response-not-html', modifier: 0 };
  const scripts = [...site.html.matchAll(/<script\b([^>]*)>/gi)].map((m) => m[1] ?? '');
  const external = scripts.filter((a) => /\bsrc\s*=\s*["']?(https?:)?\/\//i.test(a));
  if (scripts.length === 0)
    return { test: 'sri', result: 'sri-not-implemented-but-no-scripts-loaded', modifier: 0 };
  if (external.length === 0)
    return {
      test: 'sri',
      result: 'sri-not-implemented-but-all-scripts-loaded-from-secure-origin',
      modifier: 0,
    };
  if (external.some((a) => /src\s*=\s*["']?http:/i.test(a)))
    return {
      test: 'sri',
      result: 'sri-not-implemented-and-external-scripts-not-loaded-securely',
      modifier: -50,
    };
  return external.every((a) => /\bintegrity\s*=/.test(a))
    ? { test: 'sri', result: 'sri-implemented-and-external-scripts-loaded-securely', modifier: 5 }
    : { test: 'sri', result: 'sri-not-implemented-but-external-scripts-loaded-securely', modifier: -5 };
}

function xcto(h: ObservedSite['headers']): Modifier {
  return one(h['x-content-type-options']).toLowerCase() === 'nosniff'
    ? { test: 'x-content-type-options', result: 'x-content-type-options-nosniff', modifier: 0 }
    : { test: 'x-content-type-options', result: 'x-content-type-options-not-implemented', modifier: -5 };
}

function xfo(h: ObservedSite['headers']): Modifier {
  if (/frame-ancestors/i.test(one(h['content-security-policy'])))
    return { test: 'x-frame-options', result: 'x-frame-options-implemented-via-csp', modifier: 5 };
  return /^(deny|sameorigin)$/i.test(one(h['x-frame-options']))
    ? { test: 'x-frame-options', result: 'x-frame-options-sameorigin-or-deny', modifier: 0 }
    : { test: 'x-frame-options', result: 'x-frame-options-not-implemented', modifier: -20 };
}

function corp(h: ObservedSite['headers']): Modifier {
  const v = one(h['cross-origin-resource-policy']).toLowerCase();
  if (!v) return { test: 'corp', result: 'corp-not-implemented', modifier: 0 };
  return ['same-site', 'same-origin', 'cross-origin'].includes(v)
    ? { test: 'corp', result: `corp-implemented-with-${v}`, modifier: 0 }
    : { test: 'corp', result: 'corp-header-invalid', modifier: -5 };
}

export function observatoryScore(site: ObservedSite): {
  score: number;
  grade: string;
  modifiers: Modifier[];
} {
  const h = site.headers;
  const hstsResult = hsts(h);
  const modifiers = [
    csp(h),
    cookies(h, hstsResult.modifier === 0),
    cors(h),
    redirection(site),
    referrer(h),
    hstsResult,
    sri(site),
    xcto(h),
    xfo(h),
    corp(h),
  ];
  const penalties = modifiers.reduce((s, m) => s + Math.min(0, m.modifier), 0);
  const bonuses = modifiers.reduce((s, m) => s + Math.max(0, m.modifier), 0);
  const base = 100 + penalties;
  const score = Math.max(0, base >= 90 ? base + bonuses : base);
  const grades: [number, string][] = [
    [100, 'A+'],
    [90, 'A'],
    [85, 'A-'],
    [80, 'B+'],
    [70, 'B'],
    [65, 'B-'],
    [60, 'C+'],
    [50, 'C'],
    [45, 'C-'],
    [40, 'D+'],
    [30, 'D'],
    [25, 'D-'],
    [0, 'F'],
  ];
  return { score, grade: grades.find(([min]) => score >= min)![1], modifiers };
}
