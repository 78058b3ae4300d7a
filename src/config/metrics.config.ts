import type { EnvReader } from './env-reader.js';

/** Where and how `/metrics` (Prometheus text format) is served. */
export interface MetricsConfig {
  /**
   * On the main HTTP server: `token` (Bearer METRICS_TOKEN required), `open` (no credential:
   * development and test only, when neither METRICS_TOKEN nor METRICS_ADDRESS is set) or `off`.
   */
  readonly main: 'token' | 'open' | 'off';
  readonly token: string | undefined;
  /** A separate plain-HTTP listener serving only `/metrics`, without a token (a private network). */
  readonly address: { readonly host: string; readonly port: number } | undefined;
}

/** A bearer token a scraper can send: long enough not to be guessed, visible ASCII only. */
const TOKEN = /^[\x21-\x7e]{24,512}$/;

export function readMetrics(
  r: EnvReader,
  opts: { production: boolean; httpPort: number; notices: string[] },
): MetricsConfig {
  const token = r.string('METRICS_TOKEN');
  if (token !== undefined && !TOKEN.test(token))
    r.problem('METRICS_TOKEN', 'must be 24–512 visible ASCII characters (try `vigil secret generate`)');
  const address = readAddress(r, opts.httpPort);
  const main = token !== undefined ? 'token' : address || opts.production ? 'off' : 'open';
  if (main === 'off' && !address)
    opts.notices.push(
      '/metrics is not served: set METRICS_TOKEN (scrape the main port with a bearer token) or METRICS_ADDRESS (a private listener)',
    );
  return { main, token, address };
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces); port 0 picks a free one. */
function readAddress(r: EnvReader, httpPort: number): MetricsConfig['address'] {
  const raw = r.string('METRICS_ADDRESS');
  if (raw === undefined) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(raw);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) {
    r.problem('METRICS_ADDRESS', `must be host:port (e.g. 10.0.0.5:9464 or :9464), got "${raw}"`);
    return undefined;
  }
  if (port !== 0 && port === httpPort)
    r.problem('METRICS_ADDRESS', `port ${port} is the main HTTP port (PORT); use another one`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
