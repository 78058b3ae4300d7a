import { useState } from 'react';
import { ApiError } from '../api/errors';
import type { Device, Page } from '../api/types';
import { useCan, useQuery, useServices } from '../app/context';
import { Link, useRouter } from '../app/router';
import { type Registry, useRegistry } from '../data/registry';
import { Dialog } from '../ui/Dialog';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import { Field, FormError, useSubmission } from './forms';

type Row = Record<string, unknown> & { id: string; key: string; name: string };
type Option = { value: string; label: string };
interface Lookups {
  readonly registry: Registry;
  readonly devices: readonly Device[];
}

interface FieldDef {
  readonly name: string;
  readonly label: string;
  readonly type: 'text' | 'number' | 'select';
  readonly required?: boolean;
  /** Set when creating only (the key). */
  readonly createOnly?: boolean;
  /** Set when editing only (a sensor's status). */
  readonly editOnly?: boolean;
  readonly hint?: string;
  readonly options?: (l: Lookups) => Option[];
}

export interface KindDef {
  readonly kind: 'sensor-types' | 'sites' | 'assets' | 'sensors';
  readonly label: string;
  readonly singular: string;
  readonly fields: readonly FieldDef[];
  /** Extra columns after key/name. */
  readonly columns: readonly { label: string; value: (r: Row, l: Lookups) => string }[];
  readonly filters: readonly { name: string; label: string; options: (l: Lookups) => Option[] }[];
}

const list = (values: readonly string[]): Option[] => values.map((v) => ({ value: v, label: v }));
const SITE_KINDS = ['utility', 'zone', 'dma', 'site', 'plant', 'area'];
const ASSET_KINDS = [
  'pump',
  'tank',
  'reservoir',
  'valve',
  'pipeline',
  'meter',
  'station',
  'hydrant',
  'well',
  'machine',
  'other',
];
const sites = (l: Lookups) => [...l.registry.sites.values()].map((s) => ({ value: s.id, label: s.name }));
const assets = (l: Lookups) => [...l.registry.assets.values()].map((a) => ({ value: a.id, label: a.name }));
const types = (l: Lookups) => [...l.registry.types.values()].map((t) => ({ value: t.id, label: t.name }));
const str = (v: unknown) => (v === null || v === undefined || v === '' ? '—' : String(v));
const KEY: FieldDef = {
  name: 'key',
  label: 'Key',
  type: 'text',
  required: true,
  createOnly: true,
  hint: 'Letters, digits and ._:/-; cannot be changed later',
};
const NAME: FieldDef = { name: 'name', label: 'Name', type: 'text', required: true };

export const KINDS: readonly KindDef[] = [
  {
    kind: 'sensor-types',
    label: 'Sensor types',
    singular: 'sensor type',
    fields: [
      KEY,
      NAME,
      { name: 'unit', label: 'Unit', type: 'text', required: true },
      {
        name: 'validMin',
        label: 'Valid minimum',
        type: 'number',
        hint: 'Readings outside are stored as suspect',
      },
      { name: 'validMax', label: 'Valid maximum', type: 'number' },
      { name: 'expectedIntervalS', label: 'Expected interval (s)', type: 'number' },
    ],
    columns: [
      { label: 'Unit', value: (r) => str(r.unit) },
      { label: 'Valid range', value: (r) => `${str(r.validMin)} … ${str(r.validMax)}` },
      { label: 'Interval (s)', value: (r) => str(r.expectedIntervalS) },
    ],
    filters: [],
  },
  {
    kind: 'sites',
    label: 'Sites and zones',
    singular: 'site',
    fields: [
      KEY,
      NAME,
      { name: 'kind', label: 'Kind', type: 'select', required: true, options: () => list(SITE_KINDS) },
      { name: 'parentId', label: 'Parent', type: 'select', options: sites },
    ],
    columns: [
      { label: 'Kind', value: (r) => str(r.kind) },
      { label: 'Parent', value: (r, l) => l.registry.sites.get(String(r.parentId))?.name ?? '—' },
    ],
    filters: [{ name: 'kind', label: 'Kind', options: () => list(SITE_KINDS) }],
  },
  {
    kind: 'assets',
    label: 'Assets',
    singular: 'asset',
    fields: [
      KEY,
      NAME,
      { name: 'kind', label: 'Kind', type: 'select', required: true, options: () => list(ASSET_KINDS) },
      { name: 'siteId', label: 'Site', type: 'select', options: sites },
    ],
    columns: [
      { label: 'Kind', value: (r) => str(r.kind) },
      { label: 'Site', value: (r, l) => l.registry.sites.get(String(r.siteId))?.name ?? '—' },
    ],
    filters: [
      { name: 'siteId', label: 'Site', options: sites },
      { name: 'kind', label: 'Kind', options: () => list(ASSET_KINDS) },
    ],
  },
  {
    kind: 'sensors',
    label: 'Sensors',
    singular: 'sensor',
    fields: [
      KEY,
      NAME,
      { name: 'typeId', label: 'Type', type: 'select', required: true, options: types },
      {
        name: 'deviceId',
        label: 'Device',
        type: 'select',
        options: (l) => l.devices.map((d) => ({ value: d.id, label: d.name })),
      },
      { name: 'assetId', label: 'Asset', type: 'select', options: assets },
      {
        name: 'status',
        label: 'Status',
        type: 'select',
        required: true,
        editOnly: true,
        options: () => list(['active', 'inactive']),
      },
    ],
    columns: [
      { label: 'Type', value: (r, l) => l.registry.types.get(String(r.typeId))?.name ?? '—' },
      { label: 'Device', value: (r, l) => l.devices.find((d) => d.id === r.deviceId)?.name ?? '—' },
      { label: 'Asset', value: (r, l) => l.registry.assets.get(String(r.assetId))?.name ?? '—' },
      { label: 'Status', value: (r) => str(r.status) },
    ],
    filters: [
      { name: 'typeId', label: 'Type', options: types },
      { name: 'assetId', label: 'Asset', options: assets },
      { name: 'status', label: 'Status', options: () => list(['active', 'inactive']) },
    ],
  },
];

/** The request body for a create (empty fields left out) or an edit (changed fields, empty → null). */
export function bodyOf(
  def: KindDef,
  values: Record<string, string>,
  original: Row | null,
): Record<string, string | number | null> {
  const body: Record<string, string | number | null> = {};
  for (const f of def.fields) {
    if (original ? f.createOnly : f.editOnly) continue;
    const raw = (values[f.name] ?? '').trim();
    const value = raw === '' ? null : f.type === 'number' ? Number(raw) : raw;
    if (original) {
      const before = original[f.name] ?? null;
      if (String(before ?? '') !== String(value ?? '')) body[f.name] = value;
    } else if (value !== null) body[f.name] = value;
  }
  return body;
}

/** One registry list: search and filters, create and edit in a dialog. */
function KindList({ def, lookups, onChanged }: { def: KindDef; lookups: Lookups; onChanged: () => void }) {
  const { api } = useServices();
  const can = useCan();
  const write = can('devices:write');
  const [q, setQ] = useState('');
  const [filters, setFilters] = useState<Record<string, string>>({});
  const search = q.trim();
  const rows = useQuery(`admin-${def.kind}:${search}:${JSON.stringify(filters)}`, (signal) =>
    api.get<Page<Row>>(`/api/v1/${def.kind}`, { query: { q: search, limit: 500, ...filters }, signal }),
  );
  const [editing, setEditing] = useState<Row | 'new' | null>(null);
  const [values, setValues] = useState<Record<string, string>>({});
  const save = useSubmission(def.fields.map((f) => f.name));
  const [deleting, setDeleting] = useState<Row | null>(null);
  const del = useSubmission();
  const remove = async () => {
    if (!deleting) return;
    const res = await del.run(() => api.delete(`/api/v1/${def.kind}/${deleting.id}`));
    if (!res.ok) return;
    setDeleting(null);
    rows.reload();
    onChanged();
  };

  const open = (row: Row | 'new') => {
    save.reset();
    setEditing(row);
    setValues(
      Object.fromEntries(
        def.fields.map((f) => [f.name, row === 'new' ? '' : String(row[f.name] ?? '')]),
      ) as Record<string, string>,
    );
  };
  const submit = async () => {
    if (!editing) return;
    const original = editing === 'new' ? null : editing;
    const body = bodyOf(def, values, original);
    const res = await save.run(() =>
      original
        ? Object.keys(body).length === 0
          ? Promise.resolve(null)
          : api.patch(`/api/v1/${def.kind}/${original.id}`, body)
        : api.post(`/api/v1/${def.kind}`, body),
    );
    if (!res.ok) return;
    setEditing(null);
    rows.reload();
    onChanged();
  };

  const items = rows.data?.items ?? [];
  const filtered = search !== '' || Object.values(filters).some(Boolean);
  return (
    <section aria-labelledby={`kind-${def.kind}`}>
      <div className="page-head">
        <h2 id={`kind-${def.kind}`}>{def.label}</h2>
        {write ? (
          <button type="button" className="btn btn-primary" onClick={() => open('new')}>
            New {def.singular}
          </button>
        ) : null}
      </div>
      <search className="filters" aria-label={`Filter ${def.label.toLowerCase()}`}>
        <label>
          <span>Search</span>
          <input type="search" placeholder="Key or name" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        {def.filters.map((f) => (
          <label key={f.name}>
            <span>{f.label}</span>
            <select
              value={filters[f.name] ?? ''}
              onChange={(e) => setFilters({ ...filters, [f.name]: e.target.value })}
            >
              <option value="">Any</option>
              {f.options(lookups).map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
        ))}
      </search>
      {rows.error ? <ErrorState message={rows.error} onRetry={rows.reload} /> : null}
      {!rows.data && rows.loading ? (
        <Loading what={`Loading ${def.label.toLowerCase()}`} />
      ) : items.length === 0 && !rows.error ? (
        <EmptyState
          title={filtered ? 'Nothing matches these filters.' : `No ${def.label.toLowerCase()} yet.`}
        />
      ) : items.length > 0 ? (
        <div className="table-wrap">
          <table className="table">
            <caption className="caption">
              {items.length}
              {rows.data?.nextCursor ? '+ (narrow the search to see the rest)' : ''} {def.label.toLowerCase()}
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                {def.columns.map((c) => (
                  <th key={c.label} scope="col">
                    {c.label}
                  </th>
                ))}
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id} data-row={r.key}>
                  <th scope="row">
                    {def.kind === 'sensors' ? <Link to={`/sensors/${r.id}`}>{r.name}</Link> : r.name}
                    <span className="key">{r.key}</span>
                  </th>
                  {def.columns.map((c) => (
                    <td key={c.label}>{c.value(r, lookups)}</td>
                  ))}
                  <td className="actions">
                    {write ? (
                      <>
                        <button type="button" className="btn btn-small" onClick={() => open(r)}>
                          Edit <span className="sr-only">{r.name}</span>
                        </button>{' '}
                        <button
                          type="button"
                          className="btn btn-small"
                          onClick={() => {
                            del.reset();
                            setDeleting(r);
                          }}
                        >
                          Delete <span className="sr-only">{r.name}</span>
                        </button>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Dialog
        title={editing === 'new' ? `New ${def.singular}` : `Edit ${editing?.name ?? ''}`}
        open={editing !== null}
        onClose={() => setEditing(null)}
        onSubmit={submit}
        submitLabel={editing === 'new' ? 'Create' : 'Save'}
        busy={save.busy}
        error={save.message}
      >
        {def.fields
          .filter((f) => (editing === 'new' ? !f.editOnly : !f.createOnly))
          .map((f) => (
            <Field key={f.name} label={f.label} hint={f.hint} error={save.field(f.name)}>
              {(a) =>
                f.type === 'select' ? (
                  <select
                    {...a}
                    required={f.required}
                    value={values[f.name] ?? ''}
                    onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
                  >
                    <option value="">{f.required ? 'Choose…' : 'None'}</option>
                    {(f.options?.(lookups) ?? []).map((o) => (
                      <option key={o.value} value={o.value}>
                        {o.label}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    {...a}
                    type={f.type}
                    step={f.type === 'number' ? 'any' : undefined}
                    required={f.required}
                    value={values[f.name] ?? ''}
                    onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
                  />
                )
              }
            </Field>
          ))}
      </Dialog>
      <Dialog
        title={`Delete ${deleting?.name ?? ''}?`}
        open={deleting !== null}
        onClose={() => setDeleting(null)}
        onSubmit={remove}
        submitLabel="Delete"
        busy={del.busy}
        error={del.message}
      >
        <p>
          {def.kind === 'sensor-types'
            ? 'Refused while sensors use this type.'
            : def.kind === 'sites'
              ? 'Refused while it has child sites or assets.'
              : def.kind === 'assets'
                ? 'Its sensors stay, detached from it.'
                : 'It is removed from the registry; this cannot be undone.'}
        </p>
      </Dialog>
    </section>
  );
}

const IMPORT_KINDS = ['sensor-types', 'sites', 'assets', 'devices', 'sensors'] as const;

/** `/rows/4/type` → line 4, column type; `/header/key` → the header. */
export function importErrorRows(err: unknown): { line: string; column: string; detail: string }[] {
  if (!(err instanceof ApiError)) return [];
  return err.fieldErrors.map((e) => {
    const parts = e.pointer.split('/').filter(Boolean);
    if (parts[0] === 'rows')
      return { line: parts[1] ?? '', column: parts.slice(2).join('/'), detail: e.detail };
    if (parts[0] === 'header')
      return { line: '1 (header)', column: parts.slice(1).join('/'), detail: e.detail };
    return { line: '', column: e.pointer, detail: e.detail };
  });
}

/** CSV import: all or nothing; a refused file lists every failing row and column. */
function CsvImport({ onChanged }: { onChanged: () => void }) {
  const { api } = useServices();
  const [kind, setKind] = useState<(typeof IMPORT_KINDS)[number]>('sensors');
  const [text, setText] = useState('');
  const [created, setCreated] = useState<number | null>(null);
  const sub = useSubmission();
  const submit = async () => {
    setCreated(null);
    const res = await sub.run(() =>
      api.post<{ created: number }>(`/api/v1/${kind}/import`, text, { contentType: 'text/csv' }),
    );
    if (!res.ok) return;
    setCreated(res.value.created);
    onChanged();
  };
  const report = importErrorRows(sub.error);
  return (
    <section className="panel" aria-labelledby="import-title">
      <h2 id="import-title">Import from CSV</h2>
      <p className="muted small">
        The first line names the columns; other objects are referenced by key. Nothing is written unless every
        row is valid.
      </p>
      <form
        className="import-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field label="What to import">
          {(a) => (
            <select
              {...a}
              value={kind}
              onChange={(e) => setKind(e.target.value as (typeof IMPORT_KINDS)[number])}
            >
              {IMPORT_KINDS.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="CSV file">
          {(a) => (
            <input
              {...a}
              type="file"
              accept=".csv,text/csv"
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (file) void file.text().then(setText);
              }}
            />
          )}
        </Field>
        <Field label="Or paste the CSV">
          {(a) => <textarea {...a} rows={5} value={text} onChange={(e) => setText(e.target.value)} />}
        </Field>
        <div>
          <button type="submit" className="btn btn-primary" disabled={sub.busy || text.trim() === ''}>
            {sub.busy ? 'Importing…' : 'Import'}
          </button>
        </div>
      </form>
      {created !== null ? <output className="notice">Imported {created} rows.</output> : null}
      <FormError
        message={sub.error ? (sub.error instanceof ApiError ? sub.error.message : sub.message) : null}
      />
      {report.length > 0 ? (
        <table className="table" data-testid="import-errors">
          <caption className="caption">{report.length} problems; nothing was imported</caption>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Column</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {report.map((r, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a line may have several problems
              <tr key={i}>
                <td>{r.line}</td>
                <td>
                  <code>{r.column}</code>
                </td>
                <td>{r.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

/** The registry: sensor types, sites, assets and sensors (devices have their own page), and CSV import. */
export function RegistryAdmin() {
  const { api } = useServices();
  const can = useCan();
  const { registry, reload } = useRegistry();
  const { location, navigate } = useRouter();
  const kind = location.search.get('kind') ?? 'sensors';
  const def = KINDS.find((k) => k.kind === kind) ?? KINDS[3]!;
  const devices = useQuery(def.kind === 'sensors' ? 'admin-devices-lookup' : null, (signal) =>
    api.get<Page<Device>>('/api/v1/devices', { query: { limit: 500 }, signal }),
  );
  const lookups: Lookups = { registry, devices: devices.data?.items ?? [] };
  return (
    <section className="page" aria-labelledby="registry-title">
      <h1 id="registry-title">Registry</h1>
      <nav className="toolbar" aria-label="Registry lists">
        <div className="segmented">
          {KINDS.map((k) => (
            <button
              key={k.kind}
              type="button"
              aria-pressed={k.kind === def.kind}
              className="btn"
              onClick={() => navigate(`/admin/registry?kind=${k.kind}`, { replace: true })}
            >
              {k.label}
            </button>
          ))}
        </div>
        <Link to="/admin/devices">Devices</Link>
      </nav>
      <KindList key={def.kind} def={def} lookups={lookups} onChanged={reload} />
      {can('devices:write') ? <CsvImport onChanged={reload} /> : null}
    </section>
  );
}
