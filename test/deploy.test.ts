import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DASHBOARDS } from '../scripts/grafana-dashboards.js';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { tempDir } from './helpers/env.js';
import { type Exposition, parseExposition, promtool } from './helpers/metrics.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const DEPLOY = path.join(ROOT, 'deploy');
const read = (file: string) => readFileSync(path.join(DEPLOY, file), 'utf8');
const METRIC = /\b(?:vigil|nodejs|process)_[a-zA-Z0-9_]+/g;

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { query: { query: string } }[] };
}

const dashboardFiles = readdirSync(path.join(DEPLOY, 'grafana/dashboards')).filter((f) =>
  f.endsWith('.json'),
);
const dashboards = new Map(
  dashboardFiles.map((f) => [f, JSON.parse(read(`grafana/dashboards/${f}`)) as Dashboard] as const),
);
const allPanels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

/** Every PromQL expression of the alert rules and dashboards, with where it comes from. */
function expressions(): { where: string; expr: string }[] {
  const rules = parse(read('prometheus/alerts.yml')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  const out = rules.groups.flatMap((g) =>
    g.rules.map((r) => ({ where: `alerts.yml ${r.alert}`, expr: r.expr })),
  );
  for (const [file, d] of dashboards) {
    for (const p of allPanels(d))
      for (const t of p.targets ?? []) out.push({ where: `${file} "${p.title}"`, expr: t.expr });
    for (const v of d.templating.list) out.push({ where: `${file} variables`, expr: v.query.query });
  }
  return out;
}

describe('deploy/prometheus', () => {
  it('prometheus.yml passes `promtool check config` (with its rule file)', () => {
    // promtool checks that the token file exists: give it a placeholder beside a copy.
    const dir = tempDir('vigil-prom-');
    for (const f of ['prometheus.yml', 'alerts.yml'])
      copyFileSync(path.join(DEPLOY, 'prometheus', f), path.join(dir, f));
    mkdirSync(path.join(dir, 'secrets'));
    writeFileSync(path.join(dir, 'secrets/metrics-token'), 'placeholder-token-for-promtool\n');
    const r = promtool(['check', 'config', path.join(dir, 'prometheus.yml')]);
    expect(r.output).toContain('SUCCESS');
    expect(r.output).not.toMatch(/FAILED|WARNING/);
    expect(r.status, r.output).toBe(0);
    const config = parse(read('prometheus/prometheus.yml'));
    const vigil = config.scrape_configs.find((s: { job_name: string }) => s.job_name === 'vigil');
    expect(vigil.authorization).toEqual({ type: 'Bearer', credentials_file: 'secrets/metrics-token' });
    expect(vigil.metrics_path).toBe('/metrics');
  });

  it('alerts.yml passes `promtool check rules` and its unit tests', () => {
    const check = promtool(['check', 'rules', path.join(DEPLOY, 'prometheus/alerts.yml')]);
    expect(check.status, check.output).toBe(0);
    expect(check.output).toMatch(/SUCCESS: \d+ rules found/);
    const test = promtool(['test', 'rules', path.join(DEPLOY, 'prometheus/alerts.test.yml')]);
    expect(test.status, test.output).toBe(0);
  });

  it('has the alerts the issue asks for', () => {
    const rules = parse(read('prometheus/alerts.yml')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const byName = new Map(rules.groups.flatMap((g) => g.rules.map((r) => [r.alert, r.expr] as const)));
    const expected: Record<string, RegExp> = {
      VigilDown: /\bup\{job="vigil"\}/,
      VigilIngestErrors: /vigil_ingest_readings_rejected_total/,
      VigilIngestRejectionsHigh: /vigil_ingest_readings_rejected_total/,
      VigilEventLoopLag: /nodejs_eventloop_lag_p99_seconds/,
      VigilDatabaseErrors: /vigil_db_query_duration_seconds_count\{[^}]*outcome="error"/,
      VigilSlowQueries: /vigil_db_query_duration_seconds_bucket/,
      VigilNotificationFailures: /vigil_notifications_failed_total/,
      VigilDiskFilling: /vigil_data_dir_free_bytes/,
    };
    for (const [name, pattern] of Object.entries(expected)) expect(byName.get(name), name).toMatch(pattern);
  });
});

describe('deploy/grafana', () => {
  it('has the four dashboards, as defined in scripts/grafana-dashboards.ts (npm run deploy:dashboards)', () => {
    expect(dashboardFiles.sort()).toEqual([
      'detection-alarms.json',
      'ingest.json',
      'overview.json',
      'security.json',
    ]);
    for (const [file, d] of dashboards) expect(d, file).toEqual(DASHBOARDS[file.replace(/\.json$/, '')]);
  });

  it('dashboards have unique uids, unique panel ids, and query the provisioned data source', () => {
    const datasources = parse(read('grafana/provisioning/datasources/prometheus.yml'));
    const uid = datasources.datasources[0].uid;
    expect(new Set([...dashboards.values()].map((d) => d.uid)).size).toBe(dashboards.size);
    for (const [file, d] of dashboards) {
      const ids = allPanels(d).map((p) => p.id);
      expect(new Set(ids).size, file).toBe(ids.length);
      const data = allPanels(d).filter((p) => p.type !== 'row');
      expect(data.length, file).toBeGreaterThan(5);
      for (const p of data) {
        expect(p.datasource?.uid, `${file} ${p.title}`).toBe(uid);
        expect(p.targets?.length, `${file} ${p.title}`).toBeGreaterThan(0);
      }
    }
  });

  it('provisioning points Grafana at the dashboards the compose file mounts', () => {
    const providers = parse(read('grafana/provisioning/dashboards/vigil.yml'));
    const compose = parse(read('docker-compose.yml'));
    const mount = (compose.services.grafana.volumes as string[]).find((v) =>
      v.startsWith('./grafana/dashboards:'),
    );
    expect(mount?.split(':')[1]).toBe(providers.providers[0].options.path);
  });
});

describe('alert rules and dashboards query only metrics Vigil exposes', () => {
  let t: TestApp;
  let m: Exposition;

  beforeAll(async () => {
    // PostgreSQL: the pool metrics exist only there.
    t = await createTestAppOn('postgres');
    await t.app.inject({ method: 'GET', url: '/healthz' });
    m = parseExposition((await t.app.inject({ method: 'GET', url: '/metrics' })).body);
  });
  afterAll(async () => t?.close());

  it('every vigil_/nodejs_/process_ name used exists in the real /metrics output', () => {
    const names = new Set([...m.types.keys(), ...m.samples.map((s) => s.name)]);
    const known = (name: string) => {
      if (names.has(name)) return true;
      const base = name.replace(/_(bucket|sum|count)$/, '');
      return base !== name && m.types.get(base) === 'histogram';
    };
    const used = expressions().flatMap(({ where, expr }) =>
      [...expr.matchAll(METRIC)].map(([n]) => ({ where, n })),
    );
    expect(used.length).toBeGreaterThan(50);
    expect(used.filter(({ n }) => !known(n)).map(({ where, n }) => `${where}: ${n}`)).toEqual([]);
  });

  it('counters are used inside rate() or increase(), never raw', () => {
    for (const { where, expr } of expressions())
      for (const match of expr.matchAll(/\b(?:vigil|nodejs|process)_[a-zA-Z0-9_]+_total\b/g)) {
        const before = expr.slice(0, match.index);
        expect(/(rate|increase)\(\s*$/.test(before), `${where}: ${match[0]}`).toBe(true);
      }
  });
});

describe('deploy/docker-compose.yml and the Dockerfile', () => {
  const compose = parse(read('docker-compose.yml')) as {
    services: Record<
      string,
      { healthcheck?: unknown; volumes?: string[]; build?: { context: string; dockerfile: string } }
    >;
  };

  it('parses and names the six services, each with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['grafana', 'mosquitto', 'postgres', 'prometheus', 'redis', 'vigil'].sort(),
    );
    for (const [name, s] of Object.entries(compose.services)) expect(s.healthcheck, name).toBeDefined();
  });

  it('mounts files that exist and builds from the repository Dockerfile', () => {
    for (const s of Object.values(compose.services))
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        // secrets/ is made by the operator (docs/deploy.md); named volumes have no path.
        if (source.startsWith('./') && !source.startsWith('./secrets/'))
          expect(existsSync(path.join(DEPLOY, source)), source).toBe(true);
      }
    const build = compose.services.vigil!.build!;
    expect(existsSync(path.join(DEPLOY, build.context, build.dockerfile))).toBe(true);
  });

  it('the Dockerfile is multi-stage, installs production dependencies only and runs as non-root', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "dist\/main\.js"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["serve"\]$/m);
  });

  it('every package the server imports is a production dependency (so `npm ci --omit=dev` runs it)', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const files = (readdirSync(path.join(ROOT, 'src'), { recursive: true }) as string[]).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
    );
    const missing = new Set<string>();
    for (const f of files) {
      const text = readFileSync(path.join(ROOT, 'src', f), 'utf8');
      for (const [, spec] of text.matchAll(
        /^\s*(?:import|export)\s(?!type\s)[^'"]*?from\s+'([^'.][^']*)'/gm,
      )) {
        if (spec!.startsWith('node:')) continue;
        const name = spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!;
        if (!(name in pkg.dependencies)) missing.add(`${name} (${f})`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});
