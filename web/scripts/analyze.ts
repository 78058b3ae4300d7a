/**
 * `npm run build:analyze`: the web UI's bundle sizes from Vite's manifest (dist/web/.vite/manifest.json).
 * Initial = the entry chunk and everything it imports statically (what a first visit downloads
 * before the app runs); lazy = chunks loaded on demand (the sensor page with uPlot). Sizes are
 * raw and gzip (level 9). Fails when the initial JavaScript is over the budget (200 KB gzip).
 * `--json` prints the figures as JSON.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

interface Chunk {
  file: string;
  isEntry?: boolean;
  isDynamicEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
}

const BUDGET_KB = 200;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/web');
let manifest: Record<string, Chunk>;
try {
  manifest = JSON.parse(readFileSync(path.join(root, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    Chunk
  >;
} catch {
  console.error(
    'No build found: run `npm run build` (or `npx vite build --config web/vite.config.ts`) first.',
  );
  process.exit(2);
}

const size = (file: string) => {
  const buf = readFileSync(path.join(root, file));
  return { file, bytes: buf.length, gzip: gzipSync(buf, { level: 9 }).length };
};

const initial = new Set<string>();
const visit = (key: string) => {
  if (initial.has(key)) return;
  initial.add(key);
  for (const k of manifest[key]?.imports ?? []) visit(k);
};
for (const [key, c] of Object.entries(manifest)) if (c.isEntry) visit(key);

const files = (keys: Iterable<string>, pick: (c: Chunk) => string[]) => [
  ...new Set([...keys].flatMap((k) => (manifest[k] ? pick(manifest[k]) : []))),
];
const initialJs = files(initial, (c) => [c.file]).map(size);
const initialCss = files(initial, (c) => c.css ?? []).map(size);
const lazyKeys = Object.keys(manifest).filter((k) => !initial.has(k));
const lazyJs = files(lazyKeys, (c) => (c.file.endsWith('.js') ? [c.file] : [])).map(size);
const lazyCss = files(lazyKeys, (c) => c.css ?? []).map(size);

const sum = (xs: { bytes: number; gzip: number }[]) => ({
  bytes: xs.reduce((n, x) => n + x.bytes, 0),
  gzip: xs.reduce((n, x) => n + x.gzip, 0),
});
const report = {
  budgetKb: BUDGET_KB,
  initial: { js: sum(initialJs), css: sum(initialCss), files: [...initialJs, ...initialCss] },
  lazy: { js: sum(lazyJs), css: sum(lazyCss), files: [...lazyJs, ...lazyCss] },
};
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const withinBudget = report.initial.js.gzip <= BUDGET_KB * 1024;

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ ...report, withinBudget }, null, 2));
} else {
  const row = (f: { file: string; bytes: number; gzip: number }) =>
    `  ${f.file.padEnd(44)} ${kb(f.bytes).padStart(10)} ${kb(f.gzip).padStart(10)}`;
  console.log(`  ${'file'.padEnd(44)} ${'raw'.padStart(10)} ${'gzip'.padStart(10)}`);
  console.log('initial (loaded with the page):');
  for (const f of report.initial.files) console.log(row(f));
  console.log('lazy (loaded when needed):');
  for (const f of report.lazy.files) console.log(row(f));
  console.log(
    `\ninitial JavaScript: ${kb(report.initial.js.gzip)} gzip (${kb(report.initial.js.bytes)} raw); ` +
      `budget ${BUDGET_KB} KB gzip — ${withinBudget ? 'within budget' : 'OVER BUDGET'}`,
  );
  console.log(
    `initial CSS: ${kb(report.initial.css.gzip)} gzip; lazy JavaScript: ${kb(report.lazy.js.gzip)} gzip`,
  );
}
process.exit(withinBudget ? 0 : 1);
