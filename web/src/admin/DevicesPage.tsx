import { useEffect, useRef, useState } from 'react';
import type { Device, DeviceCredential, Page } from '../api/types';
import { useCan, useNow, useQuery, useServices } from '../app/context';
import { Link, useRouter } from '../app/router';
import { Dialog } from '../ui/Dialog';
import { formatAgo, formatFull } from '../ui/format';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import { Field, FormError, SecretOnce, useSubmission } from './forms';

const KINDS = ['logger', 'gateway', 'plc', 'meter', 'other'] as const;
const STATUS_LABEL: Record<string, string> = {
  active: 'Active',
  inactive: 'Inactive',
  quarantined: 'Quarantined',
};

function DeviceStatus({ d }: { d: Device }) {
  return (
    <span className={`device-status device-${d.status}`}>
      {d.status === 'quarantined' ? <span aria-hidden="true">⛔ </span> : null}
      {STATUS_LABEL[d.status] ?? d.status}
      {d.status !== 'quarantined' ? (
        <span className="muted">{d.online ? ' · online' : ' · offline'}</span>
      ) : null}
    </span>
  );
}

/** The token of a newly issued credential, shown once at the top of the page. */
function IssuedToken({ token, onDone }: { token: string; onDone: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div ref={ref} tabIndex={-1} className="panel">
      <h2>Device credential issued</h2>
      <p>
        Configure the device with this token (HTTP: <code>Authorization: Device &lt;token&gt;</code>; MQTT: as
        the password).
      </p>
      <SecretOnce label="Device token" value={token} onDone={onDone} />
    </div>
  );
}

/** Devices: list with search and status, create (with its first credential), quarantine and release. */
export function DevicesPage() {
  const { api } = useServices();
  const can = useCan();
  const now = useNow(30_000);
  const { location, navigate } = useRouter();
  const q = location.search.get('q') ?? '';
  const status = location.search.get('status') ?? '';
  const list = useQuery(`devices:${q}:${status}`, (signal) =>
    api.get<Page<Device>>('/api/v1/devices', { query: { q, status, limit: 500 }, signal }),
  );
  const [createOpen, setCreateOpen] = useState(false);
  const [form, setForm] = useState({ key: '', name: '', kind: 'logger', firmware: '', issue: true });
  const create = useSubmission(['key', 'name', 'kind', 'firmware']);
  const [token, setToken] = useState<string | null>(null);
  const [quarantine, setQuarantine] = useState<Device | null>(null);
  const [reason, setReason] = useState('');
  const act = useSubmission(['reason']);
  const canWrite = can('devices:write');
  const canCredentials = can('devices:credentials');

  const setParam = (k: string, v: string) => {
    const next = new URLSearchParams(location.search);
    if (v) next.set(k, v);
    else next.delete(k);
    const qs = next.toString();
    navigate(`/admin/devices${qs ? `?${qs}` : ''}`, { replace: true });
  };

  const submitCreate = async () => {
    const created = await create.run(() =>
      api.post<Device>('/api/v1/devices', {
        key: form.key.trim(),
        name: form.name.trim(),
        kind: form.kind,
        ...(form.firmware.trim() ? { firmware: form.firmware.trim() } : {}),
      }),
    );
    if (!created.ok) return;
    setCreateOpen(false);
    setForm({ key: '', name: '', kind: 'logger', firmware: '', issue: true });
    list.reload();
    if (!form.issue || !canCredentials) return;
    // The device exists now: a failure to issue its credential is reported on the page (issue it
    // again from the device's page).
    const issued = await act.run(() =>
      api.post<{ token: string | null }>('/api/v1/device-credentials', { deviceId: created.value.id }),
    );
    if (issued.ok && issued.value.token) setToken(issued.value.token);
  };

  const submitQuarantine = async () => {
    if (!quarantine) return;
    const res = await act.run(() =>
      api.post(`/api/v1/devices/${quarantine.id}/quarantine`, { reason: reason.trim() }),
    );
    if (!res.ok) return;
    setQuarantine(null);
    setReason('');
    list.reload();
  };

  const release = async (d: Device) => {
    await act.run(() => api.post(`/api/v1/devices/${d.id}/release`));
    list.reload();
  };

  const items = list.data?.items ?? [];
  return (
    <section className="page" aria-labelledby="devices-title">
      <div className="page-head">
        <h1 id="devices-title">Devices</h1>
        <div className="page-tools">
          {canWrite ? (
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => {
                create.reset();
                setCreateOpen(true);
              }}
            >
              New device
            </button>
          ) : null}
          <button type="button" className="btn" onClick={list.reload} disabled={list.loading}>
            Refresh
          </button>
        </div>
      </div>
      {token ? <IssuedToken token={token} onDone={() => setToken(null)} /> : null}
      <search className="filters" aria-label="Filter devices">
        <label>
          <span>Search</span>
          <input
            type="search"
            placeholder="Key or name"
            defaultValue={q}
            onChange={(e) => setParam('q', e.target.value.trim())}
          />
        </label>
        <label>
          <span>Status</span>
          <select value={status} onChange={(e) => setParam('status', e.target.value)}>
            <option value="">Any status</option>
            <option value="active">Active</option>
            <option value="inactive">Inactive</option>
            <option value="quarantined">Quarantined</option>
          </select>
        </label>
      </search>
      {act.message && !quarantine ? <FormError message={act.message} /> : null}
      {list.error ? <ErrorState message={list.error} onRetry={list.reload} /> : null}
      {!list.data && list.loading ? (
        <Loading what="Loading devices" />
      ) : items.length === 0 && !list.error ? (
        <EmptyState title={q || status ? 'No device matches these filters.' : 'No devices registered yet.'}>
          {canWrite && !q && !status
            ? 'Add the loggers and gateways that send readings with “New device”.'
            : null}
        </EmptyState>
      ) : items.length > 0 ? (
        <div className="table-wrap">
          <table className="table" aria-describedby="devices-count">
            <caption id="devices-count" className="caption">
              {items.length} devices
            </caption>
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col" className="hide-narrow">
                  Kind
                </th>
                <th scope="col">Status</th>
                <th scope="col" className="hide-narrow">
                  Last seen
                </th>
                <th scope="col" className="num hide-narrow">
                  Refused
                </th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id} data-device={d.key}>
                  <th scope="row">
                    <Link to={`/admin/devices/${d.id}`}>{d.name}</Link>
                    <span className="key">{d.key}</span>
                  </th>
                  <td className="hide-narrow">{d.kind ?? '—'}</td>
                  <td>
                    <DeviceStatus d={d} />
                    {d.quarantineReason ? <span className="small muted"> — {d.quarantineReason}</span> : null}
                  </td>
                  <td className="hide-narrow">
                    {d.lastSeenAt ? (
                      <time dateTime={d.lastSeenAt} title={formatFull(d.lastSeenAt)}>
                        {formatAgo(d.lastSeenAt, now)}
                      </time>
                    ) : (
                      'Never'
                    )}
                  </td>
                  <td className="num hide-narrow">{d.refusedCount ?? 0}</td>
                  <td className="actions">
                    {canWrite && d.status === 'quarantined' ? (
                      <button
                        type="button"
                        className="btn btn-small"
                        disabled={act.busy}
                        onClick={() => void release(d)}
                      >
                        Release <span className="sr-only">{d.name}</span>
                      </button>
                    ) : canWrite ? (
                      <button
                        type="button"
                        className="btn btn-small"
                        onClick={() => {
                          act.reset();
                          setQuarantine(d);
                        }}
                      >
                        Quarantine <span className="sr-only">{d.name}</span>
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Dialog
        title="New device"
        open={createOpen}
        onClose={() => setCreateOpen(false)}
        onSubmit={submitCreate}
        submitLabel="Create device"
        busy={create.busy}
        error={create.message}
      >
        <Field label="Key" hint="Unique in your organisation, e.g. logger-17" error={create.field('key')}>
          {(a) => (
            <input
              {...a}
              required
              value={form.key}
              onChange={(e) => setForm({ ...form, key: e.target.value })}
            />
          )}
        </Field>
        <Field label="Name" error={create.field('name')}>
          {(a) => (
            <input
              {...a}
              required
              value={form.name}
              onChange={(e) => setForm({ ...form, name: e.target.value })}
            />
          )}
        </Field>
        <Field label="Kind" error={create.field('kind')}>
          {(a) => (
            <select {...a} value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value })}>
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Firmware (optional)" error={create.field('firmware')}>
          {(a) => (
            <input
              {...a}
              value={form.firmware}
              onChange={(e) => setForm({ ...form, firmware: e.target.value })}
            />
          )}
        </Field>
        {canCredentials ? (
          <label className="check">
            <input
              type="checkbox"
              checked={form.issue}
              onChange={(e) => setForm({ ...form, issue: e.target.checked })}
            />{' '}
            Issue a credential (token) now
          </label>
        ) : null}
      </Dialog>
      <Dialog
        title={`Quarantine ${quarantine?.name ?? ''}`}
        open={quarantine !== null}
        onClose={() => setQuarantine(null)}
        onSubmit={submitQuarantine}
        submitLabel="Quarantine"
        busy={act.busy}
        canSubmit={reason.trim() !== ''}
        error={act.message}
      >
        <p>Its readings are refused (and counted) until it is released.</p>
        <Field label="Reason" error={act.field('reason')}>
          {(a) => (
            <textarea {...a} rows={3} required value={reason} onChange={(e) => setReason(e.target.value)} />
          )}
        </Field>
      </Dialog>
    </section>
  );
}

/** One device: its facts and its credentials (issue, revoke). */
export function DeviceDetail({ id }: { id: string }) {
  const { api } = useServices();
  const can = useCan();
  const now = useNow(30_000);
  const device = useQuery(`device:${id}`, (signal) => api.get<Device>(`/api/v1/devices/${id}`, { signal }));
  const canCredentials = can('devices:credentials');
  const creds = useQuery(canCredentials ? `device-creds:${id}` : null, (signal) =>
    api.get<{ items: DeviceCredential[] }>('/api/v1/device-credentials', { query: { deviceId: id }, signal }),
  );
  const act = useSubmission();
  const [token, setToken] = useState<string | null>(null);

  const issue = async () => {
    const res = await act.run(() =>
      api.post<{ token: string | null }>('/api/v1/device-credentials', { deviceId: id }),
    );
    if (res.ok && res.value.token) setToken(res.value.token);
    creds.reload();
  };
  const [revoking, setRevoking] = useState<DeviceCredential | null>(null);
  const revoke = async () => {
    if (!revoking) return;
    const res = await act.run(() => api.delete(`/api/v1/device-credentials/${revoking.id}`));
    if (!res.ok) return;
    setRevoking(null);
    creds.reload();
  };

  const { navigate } = useRouter();
  const canWrite = can('devices:write');
  const edit = useSubmission(['name', 'kind', 'firmware', 'status']);
  const [editing, setEditing] = useState<{
    name: string;
    kind: string;
    firmware: string;
    status: string;
  } | null>(null);
  const [deleting, setDeleting] = useState(false);
  const saveEdit = async () => {
    const d = device.data;
    if (!editing || !d) return;
    const body: Record<string, string | null> = {};
    if (editing.name.trim() !== d.name) body.name = editing.name.trim();
    if (editing.kind !== d.kind) body.kind = editing.kind;
    if (editing.firmware.trim() !== (d.firmware ?? '')) body.firmware = editing.firmware.trim() || null;
    if (d.status !== 'quarantined' && editing.status !== d.status) body.status = editing.status;
    const res = await edit.run(() =>
      Object.keys(body).length > 0 ? api.patch(`/api/v1/devices/${id}`, body) : Promise.resolve(null),
    );
    if (!res.ok) return;
    setEditing(null);
    device.reload();
  };
  const remove = async () => {
    const res = await edit.run(() => api.delete(`/api/v1/devices/${id}`));
    if (res.ok) navigate('/admin/devices');
  };

  if (device.error && !device.data) return <ErrorState message={device.error} onRetry={device.reload} />;
  if (!device.data) return <Loading what="Loading the device" />;
  const d = device.data;
  return (
    <section className="page" aria-labelledby="device-title">
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link to="/admin/devices">Devices</Link> › {d.name}
      </nav>
      <div className="page-head">
        <h1 id="device-title">{d.name}</h1>
        {canWrite ? (
          <div className="page-tools">
            <button
              type="button"
              className="btn"
              onClick={() => {
                edit.reset();
                setEditing({
                  name: d.name,
                  kind: d.kind ?? 'logger',
                  firmware: d.firmware ?? '',
                  status: d.status,
                });
              }}
            >
              Edit
            </button>
            <button
              type="button"
              className="btn"
              onClick={() => {
                edit.reset();
                setDeleting(true);
              }}
            >
              Delete
            </button>
          </div>
        ) : null}
      </div>
      {token ? <IssuedToken token={token} onDone={() => setToken(null)} /> : null}
      <dl className="facts panel">
        <dt>Key</dt>
        <dd>
          <code>{d.key}</code>
        </dd>
        <dt>Kind</dt>
        <dd>{d.kind ?? '—'}</dd>
        <dt>Status</dt>
        <dd>
          <DeviceStatus d={d} />
          {d.quarantineReason ? ` — ${d.quarantineReason}` : ''}
        </dd>
        <dt>Firmware</dt>
        <dd>{d.firmware ?? '—'}</dd>
        <dt>Last seen</dt>
        <dd>{d.lastSeenAt ? formatFull(d.lastSeenAt) : 'Never'}</dd>
      </dl>
      <section className="panel" aria-labelledby="creds-title">
        <div className="page-head">
          <h2 id="creds-title">Credentials</h2>
          {canCredentials ? (
            <button
              type="button"
              className="btn btn-primary"
              disabled={act.busy}
              onClick={() => void issue()}
            >
              Issue credential
            </button>
          ) : null}
        </div>
        <FormError message={act.message} />
        {!canCredentials ? (
          <p className="muted">Your role cannot see or issue device credentials.</p>
        ) : creds.error ? (
          <ErrorState message={creds.error} onRetry={creds.reload} />
        ) : !creds.data ? (
          <Loading what="Loading credentials" />
        ) : creds.data.items.length === 0 ? (
          <EmptyState title="This device has no credential yet." />
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Prefix</th>
                <th scope="col">Issued</th>
                <th scope="col" className="hide-narrow">
                  Last used
                </th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {creds.data.items.map((c) => {
                const expired = c.expiresAt !== null && Date.parse(c.expiresAt) <= now;
                return (
                  <tr key={c.id} data-credential={c.prefix}>
                    <th scope="row">
                      <code>{c.prefix}…</code>
                    </th>
                    <td>{formatFull(c.createdAt)}</td>
                    <td className="hide-narrow">{c.lastUsedAt ? formatAgo(c.lastUsedAt, now) : 'Never'}</td>
                    <td>
                      {c.revokedAt
                        ? `Revoked ${formatFull(c.revokedAt)}`
                        : expired
                          ? 'Expired'
                          : c.expiresAt
                            ? `Valid until ${formatFull(c.expiresAt)}`
                            : 'Valid'}
                    </td>
                    <td className="actions">
                      {!c.revokedAt && !expired ? (
                        <button
                          type="button"
                          className="btn btn-small"
                          disabled={act.busy}
                          onClick={() => {
                            act.reset();
                            setRevoking(c);
                          }}
                        >
                          Revoke <span className="sr-only">{c.prefix}</span>
                        </button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
      <Dialog
        title={`Edit ${d.name}`}
        open={editing !== null}
        onClose={() => setEditing(null)}
        onSubmit={saveEdit}
        submitLabel="Save"
        busy={edit.busy}
        error={edit.message}
      >
        {editing ? (
          <>
            <Field label="Name" error={edit.field('name')}>
              {(a) => (
                <input
                  {...a}
                  required
                  value={editing.name}
                  onChange={(e) => setEditing({ ...editing, name: e.target.value })}
                />
              )}
            </Field>
            <Field label="Kind" error={edit.field('kind')}>
              {(a) => (
                <select
                  {...a}
                  value={editing.kind}
                  onChange={(e) => setEditing({ ...editing, kind: e.target.value })}
                >
                  {KINDS.map((k) => (
                    <option key={k} value={k}>
                      {k}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Firmware" error={edit.field('firmware')}>
              {(a) => (
                <input
                  {...a}
                  value={editing.firmware}
                  onChange={(e) => setEditing({ ...editing, firmware: e.target.value })}
                />
              )}
            </Field>
            {d.status !== 'quarantined' ? (
              <Field label="Status" error={edit.field('status')}>
                {(a) => (
                  <select
                    {...a}
                    value={editing.status}
                    onChange={(e) => setEditing({ ...editing, status: e.target.value })}
                  >
                    <option value="active">Active</option>
                    <option value="inactive">Inactive</option>
                  </select>
                )}
              </Field>
            ) : (
              <p className="small muted">
                Quarantined: release it from the device list to change its status.
              </p>
            )}
          </>
        ) : null}
      </Dialog>
      <Dialog
        title={`Delete ${d.name}?`}
        open={deleting}
        onClose={() => setDeleting(false)}
        onSubmit={remove}
        submitLabel="Delete device"
        busy={edit.busy}
        error={edit.message}
      >
        <p>Its credentials are deleted with it; its sensors stay, detached. This cannot be undone.</p>
      </Dialog>
      <Dialog
        title="Revoke this credential?"
        open={revoking !== null}
        onClose={() => setRevoking(null)}
        onSubmit={revoke}
        submitLabel="Revoke"
        busy={act.busy}
        error={act.message}
      >
        <p>
          The device can no longer authenticate with <code>{revoking?.prefix}…</code>. This cannot be undone.
        </p>
      </Dialog>
    </section>
  );
}
