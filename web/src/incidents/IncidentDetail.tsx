import { useEffect, useState } from 'react';
import { useAlarmStore } from '../alarms/AlarmStore';
import { describeError } from '../api/errors';
import type { Incident, IncidentStatus, IncidentTimelineEntry } from '../api/types';
import { useCan, useMe, useQuery, useServices } from '../app/context';
import { Link } from '../app/router';
import { useRegistry } from '../data/registry';
import { WorkOrdersPanel } from '../maintenance/WorkOrdersPanel';
import { Dialog } from '../ui/Dialog';
import { formatFull, words } from '../ui/format';
import { AlarmStatusText, SeverityBadge } from '../ui/Severity';
import { ErrorState, Loading } from '../ui/States';

interface IncidentView {
  readonly incident: Incident;
  readonly alarmIds: string[];
  readonly timeline: IncidentTimelineEntry[];
}

const STATUSES: IncidentStatus[] = ['open', 'investigating', 'resolved', 'closed'];

function describe(e: IncidentTimelineEntry): string {
  const d = e.details as Record<string, unknown>;
  switch (e.kind) {
    case 'status':
      return `Status ${String(d.from ?? '')} → ${String(d.to ?? '')}`;
    case 'owner':
      return d.to ? 'Owner changed' : 'Owner removed';
    case 'alarm_added':
      return `Alarm added${d.title ? `: ${String(d.title)}` : ''}`;
    case 'opened':
      return 'Opened';
    case 'note':
      return 'Note';
    default:
      return words(e.kind);
  }
}

/** One incident: its alarms, timeline, status and owner, and notes. */
export function IncidentDetail({ id }: { id: string }) {
  const { api, stream } = useServices();
  const can = useCan();
  const me = useMe();
  const { registry } = useRegistry();
  const { state: alarms } = useAlarmStore();
  const q = useQuery(`incident:${id}`, (signal) =>
    api.get<IncidentView>(`/api/v1/incidents/${id}`, { signal }),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [noteOpen, setNoteOpen] = useState(false);
  const [note, setNote] = useState('');

  const reload = q.reload;
  useEffect(
    () =>
      stream.follow('incidents', {
        event: (m) => {
          if ((m.payload as { incidentId?: string }).incidentId === id) reload();
        },
        resync: reload,
      }),
    [stream, id, reload],
  );

  if (q.error && !q.data) return <ErrorState message={q.error} onRetry={q.reload} />;
  if (!q.data) return <Loading what="Loading the incident" />;
  const { incident, alarmIds, timeline } = q.data;
  const write = can('incidents:write');

  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      setNoteOpen(false);
      setNote('');
      q.reload();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  const place =
    registry.assets.get(incident.assetId ?? '')?.name ??
    registry.sites.get(incident.siteId ?? '')?.name ??
    '—';

  return (
    <section className="page" aria-labelledby="incident-title">
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link to="/incidents">Incidents</Link>
      </nav>
      <div className="page-head">
        <div>
          <h1 id="incident-title">
            <SeverityBadge severity={incident.severity} compact /> {incident.title}
          </h1>
          <p className="muted">
            {words(incident.status)} · {place} · opened {formatFull(incident.openedAt)}
          </p>
        </div>
      </div>
      {write ? (
        <div className="actions">
          <label className="inline">
            <span>Status</span>
            <select
              value={incident.status}
              disabled={busy || incident.status === 'closed'}
              onChange={(e) =>
                void act(() => api.patch(`/api/v1/incidents/${id}`, { status: e.target.value }))
              }
            >
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {words(s)}
                </option>
              ))}
            </select>
          </label>
          {incident.ownerId === me.user.id ? (
            <button
              type="button"
              className="btn"
              disabled={busy}
              onClick={() => void act(() => api.patch(`/api/v1/incidents/${id}`, { ownerId: null }))}
            >
              Give up ownership
            </button>
          ) : (
            <button
              type="button"
              className="btn"
              disabled={busy}
              onClick={() => void act(() => api.patch(`/api/v1/incidents/${id}`, { ownerId: me.user.id }))}
            >
              Take ownership
            </button>
          )}
          <button type="button" className="btn" onClick={() => setNoteOpen(true)}>
            Add note…
          </button>
        </div>
      ) : null}
      {error && !noteOpen ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="grid-2">
        <section className="panel" aria-labelledby="incident-alarms">
          <h2 id="incident-alarms">Alarms ({alarmIds.length})</h2>
          <ul className="compact-list">
            {alarmIds.map((aid) => {
              const a = alarms.byId[aid];
              return (
                <li key={aid}>
                  {a ? <SeverityBadge severity={a.severity} compact /> : null}
                  <Link to={`/alarms/${aid}`}>{a?.title ?? 'Alarm'}</Link>
                  {a ? <AlarmStatusText status={a.status} shelved={a.shelved} /> : null}
                </li>
              );
            })}
          </ul>
        </section>
        <section className="panel" aria-labelledby="incident-timeline">
          <h2 id="incident-timeline">Timeline</h2>
          <ol className="timeline">
            {[...timeline].reverse().map((e, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: timeline entries carry no id here
              <li key={i}>
                <time dateTime={e.at}>{formatFull(e.at)}</time>
                <span className="timeline-what">
                  <strong>{describe(e)}</strong>
                  {e.actorType === 'system' ? ' by Vigil' : e.actorId === me.user.id ? ' by you' : ''}
                </span>
                {e.text ? <q className="timeline-comment">{e.text}</q> : null}
              </li>
            ))}
          </ol>
        </section>
      </div>
      <div className="grid-2">
        <WorkOrdersPanel incidentId={incident.id} assetId={incident.assetId} title={incident.title} />
      </div>
      <Dialog
        title="Add a note"
        open={noteOpen}
        onClose={() => setNoteOpen(false)}
        onSubmit={() => act(() => api.post(`/api/v1/incidents/${id}/notes`, { text: note.trim() }))}
        submitLabel="Add note"
        busy={busy || note.trim() === ''}
        error={error}
      >
        <label htmlFor="incident-note">Note</label>
        <textarea id="incident-note" rows={4} value={note} onChange={(e) => setNote(e.target.value)} />
      </Dialog>
    </section>
  );
}
