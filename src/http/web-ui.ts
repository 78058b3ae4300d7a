import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, gzip, constants as zlib } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from './errors/catalogue.js';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** Hashed build output: the name changes with the content, so it may be cached for good. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Files at the root of the build (icons, manifest): not hashed, so kept briefly. */
const SHORT = 'public, max-age=3600';

/** Paths that belong to the server: never answered with the UI, whatever the Accept header says. */
const SERVER_PATHS = ['/api', '/metrics', '/docs', '/openapi.json', '/healthz', '/readyz', '/write', '/ping'];

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.svg', '.json', '.webmanifest', '.txt']);

interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
  readonly cacheControl: string;
  readonly compressible: boolean;
  gzip?: Promise<Buffer>;
  br?: Promise<Buffer>;
}

/**
 * Where the built UI is: `dist/web` beside the compiled server (`dist/http/web-ui.js`), or, when
 * running from source (tests, `npm run dev`), `dist/web` at the repository root.
 */
export function findWebRoot(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../web'), path.resolve(here, '../../dist/web')];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
}

/** Whether a GET for this path may be answered with the UI's index.html (a client-side route). */
export function isClientRoute(url: string): boolean {
  const pathname = url.split('?')[0] ?? '/';
  if (SERVER_PATHS.some((p) => pathname === p || pathname.startsWith(`${p}/`))) return false;
  if (pathname.startsWith('/assets/')) return false;
  // A missing file (anything with an extension, or a dot-file) is a 404, not the app.
  const last = pathname.slice(pathname.lastIndexOf('/') + 1);
  return !last.includes('.');
}

function load(file: string, cacheControl: string): StaticFile {
  const ext = path.extname(file).toLowerCase();
  return {
    body: readFileSync(file),
    type: TYPES[ext] ?? 'application/octet-stream',
    cacheControl,
    compressible: COMPRESSIBLE.has(ext),
  };
}

/** The best encoding the client accepts that is worth it, compressed once and kept. */
async function encoded(request: FastifyRequest, reply: FastifyReply, f: StaticFile): Promise<Buffer> {
  if (!f.compressible || f.body.length < 1024) return f.body;
  reply.header('vary', 'accept-encoding');
  const accept = String(request.headers['accept-encoding'] ?? '');
  if (/\bbr\b/.test(accept)) {
    f.br ??= brotliAsync(f.body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 9 } });
    reply.header('content-encoding', 'br');
    return f.br;
  }
  if (/\bgzip\b/.test(accept)) {
    f.gzip ??= gzipAsync(f.body, { level: 9 });
    reply.header('content-encoding', 'gzip');
    return f.gzip;
  }
  return f.body;
}

async function send(request: FastifyRequest, reply: FastifyReply, f: StaticFile): Promise<FastifyReply> {
  const body = await encoded(request, reply, f);
  reply.code(200).type(f.type).header('cache-control', f.cacheControl);
  return reply.send(request.method === 'HEAD' ? null : body);
}

/**
 * The control-room web UI (web/, built by Vite into dist/web): hashed assets under /assets with a
 * year's immutable cache, the few root files (icon) with a short one, and index.html with no-store
 * for `/` and every client-side route — a GET or HEAD that no route answers, asks for HTML and is
 * not one of the server's own paths. It gets the UI's strict CSP from the security headers (HTML).
 * Without a build (a fresh checkout before `npm run build`) nothing is served and a warning logged.
 */
export const webUiPlugin = fp(
  async (app: FastifyInstance, opts: { root?: string | undefined }) => {
    const root = opts.root ?? findWebRoot();
    if (!root || !existsSync(path.join(root, 'index.html'))) {
      app.log.warn('web UI not built (run `npm run build`); serving the API only');
      return;
    }
    const index = load(path.join(root, 'index.html'), 'no-store');
    const assets = new Map<string, StaticFile>();
    const assetDir = path.join(root, 'assets');
    if (existsSync(assetDir)) {
      for (const name of readdirSync(assetDir)) {
        if (statSync(path.join(assetDir, name)).isFile())
          assets.set(name, load(path.join(assetDir, name), IMMUTABLE));
      }
    }
    const route = { config: { rateLimit: 'default' as const }, schema: { hide: true } };

    app.get('/assets/*', route, async (request, reply) => {
      const name = (request.params as { '*': string })['*'];
      const file = assets.get(name);
      if (!file) throw new AppError('NOT_FOUND', `No file ${request.url.split('?')[0]}`);
      return send(request, reply, file);
    });
    // Files at the build's root (public/): favicon and the like, each its own route.
    for (const name of readdirSync(root)) {
      if (name === 'index.html' || name.startsWith('.') || !statSync(path.join(root, name)).isFile())
        continue;
      const file = load(path.join(root, name), SHORT);
      app.get(`/${name}`, route, async (request, reply) => send(request, reply, file));
    }

    // `/` and client-side routes: whatever reaches the not-found handler and is a page navigation.
    app.addHook('onRequest', async (request, reply) => {
      if (!request.is404 || (request.method !== 'GET' && request.method !== 'HEAD')) return;
      const home = request.url === '/' || request.url.startsWith('/?');
      if (!home && !String(request.headers.accept ?? '').includes('text/html')) return;
      if (!isClientRoute(request.url)) return;
      await send(request, reply, index);
      return reply;
    });
  },
  { name: 'vigil-web-ui' },
);
