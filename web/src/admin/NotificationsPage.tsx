import { useState } from 'react';
import type { MaintenanceWindow, Page } from '../api/types';
import { useCan, useQuery, useServices } from '../app/context';
import { useRegistry } from '../data/registry';
import { Dialog } from '../ui/Dialog';
import { formatFull } from '../ui/format';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import {
  CHANNEL_FIELDS,
  type Channel,
  ChannelFields,
  type ChannelFormState,
  channelForm,
  createBody,
  emptyChannelForm,
  patchBody,
  routingSummary,
} from './ChannelForm';
import { FormError, SecretOnce, SelectField, TextField, useSubmission } from './forms';

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

/**
 * Notification channels: list, create and change (routing, quiet hours, rate limit as form
 * fields; the signing secret shown once), enable/disable, delete.
 */
function Channels() {
  const { api } = useServices();
  const manage = useCan()('alarms:manage');
  const { registry } = useRegistry();
  const list = useQuery('channels', (signal) =>
    api.get<{ items: Channel[] }>('/api/v1/notification-channels', { signal }),
  );
  /** The channel being edited, `'new'` while creating one, null with the form closed. */
  const [editing, setEditing] = useState<Channel | 'new' | null>(null);
  const [form, setForm] = useState<ChannelFormState>(() => emptyChannelForm());
  const [secret, setSecret] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Channel | null>(null);
  const [log, setLog] = useState<Channel | null>(null);
  const save = useSubmission(CHANNEL_FIELDS);
  const act = useSubmission();

  const openForm = (c: Channel | 'new') => {
    save.reset();
    setForm(c === 'new' ? emptyChannelForm() : channelForm(c));
    setEditing(c);
  };
  const submit = async () => {
    if (editing === null) return;
    if (editing === 'new') {
      const res = await save.run(() =>
        api.post<{ secret: string | null }>('/api/v1/notification-channels', createBody(form)),
      );
      if (!res.ok) return;
      if (res.value.secret) setSecret(res.value.secret);
    } else {
      const body = patchBody(form, editing);
      if (Object.keys(body).length > 0) {
        const id = editing.id;
        const res = await save.run(() => api.patch(`/api/v1/notification-channels/${id}`, body));
        if (!res.ok) return;
      }
    }
    setEditing(null);
    setForm(emptyChannelForm());
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
          <button type="button" className="btn btn-primary" onClick={() => openForm('new')}>
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
                <th scope="col" className="hide-narrow">
                  Routing and limits
                </th>
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
                  <td className="hide-narrow small" data-testid="channel-routing">
                    {routingSummary(c, registry)}
                  </td>
                  <td>{c.enabled ? 'Enabled' : 'Disabled'}</td>
                  <td className="actions">
                    <button type="button" className="btn btn-small" onClick={() => setLog(c)}>
                      Deliveries <span className="sr-only">of {c.name}</span>
                    </button>{' '}
                    {manage ? (
                      <>
                        <button type="button" className="btn btn-small" onClick={() => openForm(c)}>
                          Settings… <span className="sr-only">of {c.name}</span>
                        </button>{' '}
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
        title={
          editing === 'new' || editing === null ? 'New notification channel' : `Settings of ${editing.name}`
        }
        open={editing !== null}
        onClose={() => setEditing(null)}
        onSubmit={submit}
        submitLabel={editing === 'new' ? 'Create channel' : 'Save channel'}
        busy={save.busy}
        error={save.message}
      >
        {editing !== null ? (
          <ChannelFields
            form={form}
            onChange={setForm}
            sub={save}
            registry={registry}
            creating={editing === 'new'}
          />
        ) : null}
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
        <SelectField
          label="Asset or site"
          required
          value={form.target}
          onChange={(v) => setForm({ ...form, target: v })}
          options={[{ value: '', label: 'Choose…' }]}
          error={create.field('assetId') ?? create.field('siteId')}
        >
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
        </SelectField>
        <TextField
          label="Title"
          required
          value={form.title}
          onChange={(v) => setForm({ ...form, title: v })}
          error={create.field('title')}
        />
        <TextField
          label="Starts"
          type="datetime-local"
          required
          value={form.startsAt}
          onChange={(v) => setForm({ ...form, startsAt: v })}
          error={create.field('startsAt')}
        />
        <TextField
          label="Ends"
          type="datetime-local"
          required
          value={form.endsAt}
          onChange={(v) => setForm({ ...form, endsAt: v })}
          error={create.field('endsAt')}
        />
        <SelectField
          label="Repeats"
          value={form.recurrence}
          onChange={(v) => setForm({ ...form, recurrence: v })}
          options={[
            { value: 'none', label: 'Once' },
            { value: 'daily', label: 'Daily' },
            { value: 'weekly', label: 'Weekly' },
          ]}
          error={create.field('recurrence')}
        />
        {form.recurrence !== 'none' ? (
          <TextField
            label="Repeat until (optional)"
            type="datetime-local"
            value={form.until}
            onChange={(v) => setForm({ ...form, until: v })}
            error={create.field('until')}
          />
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
