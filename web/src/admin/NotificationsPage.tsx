import { useState } from 'react';
import type { MaintenanceWindow, Page, Severity } from '../api/types';
import { useCan, useQuery, useServices } from '../app/context';
import { useRegistry } from '../data/registry';
import { Dialog } from '../ui/Dialog';
import { formatFull } from '../ui/format';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import { Field, FormError, SecretOnce, useSubmission } from './forms';

interface Channel {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly url: string;
  readonly minSeverity: Severity;
  readonly enabled: boolean;
  readonly rateLimitPerMinute: number;
}

interface Delivery {
  readonly id: number;
  readonly alarmId: string;
  readonly event: string;
  readonly severity: string | null;
  readonly status: string;
  readonly note: string | null;
  readonly attempts: number;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
}

/** A channel's delivery log: what was sent, what waits (and why), what failed. */
function Deliveries({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  const { api } = useServices();
  const q = useQuery(`deliveries:${channel.id}`, (signal) =>
    api.get<{ items: Delivery[] }>(`/api/v1/notification-channels/${channel.id}/deliveries`, { signal }),
  );
  return (
    <section className="panel" aria-labelledby="deliveries-title">
      <div className="page-head">
        <h3 id="deliveries-title">Deliveries of {channel.name}</h3>
        <button type="button" className="btn btn-small" onClick={onClose}>
          Close
        </button>
      </div>
      {q.error ? (
        <ErrorState message={q.error} onRetry={q.reload} />
      ) : !q.data ? (
        <Loading what="Loading deliveries" />
      ) : q.data.items.length === 0 ? (
        <EmptyState title="Nothing sent to this channel yet." />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Attempts
                </th>
                <th scope="col" className="hide-narrow">
                  Last answer
                </th>
              </tr>
            </thead>
            <tbody>
              {q.data.items.map((d) => (
                <tr key={d.id}>
                  <td>{formatFull(d.createdAt)}</td>
                  <th scope="row">
                    {d.event}
                    {d.severity ? <span className="muted"> ({d.severity})</span> : null}
                  </th>
                  <td className={d.status === 'failed' ? 'text-alert' : ''}>
                    {d.status}
                    {d.note ? <span className="small muted"> — {d.note}</span> : null}
                  </td>
                  <td className="num">{d.attempts}</td>
                  <td className="hide-narrow small">
                    {d.lastStatus ?? ''} {d.lastError ?? ''}
                    {d.deliveredAt ? ` delivered ${formatFull(d.deliveredAt)}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

const CHANNEL_TYPES = ['webhook', 'slack', 'teams', 'email'] as const;
const SEVERITIES: readonly Severity[] = ['info', 'warning', 'minor', 'major', 'critical'];

/** Notification channels: list, create (the signing secret shown once), enable/disable, delete. */
function Channels() {
  const { api } = useServices();
  const manage = useCan()('alarms:manage');
  const list = useQuery('channels', (signal) =>
    api.get<{ items: Channel[] }>('/api/v1/notification-channels', { signal }),
  );
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ name: '', type: 'webhook', url: '', minSeverity: 'warning' });
  const [secret, setSecret] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Channel | null>(null);
  const [log, setLog] = useState<Channel | null>(null);
  const create = useSubmission(['name', 'type', 'url', 'minSeverity']);
  const act = useSubmission();

  const submit = async () => {
    const res = await create.run(() =>
      api.post<{ secret: string | null }>('/api/v1/notification-channels', { ...form, url: form.url.trim() }),
    );
    if (!res.ok) return;
    setOpen(false);
    setForm({ name: '', type: 'webhook', url: '', minSeverity: 'warning' });
    if (res.value.secret) setSecret(res.value.secret);
    list.reload();
  };
  const toggle = async (c: Channel) => {
    await act.run(() => api.patch(`/api/v1/notification-channels/${c.id}`, { enabled: !c.enabled }));
    list.reload();
  };
  const remove = async () => {
    if (!deleting) return;
    const res = await act.run(() => api.delete(`/api/v1/notification-channels/${deleting.id}`));
    if (!res.ok) return;
    setDeleting(null);
    list.reload();
  };
  const items = list.data?.items ?? [];
  return (
    <section className="panel" aria-labelledby="channels-title">
      <div className="page-head">
        <h2 id="channels-title">Notification channels</h2>
        {manage ? (
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => {
              create.reset();
              setOpen(true);
            }}
          >
            New channel
          </button>
        ) : null}
      </div>
      {secret ? <SecretOnce label="Signing secret" value={secret} onDone={() => setSecret(null)} /> : null}
      {deleting ? null : <FormError message={act.message} />}
      {list.error ? (
        <ErrorState message={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading what="Loading channels" />
      ) : items.length === 0 ? (
        <EmptyState title="No notification channels yet." />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Type</th>
                <th scope="col">From severity</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id}>
                  <th scope="row">
                    {c.name}
                    <span className="key">{c.url}</span>
                  </th>
                  <td>{c.type}</td>
                  <td>{c.minSeverity}</td>
                  <td>{c.enabled ? 'Enabled' : 'Disabled'}</td>
                  <td className="actions">
                    <button type="button" className="btn btn-small" onClick={() => setLog(c)}>
                      Deliveries <span className="sr-only">of {c.name}</span>
                    </button>{' '}
                    {manage ? (
                      <>
                        <button
                          type="button"
                          className="btn btn-small"
                          disabled={act.busy}
                          onClick={() => void toggle(c)}
                        >
                          {c.enabled ? 'Disable' : 'Enable'} <span className="sr-only">{c.name}</span>
                        </button>{' '}
                        <button
                          type="button"
                          className="btn btn-small"
                          onClick={() => {
                            act.reset();
                            setDeleting(c);
                          }}
                        >
                          Delete <span className="sr-only">{c.name}</span>
                        </button>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {log ? <Deliveries key={log.id} channel={log} onClose={() => setLog(null)} /> : null}
      <Dialog
        title="New notification channel"
        open={open}
        onClose={() => setOpen(false)}
        onSubmit={submit}
        submitLabel="Create channel"
        busy={create.busy}
        error={create.message}
      >
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
        <Field label="Type" error={create.field('type')}>
          {(a) => (
            <select {...a} value={form.type} onChange={(e) => setForm({ ...form, type: e.target.value })}>
              {CHANNEL_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          label={form.type === 'email' ? 'Address (mailto:…)' : 'URL'}
          error={create.field('url')}
          hint="Routing, quiet hours and rate limits: through the API (docs/alarms.md)"
        >
          {(a) => (
            <input
              {...a}
              required
              value={form.url}
              onChange={(e) => setForm({ ...form, url: e.target.value })}
            />
          )}
        </Field>
        <Field label="Notify from severity" error={create.field('minSeverity')}>
          {(a) => (
            <select
              {...a}
              value={form.minSeverity}
              onChange={(e) => setForm({ ...form, minSeverity: e.target.value })}
            >
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          )}
        </Field>
      </Dialog>
      <Dialog
        title={`Delete ${deleting?.name ?? ''}?`}
        open={deleting !== null}
        onClose={() => setDeleting(null)}
        onSubmit={remove}
        submitLabel="Delete"
        busy={act.busy}
        error={act.message}
      >
        <p>Alarms are no longer sent to it; its delivery log goes with it.</p>
      </Dialog>
    </section>
  );
}

const toIso = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** Maintenance windows: list, plan one for an asset or a site (once, daily or weekly), delete. */
function MaintenanceWindows() {
  const { api } = useServices();
  const manage = useCan()('alarms:manage');
  const { registry } = useRegistry();
  const list = useQuery('maintenance-windows', (signal) =>
    api.get<Page<MaintenanceWindow>>('/api/v1/maintenance-windows', { query: { limit: 500 }, signal }),
  );
  const [open, setOpen] = useState(false);
  const empty = { target: '', title: '', startsAt: '', endsAt: '', recurrence: 'none', until: '' };
  const [form, setForm] = useState(empty);
  const create = useSubmission(['assetId', 'siteId', 'title', 'startsAt', 'endsAt', 'recurrence', 'until']);
  const act = useSubmission();
  const submit = async () => {
    const [kind, id] = form.target.split(':');
    const res = await create.run(() =>
      api.post('/api/v1/maintenance-windows', {
        ...(kind === 'site' ? { siteId: id } : { assetId: id }),
        title: form.title.trim(),
        startsAt: toIso(form.startsAt),
        endsAt: toIso(form.endsAt),
        recurrence: form.recurrence,
        ...(form.until ? { until: toIso(form.until) } : {}),
      }),
    );
    if (!res.ok) return;
    setOpen(false);
    setForm(empty);
    list.reload();
  };
  const remove = async (w: MaintenanceWindow) => {
    await act.run(() => api.delete(`/api/v1/maintenance-windows/${w.id}`));
    list.reload();
  };
  const items = list.data?.items ?? [];
  const place = (w: MaintenanceWindow) =>
    registry.assets.get(w.assetId ?? '')?.name ?? registry.sites.get(w.siteId ?? '')?.name ?? '—';
  return (
    <section className="panel" aria-labelledby="windows-title">
      <div className="page-head">
        <h2 id="windows-title">Maintenance windows</h2>
        {manage ? (
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => {
              create.reset();
              setOpen(true);
            }}
          >
            Plan maintenance
          </button>
        ) : null}
      </div>
      <FormError message={act.message} />
      {list.error ? (
        <ErrorState message={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading what="Loading maintenance windows" />
      ) : items.length === 0 ? (
        <EmptyState title="No maintenance windows planned." />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Where</th>
                <th scope="col">When</th>
                <th scope="col">Repeats</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((w) => (
                <tr key={w.id}>
                  <th scope="row">{w.title}</th>
                  <td>{place(w)}</td>
                  <td>
                    {formatFull(w.startsAt)} – {formatFull(w.endsAt)}
                  </td>
                  <td>
                    {w.recurrence}
                    {w.until ? ` until ${formatFull(w.until)}` : ''}
                  </td>
                  <td className="actions">
                    {manage ? (
                      <button
                        type="button"
                        className="btn btn-small"
                        disabled={act.busy}
                        onClick={() => void remove(w)}
                      >
                        Delete <span className="sr-only">{w.title}</span>
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Dialog
        title="Plan maintenance"
        open={open}
        onClose={() => setOpen(false)}
        onSubmit={submit}
        submitLabel="Save window"
        busy={create.busy}
        error={create.message}
      >
        <Field label="Asset or site" error={create.field('assetId') ?? create.field('siteId')}>
          {(a) => (
            <select
              {...a}
              required
              value={form.target}
              onChange={(e) => setForm({ ...form, target: e.target.value })}
            >
              <option value="">Choose…</option>
              <optgroup label="Assets">
                {[...registry.assets.values()].map((x) => (
                  <option key={x.id} value={`asset:${x.id}`}>
                    {x.name}
                  </option>
                ))}
              </optgroup>
              <optgroup label="Sites">
                {[...registry.sites.values()].map((x) => (
                  <option key={x.id} value={`site:${x.id}`}>
                    {x.name}
                  </option>
                ))}
              </optgroup>
            </select>
          )}
        </Field>
        <Field label="Title" error={create.field('title')}>
          {(a) => (
            <input
              {...a}
              required
              value={form.title}
              onChange={(e) => setForm({ ...form, title: e.target.value })}
            />
          )}
        </Field>
        <Field label="Starts" error={create.field('startsAt')}>
          {(a) => (
            <input
              {...a}
              type="datetime-local"
              required
              value={form.startsAt}
              onChange={(e) => setForm({ ...form, startsAt: e.target.value })}
            />
          )}
        </Field>
        <Field label="Ends" error={create.field('endsAt')}>
          {(a) => (
            <input
              {...a}
              type="datetime-local"
              required
              value={form.endsAt}
              onChange={(e) => setForm({ ...form, endsAt: e.target.value })}
            />
          )}
        </Field>
        <Field label="Repeats" error={create.field('recurrence')}>
          {(a) => (
            <select
              {...a}
              value={form.recurrence}
              onChange={(e) => setForm({ ...form, recurrence: e.target.value })}
            >
              <option value="none">Once</option>
              <option value="daily">Daily</option>
              <option value="weekly">Weekly</option>
            </select>
          )}
        </Field>
        {form.recurrence !== 'none' ? (
          <Field label="Repeat until (optional)" error={create.field('until')}>
            {(a) => (
              <input
                {...a}
                type="datetime-local"
                value={form.until}
                onChange={(e) => setForm({ ...form, until: e.target.value })}
              />
            )}
          </Field>
        ) : null}
      </Dialog>
    </section>
  );
}

/** Notification channels and maintenance windows. */
export function NotificationsPage() {
  return (
    <section className="page" aria-labelledby="notify-title">
      <h1 id="notify-title">Notifications and maintenance</h1>
      <Channels />
      <MaintenanceWindows />
    </section>
  );
}
