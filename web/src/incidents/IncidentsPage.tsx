import { useState } from 'react';
import type { Incident, IncidentStatus } from '../api/types';
import { useMe, useNow } from '../app/context';
import { Link } from '../app/router';
import { useRegistry } from '../data/registry';
import { formatAgo, formatFull } from '../ui/format';
import { SeverityBadge } from '../ui/Severity';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import { useIncidents } from './useIncidents';

const COLUMNS: { status: IncidentStatus; label: string }[] = [
  { status: 'open', label: 'Open' },
  { status: 'investigating', label: 'Investigating' },
  { status: 'resolved', label: 'Resolved' },
  { status: 'closed', label: 'Closed' },
];

/** The incident board: a column per status, each card its severity, place, age and owner. */
export function IncidentsPage() {
  const q = useIncidents();
  const { registry } = useRegistry();
  const me = useMe();
  const now = useNow(30_000);
  const [showClosed, setShowClosed] = useState(false);
  const items = q.data?.items ?? [];
  const columns = COLUMNS.filter((c) => showClosed || c.status !== 'closed');
  const place = (i: Incident) =>
    registry.assets.get(i.assetId ?? '')?.name ?? registry.sites.get(i.siteId ?? '')?.name ?? '';

  return (
    <section className="page" aria-labelledby="incidents-title">
      <div className="page-head">
        <h1 id="incidents-title">Incidents</h1>
        <div className="page-tools">
          <label className="check">
            <input type="checkbox" checked={showClosed} onChange={(e) => setShowClosed(e.target.checked)} />{' '}
            Show closed
          </label>
          <button type="button" className="btn" onClick={q.reload} disabled={q.loading}>
            Refresh
          </button>
        </div>
      </div>
      {q.error ? <ErrorState message={q.error} onRetry={q.reload} /> : null}
      {!q.data && q.loading ? (
        <Loading what="Loading incidents" />
      ) : items.length === 0 ? (
        <EmptyState title="No incidents yet.">
          Alarms of one asset or site are grouped into incidents as they are raised.
        </EmptyState>
      ) : (
        <div className="board">
          {columns.map((c) => {
            const list = items.filter((i) => i.status === c.status);
            return (
              <section key={c.status} className="board-col" aria-labelledby={`col-${c.status}`}>
                <h2 id={`col-${c.status}`}>
                  {c.label} <span className="muted">({list.length})</span>
                </h2>
                {list.length === 0 ? (
                  <p className="muted small">None</p>
                ) : (
                  <ul>
                    {list.map((i) => (
                      <li key={i.id} className={`card card-${i.severity}`}>
                        <SeverityBadge severity={i.severity} compact />
                        <Link to={`/incidents/${i.id}`} className="card-title">
                          {i.title}
                        </Link>
                        <span className="muted small">{place(i)}</span>
                        <span className="small">
                          Opened{' '}
                          <time dateTime={i.openedAt} title={formatFull(i.openedAt)}>
                            {formatAgo(i.openedAt, now)}
                          </time>
                          {i.ownerId
                            ? ` · owner: ${i.ownerId === me.user.id ? 'you' : 'a colleague'}`
                            : ' · no owner'}
                        </span>
                      </li>
                    ))}
                  </ul>
                )}
              </section>
            );
          })}
        </div>
      )}
    </section>
  );
}
