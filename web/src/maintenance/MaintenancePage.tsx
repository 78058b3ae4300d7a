import { useEffect, useId, useState } from 'react';
import { CheckboxGroup, Field, FormError, SelectField, TextField, useSubmission } from '../admin/forms';
import { useAlarmStore } from '../alarms/AlarmStore';
import type { Alarm, DirectoryEntry, Incident, WorkOrder, WorkOrderStatus } from '../api/types';
import { useCan, useMe, useNow, useQuery, useServices } from '../app/context';
import { Link, useRouter } from '../app/router';
import { useRegistry } from '../data/registry';
import { Dialog } from '../ui/Dialog';
import { formatDateTime, formatFull } from '../ui/format';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import {
  ADVANCE_LABEL,
  isLate,
  localToIso,
  maintenanceHref,
  nextStatuses,
  STATUS_LABEL,
  statusLabel,
  WORK_ORDER_STATUSES,
} from './work-orders';

/** How many work orders the log shows (newest first); filters reach older ones. */
export const LOG_LIMIT = 200;

const WORK_ORDER_FIELDS = ['assetId', 'title', 'notes', 'plannedFor', 'assigneeId', 'alarmId', 'incidentId'];

/** Members for the assignee choice: the directory every member may read (names and roles). */
function useMembers(enabled: boolean) {
  const { api } = useServices();
  return useQuery(enabled ? 'directory' : null, (signal) =>
    api.get<{ items: DirectoryEntry[] }>('/api/v1/members/directory', { signal }),
  );
}

/** "You", a member's name, "A colleague" or "Nobody". */
function useAssigneeName(members: readonly DirectoryEntry[] | undefined) {
  const me = useMe();
  return (id: string | null) => {
    if (!id) return 'Nobody';
    if (id === me.user.id) return 'You';
    return members?.find((m) => m.id === id)?.displayName ?? 'A colleague';
  };
}

function AssigneeOptions({ members }: { members: readonly DirectoryEntry[] | undefined }) {
  const me = useMe();
  return (
    <>
      <option value="">Nobody</option>
      <option value={me.user.id}>Me ({me.user.displayName})</option>
      {(members ?? [])
        .filter((m) => m.id !== me.user.id)
        .map((m) => (
          <option key={m.id} value={m.id}>
            {m.displayName} ({m.role})
          </option>
        ))}
    </>
  );
}

/** The buttons moving a work order on: only to the statuses it may go to next. */
function AdvanceButtons({
  order,
  busy,
  onAdvance,
  compact = false,
}: {
  order: WorkOrder;
  busy: boolean;
  onAdvance: (to: WorkOrderStatus) => void;
  compact?: boolean;
}) {
  return (
    <>
      {nextStatuses(order.status).map((to) => (
        <button
          key={to}
          type="button"
          className={`btn${compact ? ' btn-small' : ''}${to === 'in_progress' ? ' btn-primary' : ''}`}
          disabled={busy}
          onClick={() => onAdvance(to)}
        >
          {ADVANCE_LABEL[to]}
          {compact ? <span className="sr-only">: {order.title}</span> : null}
        </button>
      ))}
    </>
  );
}

interface Prefill {
  readonly assetId: string;
  readonly alarmId: string;
  readonly incidentId: string;
  readonly title: string;
}

/** The create form: asset, title, notes, when, assignee, and the alarm or incident it answers. */
function CreateWorkOrder({
  open,
  prefill,
  members,
  onClose,
  onCreated,
}: {
  open: boolean;
  prefill: Prefill;
  members: readonly DirectoryEntry[] | undefined;
  onClose: () => void;
  onCreated: (w: WorkOrder) => void;
}) {
  const { api } = useServices();
  const { registry } = useRegistry();
  const sub = useSubmission(WORK_ORDER_FIELDS);
  const alarm = useQuery(open && prefill.alarmId ? `alarm:${prefill.alarmId}` : null, (signal) =>
    api.get<{ alarm: Alarm }>(`/api/v1/alarms/${prefill.alarmId}`, { signal }),
  );
  const incident = useQuery(open && prefill.incidentId ? `incident:${prefill.incidentId}` : null, (signal) =>
    api.get<{ incident: Incident }>(`/api/v1/incidents/${prefill.incidentId}`, { signal }),
  );
  const initial = () => ({
    assetId: prefill.assetId,
    title: prefill.title,
    notes: '',
    plannedFor: '',
    assigneeId: '',
    links: [...(prefill.alarmId ? ['alarm'] : []), ...(prefill.incidentId ? ['incident'] : [])],
  });
  const [form, setForm] = useState(initial);
  const prefillKey = `${prefill.assetId}|${prefill.alarmId}|${prefill.incidentId}|${prefill.title}`;
  // Each opening starts from the prefill of the address.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the prefill key stands for the prefill
  useEffect(() => {
    if (!open) return;
    setForm(initial());
    sub.reset();
  }, [open, prefillKey]);
  const assets = [...registry.assets.values()].sort((a, b) => a.name.localeCompare(b.name));
  const submit = async () => {
    const plannedFor = localToIso(form.plannedFor);
    const res = await sub.run(() =>
      api.post<WorkOrder>('/api/v1/maintenance', {
        assetId: form.assetId,
        title: form.title.trim(),
        ...(form.notes.trim() ? { notes: form.notes.trim() } : {}),
        ...(plannedFor ? { plannedFor } : {}),
        ...(form.assigneeId ? { assigneeId: form.assigneeId } : {}),
        ...(prefill.alarmId && form.links.includes('alarm') ? { alarmId: prefill.alarmId } : {}),
        ...(prefill.incidentId && form.links.includes('incident') ? { incidentId: prefill.incidentId } : {}),
      }),
    );
    if (res.ok) onCreated(res.value);
  };
  const linkChoices = [
    ...(prefill.alarmId
      ? [{ value: 'alarm', label: `Alarm: ${alarm.data?.alarm.title ?? (alarm.error ? 'not found' : '…')}` }]
      : []),
    ...(prefill.incidentId
      ? [
          {
            value: 'incident',
            label: `Incident: ${incident.data?.incident.title ?? (incident.error ? 'not found' : '…')}`,
          },
        ]
      : []),
  ];
  const linkError = [sub.field('alarmId'), sub.field('incidentId')].filter(Boolean).join('; ') || undefined;
  return (
    <Dialog
      title="New work order"
      open={open}
      onClose={onClose}
      onSubmit={submit}
      submitLabel="Create work order"
      busy={sub.busy}
      canSubmit={form.assetId !== '' && form.title.trim() !== ''}
      error={sub.message}
    >
      <div className="work-order-form">
        <SelectField
          label="Asset"
          required
          value={form.assetId}
          onChange={(v) => setForm({ ...form, assetId: v })}
          options={[{ value: '', label: 'Choose…' }, ...assets.map((a) => ({ value: a.id, label: a.name }))]}
          error={sub.field('assetId')}
        />
        <TextField
          label="Title"
          required
          maxLength={200}
          value={form.title}
          onChange={(v) => setForm({ ...form, title: v })}
          error={sub.field('title')}
        />
        <Field label="Notes (optional)" error={sub.field('notes')}>
          {(a) => (
            <textarea
              {...a}
              rows={3}
              maxLength={10_000}
              value={form.notes}
              onChange={(e) => setForm({ ...form, notes: e.target.value })}
            />
          )}
        </Field>
        <TextField
          label="Planned for (optional)"
          type="datetime-local"
          value={form.plannedFor}
          onChange={(v) => setForm({ ...form, plannedFor: v })}
          error={sub.field('plannedFor')}
        />
        <SelectField
          label="Assignee"
          value={form.assigneeId}
          onChange={(v) => setForm({ ...form, assigneeId: v })}
          options={[]}
          error={sub.field('assigneeId')}
        >
          <AssigneeOptions members={members} />
        </SelectField>
        {linkChoices.length > 0 ? (
          <CheckboxGroup
            legend="Linked to"
            options={linkChoices}
            value={form.links}
            onChange={(v) => setForm({ ...form, links: v })}
            error={linkError}
          />
        ) : null}
      </div>
    </Dialog>
  );
}

/**
 * The maintenance log: work orders (newest first) filtered by asset and status, each with its
 * asset, status, linked alarm and incident; create (also prefilled from an alarm or an incident
 * through the address) and move on (planned → in progress → done) for those who may.
 */
export function MaintenancePage() {
  const { api } = useServices();
  const can = useCan();
  const write = can('incidents:write');
  const { location, navigate } = useRouter();
  const { registry } = useRegistry();
  const { state: alarms } = useAlarmStore();
  const now = useNow(60_000);
  const search = location.search;
  const asset = search.get('asset') ?? '';
  const rawStatus = search.get('status') ?? '';
  const status = (WORK_ORDER_STATUSES as readonly string[]).includes(rawStatus) ? rawStatus : '';
  const creating = write && search.get('new') === '1';
  const [notice, setNotice] = useState('');
  const act = useSubmission();
  const captionId = useId();

  const list = useQuery(`work-orders:${asset}:${status}`, (signal) =>
    api.get<{ items: WorkOrder[] }>('/api/v1/maintenance', {
      query: { assetId: asset || undefined, status: status || undefined, limit: LOG_LIMIT },
      signal,
    }),
  );
  const incidents = useQuery('incidents:maintenance', (signal) =>
    api.get<{ items: Incident[] }>('/api/v1/incidents', { query: { limit: 300 }, signal }),
  );
  const members = useMembers(true);
  const assigneeName = useAssigneeName(members.data?.items);

  const setFilter = (name: 'asset' | 'status', value: string) =>
    navigate(
      maintenanceHref({
        asset: name === 'asset' ? value : asset,
        status: name === 'status' ? value : status,
      }),
      {
        replace: true,
      },
    );
  const closeCreate = () => navigate(maintenanceHref({ asset, status }), { replace: true });
  const advance = async (w: WorkOrder, to: WorkOrderStatus) => {
    setNotice('');
    const res = await act.run(() => api.patch<WorkOrder>(`/api/v1/maintenance/${w.id}`, { status: to }));
    if (res.ok) setNotice(`“${w.title}” is now ${STATUS_LABEL[to].toLowerCase()}.`);
    list.reload();
  };

  const assetName = asset ? (registry.assets.get(asset)?.name ?? 'an asset') : undefined;
  const items = list.data?.items ?? [];
  const incidentTitle = (id: string) => incidents.data?.items.find((i) => i.id === id)?.title ?? 'Incident';
  const filtered = asset !== '' || status !== '';

  return (
    <section className="page" aria-labelledby="maintenance-title">
      {asset ? (
        <nav className="breadcrumb" aria-label="Breadcrumb">
          <Link to="/maintenance">Maintenance log</Link>
          {' › '}
          <Link to={`/sensors?asset=${encodeURIComponent(asset)}`}>Sensors of {assetName}</Link>
        </nav>
      ) : null}
      <div className="page-head">
        <h1 id="maintenance-title">{assetName ? `Maintenance log of ${assetName}` : 'Maintenance log'}</h1>
        <div className="page-tools">
          <button type="button" className="btn" onClick={list.reload} disabled={list.loading}>
            Refresh
          </button>
          {write ? (
            <Link className="btn btn-primary" to={maintenanceHref({ asset, status, create: true })}>
              New work order
            </Link>
          ) : null}
        </div>
      </div>
      <search className="filters" aria-label="Filter work orders">
        <label>
          <span>Asset</span>
          <select value={asset} onChange={(e) => setFilter('asset', e.target.value)}>
            <option value="">All assets</option>
            {[...registry.assets.values()]
              .sort((a, b) => a.name.localeCompare(b.name))
              .map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
          </select>
        </label>
        <label>
          <span>Status</span>
          <select value={status} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="">Any status</option>
            {WORK_ORDER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABEL[s]}
              </option>
            ))}
          </select>
        </label>
      </search>
      <output className="small muted" aria-live="polite">
        {notice}
      </output>
      <FormError message={act.message} />
      {list.error ? (
        <ErrorState message={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading what="Loading the maintenance log" />
      ) : items.length === 0 ? (
        <EmptyState title={filtered ? 'No work order matches these filters.' : 'No work orders yet.'}>
          {filtered ? (
            <button type="button" className="btn" onClick={() => navigate('/maintenance', { replace: true })}>
              Clear filters
            </button>
          ) : write ? (
            <p>Create one here, or from an alarm or an incident (“Create work order”).</p>
          ) : null}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-describedby={captionId}>
            <caption id={captionId} className="caption">
              {items.length} work order{items.length === 1 ? '' : 's'}, newest first
              {items.length >= LOG_LIMIT ? ` (the newest ${LOG_LIMIT}: filter to reach older ones)` : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Work order</th>
                <th scope="col">Asset</th>
                <th scope="col">Status</th>
                <th scope="col" className="hide-narrow">
                  Linked to
                </th>
                <th scope="col" className="hide-narrow">
                  Assignee
                </th>
                {write ? (
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {items.map((w) => (
                <tr key={w.id} data-work-order={w.id}>
                  <th scope="row">
                    <Link to={`/maintenance/${w.id}`}>{w.title}</Link>
                    <span className="key">created {formatDateTime(w.createdAt)}</span>
                  </th>
                  <td>
                    <Link to={maintenanceHref({ asset: w.assetId })}>
                      {registry.assets.get(w.assetId)?.name ?? 'Asset'}
                    </Link>
                  </td>
                  <td>
                    <span className="wo-status">{statusLabel(w.status)}</span>
                    <span className="key">
                      {w.status === 'done' && w.doneAt
                        ? formatDateTime(w.doneAt)
                        : w.status === 'in_progress' && w.startedAt
                          ? `since ${formatDateTime(w.startedAt)}`
                          : w.plannedFor
                            ? `for ${formatDateTime(w.plannedFor)}`
                            : ''}
                    </span>
                    {isLate(w, now) ? <span className="wo-late small">Overdue</span> : null}
                  </td>
                  <td className="hide-narrow">
                    {w.alarmId ? (
                      <Link to={`/alarms/${w.alarmId}`}>
                        Alarm: {alarms.byId[w.alarmId]?.title ?? 'an older one'}
                      </Link>
                    ) : null}
                    {w.alarmId && w.incidentId ? <br /> : null}
                    {w.incidentId ? (
                      <Link to={`/incidents/${w.incidentId}`}>Incident: {incidentTitle(w.incidentId)}</Link>
                    ) : null}
                    {!w.alarmId && !w.incidentId ? <span className="muted">—</span> : null}
                  </td>
                  <td className="hide-narrow">{assigneeName(w.assigneeId)}</td>
                  {write ? (
                    <td className="actions">
                      <AdvanceButtons
                        order={w}
                        busy={act.busy}
                        onAdvance={(to) => void advance(w, to)}
                        compact
                      />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {write ? (
        <CreateWorkOrder
          open={creating}
          members={members.data?.items}
          prefill={{
            assetId: asset,
            alarmId: search.get('alarm') ?? '',
            incidentId: search.get('incident') ?? '',
            title: search.get('title') ?? '',
          }}
          onClose={closeCreate}
          onCreated={(w) => {
            setNotice(`Work order “${w.title}” created.`);
            navigate(maintenanceHref({ asset: w.assetId }), { replace: true });
            list.reload();
          }}
        />
      ) : null}
    </section>
  );
}

/** One work order: its facts, notes, links, and (by permission) moving it on, assigning it, editing the notes. */
export function WorkOrderDetail({ id }: { id: string }) {
  const { api } = useServices();
  const can = useCan();
  const write = can('incidents:write');
  const { registry } = useRegistry();
  const { state: alarms } = useAlarmStore();
  const now = useNow(60_000);
  const q = useQuery(`work-order:${id}`, (signal) =>
    api.get<WorkOrder>(`/api/v1/maintenance/${id}`, { signal }),
  );
  const incident = useQuery(q.data?.incidentId ? `incident:${q.data.incidentId}` : null, (signal) =>
    api.get<{ incident: Incident }>(`/api/v1/incidents/${q.data?.incidentId}`, { signal }),
  );
  const me = useMe();
  const members = useMembers(true);
  const assigneeName = useAssigneeName(members.data?.items);
  const act = useSubmission(['notes', 'assigneeId', 'status']);
  const [notesOpen, setNotesOpen] = useState(false);
  const [notes, setNotes] = useState('');

  if (q.error && !q.data)
    return (
      <section className="page">
        <nav className="breadcrumb" aria-label="Breadcrumb">
          <Link to="/maintenance">Maintenance log</Link>
        </nav>
        <h1>Work order</h1>
        <ErrorState message={q.error} onRetry={q.reload} />
      </section>
    );
  if (!q.data) return <Loading what="Loading the work order" />;
  const w = q.data;
  const asset = registry.assets.get(w.assetId);
  const patch = async (body: Record<string, unknown>) => {
    const res = await act.run(() => api.patch<WorkOrder>(`/api/v1/maintenance/${w.id}`, body));
    if (res.ok) setNotesOpen(false);
    q.reload();
  };

  return (
    <section className="page" aria-labelledby="work-order-title" data-testid="work-order-detail">
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link to="/maintenance">Maintenance log</Link>
        {' › '}
        <Link to={maintenanceHref({ asset: w.assetId })}>{asset?.name ?? 'Asset'}</Link>
      </nav>
      <div className="page-head">
        <div>
          <h1 id="work-order-title">{w.title}</h1>
          <p>
            <span className="wo-status">{statusLabel(w.status)}</span>
            {isLate(w, now) ? <span className="wo-late"> Overdue</span> : null}
          </p>
        </div>
      </div>
      {write ? (
        <div className="actions">
          <AdvanceButtons order={w} busy={act.busy} onAdvance={(to) => void patch({ status: to })} />
          <button
            type="button"
            className="btn"
            onClick={() => {
              act.reset();
              setNotes(w.notes);
              setNotesOpen(true);
            }}
          >
            Edit notes…
          </button>
          <label className="inline">
            <span>Assignee</span>
            <select
              value={w.assigneeId ?? ''}
              disabled={act.busy}
              onChange={(e) => void patch({ assigneeId: e.target.value || null })}
            >
              <AssigneeOptions members={members.data?.items} />
              {w.assigneeId &&
              w.assigneeId !== me.user.id &&
              !members.data?.items.some((m) => m.id === w.assigneeId) ? (
                <option value={w.assigneeId}>{assigneeName(w.assigneeId)}</option>
              ) : null}
            </select>
          </label>
        </div>
      ) : null}
      {notesOpen ? null : <FormError message={act.message} />}
      <div className="grid-2">
        <section className="panel" aria-labelledby="work-order-facts">
          <h2 id="work-order-facts">Details</h2>
          <dl className="facts">
            <dt>Asset</dt>
            <dd>
              {asset ? <Link to={`/sensors?asset=${encodeURIComponent(asset.id)}`}>{asset.name}</Link> : '—'}{' '}
              · <Link to={maintenanceHref({ asset: w.assetId })}>its maintenance log</Link>
            </dd>
            <dt>Status</dt>
            <dd>{statusLabel(w.status)}</dd>
            <dt>Planned for</dt>
            <dd>{w.plannedFor ? formatFull(w.plannedFor) : '—'}</dd>
            <dt>Started</dt>
            <dd>{w.startedAt ? formatFull(w.startedAt) : '—'}</dd>
            <dt>Done</dt>
            <dd>{w.doneAt ? formatFull(w.doneAt) : '—'}</dd>
            <dt>Assignee</dt>
            <dd>{assigneeName(w.assigneeId)}</dd>
            <dt>Alarm</dt>
            <dd>
              {w.alarmId ? (
                <Link to={`/alarms/${w.alarmId}`}>{alarms.byId[w.alarmId]?.title ?? 'The alarm'}</Link>
              ) : (
                '—'
              )}
            </dd>
            <dt>Incident</dt>
            <dd>
              {w.incidentId ? (
                <Link to={`/incidents/${w.incidentId}`}>
                  {incident.data?.incident.title ?? 'The incident'}
                </Link>
              ) : (
                '—'
              )}
            </dd>
            <dt>Created</dt>
            <dd>{formatFull(w.createdAt)}</dd>
          </dl>
        </section>
        <section className="panel" aria-labelledby="work-order-notes">
          <h2 id="work-order-notes">Notes</h2>
          {w.notes ? <p className="notes">{w.notes}</p> : <EmptyState title="No notes yet." />}
        </section>
      </div>
      <Dialog
        title="Notes"
        open={notesOpen}
        onClose={() => setNotesOpen(false)}
        onSubmit={() => patch({ notes })}
        submitLabel="Save notes"
        busy={act.busy}
        error={act.message}
      >
        <Field label="What was found and done" error={act.field('notes')}>
          {(a) => (
            <textarea
              {...a}
              rows={6}
              maxLength={10_000}
              value={notes}
              onChange={(e) => setNotes(e.target.value)}
            />
          )}
        </Field>
      </Dialog>
    </section>
  );
}
