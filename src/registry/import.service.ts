import { randomUUID } from 'node:crypto';
import type { DbOrTrx } from '../db/database.js';
import { AppError, type FieldError } from '../http/errors/catalogue.js';
import type { CsvRow } from './csv.js';
import { GEOMETRY_TYPES, geometryProblem } from './geojson.js';
import { ASSET_KINDS, DEVICE_KINDS, MAX_METADATA_BYTES, SITE_KINDS } from './registry.schemas.js';

export const IMPORT_KINDS = ['sensor-types', 'sites', 'assets', 'devices', 'sensors'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

const KEY = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

type Check = (value: string) => string | undefined;
interface Column {
  readonly required?: boolean;
  readonly check?: Check;
}

const key: Check = (v) =>
  KEY.test(v) ? undefined : 'must be 1–128 letters, digits or ._:/- starting with a letter or digit';
const name: Check = (v) => (v.length <= 200 ? undefined : 'must be at most 200 characters');
const oneOf =
  (values: string[]): Check =>
  (v) =>
    values.includes(v) ? undefined : `must be one of ${values.join(', ')}`;
const number: Check = (v) => (v !== '' && Number.isFinite(Number(v)) ? undefined : 'must be a number');
const seconds: Check = (v) =>
  /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 7 * 24 * 3600
    ? undefined
    : 'must be whole seconds from 1 to 604800';
const json =
  (what: 'metadata' | 'geometry'): Check =>
  (v) => {
    let value: unknown;
    try {
      value = JSON.parse(v);
    } catch {
      return 'must be JSON';
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be a JSON object';
    if (what === 'metadata') {
      return Buffer.byteLength(v) <= MAX_METADATA_BYTES
        ? undefined
        : `must be at most ${MAX_METADATA_BYTES} bytes`;
    }
    const g = value as { type?: unknown; coordinates?: unknown };
    if (typeof g.type !== 'string' || !GEOMETRY_TYPES.includes(g.type))
      return `type must be one of ${GEOMETRY_TYPES.join(', ')}`;
    return geometryProblem({ type: g.type, coordinates: g.coordinates });
  };

/** Columns each kind accepts; references name other objects by key. */
export const COLUMNS: Readonly<Record<ImportKind, Readonly<Record<string, Column>>>> = {
  'sensor-types': {
    key: { required: true, check: key },
    name: { required: true, check: name },
    unit: { required: true, check: (v) => (v.length <= 32 ? undefined : 'must be at most 32 characters') },
    validMin: { check: number },
    validMax: { check: number },
    expectedIntervalS: { check: seconds },
  },
  sites: {
    key: { required: true, check: key },
    name: { required: true, check: name },
    kind: { required: true, check: oneOf(SITE_KINDS) },
    parent: { check: key },
    metadata: { check: json('metadata') },
  },
  assets: {
    key: { required: true, check: key },
    name: { required: true, check: name },
    kind: { required: true, check: oneOf(ASSET_KINDS) },
    site: { check: key },
    geometry: { check: json('geometry') },
    metadata: { check: json('metadata') },
  },
  devices: {
    key: { required: true, check: key },
    name: { required: true, check: name },
    kind: { check: oneOf(DEVICE_KINDS) },
    firmware: { check: (v) => (v.length <= 64 ? undefined : 'must be at most 64 characters') },
    metadata: { check: json('metadata') },
  },
  sensors: {
    key: { required: true, check: key },
    name: { required: true, check: name },
    type: { required: true, check: key },
    device: { check: key },
    asset: { check: key },
    metadata: { check: json('metadata') },
  },
};

const TABLE = {
  'sensor-types': 'sensor_types',
  sites: 'sites',
  assets: 'assets',
  devices: 'devices',
  sensors: 'sensors',
} as const;

/** Reference columns: which table their key must exist in (in the tenant, or earlier in this file for sites). */
const REFERENCES: Partial<Record<ImportKind, Record<string, ImportKind>>> = {
  sites: { parent: 'sites' },
  assets: { site: 'sites' },
  sensors: { type: 'sensor-types', device: 'devices', asset: 'assets' },
};

async function keyMap(db: DbOrTrx, kind: ImportKind, tenantId: string): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom(TABLE[kind])
    .select(['id', 'key'])
    .where('tenant_id', '=', tenantId)
    .execute();
  return new Map(rows.map((r) => [r.key, r.id]));
}

/**
 * Validates every row (columns, values, references, duplicate keys) and, only if all are valid,
 * creates them in one transaction. Any problem answers 422 with every failing row and column,
 * and nothing is written.
 */
export async function importRegistry(
  db: DbOrTrx,
  tenantId: string,
  kind: ImportKind,
  csv: { header: string[]; rows: CsvRow[] },
): Promise<{ created: number }> {
  const columns = COLUMNS[kind];
  const errors: FieldError[] = [];
  for (const h of csv.header) {
    if (!(h in columns))
      errors.push({
        pointer: `/header/${h}`,
        detail: `is not a column of ${kind}; use ${Object.keys(columns).join(', ')}`,
      });
  }
  for (const [col, spec] of Object.entries(columns)) {
    if (spec.required && !csv.header.includes(col))
      errors.push({ pointer: `/header/${col}`, detail: 'is a required column' });
  }
  if (errors.length > 0)
    throw new AppError('UNPROCESSABLE', 'The CSV header is not right; nothing was imported', { errors });
  if (csv.rows.length === 0) return { created: 0 };

  const existing = await keyMap(db, kind, tenantId);
  const refMaps = new Map<ImportKind, Map<string, string>>();
  for (const target of new Set(Object.values(REFERENCES[kind] ?? {}))) {
    refMaps.set(target, target === kind ? existing : await keyMap(db, target, tenantId));
  }
  const seen = new Map<string, number>();
  // Every key of the file gets its id up front, so rows may reference rows further down.
  const fileIds = new Map<string, string>();
  for (const row of csv.rows)
    if (row.values.key && !fileIds.has(row.values.key)) fileIds.set(row.values.key, randomUUID());
  for (const row of csv.rows) {
    const fail = (col: string, detail: string) =>
      errors.push({ pointer: `/rows/${row.line}/${col}`, detail });
    for (const [col, spec] of Object.entries(columns)) {
      const value = row.values[col] ?? '';
      if (value === '') {
        if (spec.required) fail(col, 'is required');
        continue;
      }
      const problem = spec.check?.(value);
      if (problem) fail(col, problem);
    }
    const k = row.values.key ?? '';
    if (existing.has(k)) fail('key', 'already exists');
    else if (seen.has(k)) fail('key', `repeats line ${seen.get(k)}`);
    if (!seen.has(k)) seen.set(k, row.line);
    for (const [col, target] of Object.entries(REFERENCES[kind] ?? {})) {
      const ref = row.values[col];
      if (!ref) continue;
      const inFile = target === kind && fileIds.has(ref) && ref !== k;
      if (!refMaps.get(target)!.has(ref) && !inFile)
        fail(col, `no ${target.replace(/s$/, '').replace('-', ' ')} with key ${ref}`);
    }
    if (kind === 'sites' && row.values.parent) {
      // A parent chain inside the file must end, not loop back.
      const parents = new Map(csv.rows.map((r) => [r.values.key ?? '', r.values.parent ?? '']));
      let cursor: string | undefined = row.values.parent;
      for (let hops = 0; cursor && hops <= csv.rows.length; hops++) {
        if (cursor === k) {
          fail('parent', 'forms a cycle');
          break;
        }
        cursor = parents.get(cursor);
      }
    }
    if (kind === 'sensor-types') {
      const { validMin, validMax } = row.values;
      if (validMin && validMax && Number(validMin) >= Number(validMax))
        fail('validMax', 'must be greater than validMin');
    }
  }
  if (errors.length > 0) {
    throw new AppError(
      'UNPROCESSABLE',
      `${new Set(errors.map((e) => e.pointer.split('/')[2])).size} row(s) have problems; nothing was imported`,
      {
        errors: errors.slice(0, 1000),
      },
    );
  }

  const now = Date.now();
  const base = (row: CsvRow) => ({
    id: fileIds.get(row.values.key!)!,
    tenant_id: tenantId,
    key: row.values.key!,
    name: row.values.name!,
    created_at: now,
    updated_at: now,
  });
  const opt = (v: string | undefined) => (v ? v : null);
  const ref = (target: ImportKind, v: string | undefined) =>
    v ? (refMaps.get(target)?.get(v) ?? fileIds.get(v)!) : null;
  const meta = (v: string | undefined) => v || '{}';
  if (kind === 'sites') {
    // Parents may come later in the file than their children: insert in dependency order.
    for (const r of orderByParent(csv.rows)) {
      await db
        .insertInto('sites')
        .values({
          ...base(r),
          kind: r.values.kind!,
          parent_id: ref('sites', r.values.parent),
          metadata: meta(r.values.metadata),
        })
        .execute();
    }
    return { created: csv.rows.length };
  }
  for (const chunk of chunks(csv.rows, 500)) {
    if (kind === 'sensor-types') {
      await db
        .insertInto('sensor_types')
        .values(
          chunk.map((r) => ({
            ...base(r),
            unit: r.values.unit!,
            valid_min: r.values.validMin ? Number(r.values.validMin) : null,
            valid_max: r.values.validMax ? Number(r.values.validMax) : null,
            expected_interval_s: r.values.expectedIntervalS ? Number(r.values.expectedIntervalS) : null,
          })),
        )
        .execute();
    } else if (kind === 'assets') {
      await db
        .insertInto('assets')
        .values(
          chunk.map((r) => ({
            ...base(r),
            kind: r.values.kind!,
            site_id: ref('sites', r.values.site),
            geometry: opt(r.values.geometry),
            metadata: meta(r.values.metadata),
          })),
        )
        .execute();
    } else if (kind === 'devices') {
      await db
        .insertInto('devices')
        .values(
          chunk.map((r) => ({
            ...base(r),
            kind: r.values.kind || 'logger',
            firmware: opt(r.values.firmware),
            metadata: meta(r.values.metadata),
          })),
        )
        .execute();
    } else {
      await db
        .insertInto('sensors')
        .values(
          chunk.map((r) => ({
            ...base(r),
            type_id: ref('sensor-types', r.values.type)!,
            device_id: ref('devices', r.values.device),
            asset_id: ref('assets', r.values.asset),
            metadata: meta(r.values.metadata),
          })),
        )
        .execute();
    }
  }
  return { created: csv.rows.length };
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Sites ordered so each parent defined in the file comes before its children. */
function orderByParent(rows: CsvRow[]): CsvRow[] {
  const byKey = new Map(rows.map((r) => [r.values.key!, r]));
  const done = new Set<string>();
  const out: CsvRow[] = [];
  const visit = (r: CsvRow, depth: number) => {
    const k = r.values.key!;
    if (done.has(k) || depth > 64) return;
    const parent = r.values.parent ? byKey.get(r.values.parent) : undefined;
    if (parent) visit(parent, depth + 1);
    done.add(k);
    out.push(r);
  };
  for (const r of rows) visit(r, 0);
  return out;
}
