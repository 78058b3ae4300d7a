import { useId } from 'react';
import type { WorkOrder } from '../api/types';
import { useCan, useNow, useQuery, useServices } from '../app/context';
import { Link } from '../app/router';
import { useRegistry } from '../data/registry';
import { formatDateTime, formatFull } from '../ui/format';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import { isLate, maintenanceHref, statusLabel } from './work-orders';

/**
 * The work orders linked to an alarm or an incident, with *Create work order* (prefilled with
 * the alarm or incident and its asset) for those who may, and the asset's maintenance log.
 */
export function WorkOrdersPanel({
  alarmId,
  incidentId,
  assetId,
  title,
}: {
  alarmId?: string;
  incidentId?: string;
  assetId: string | null | undefined;
  /** The suggested title of a new work order. */
  title?: string;
}) {
  const { api } = useServices();
  const can = useCan();
  const now = useNow(60_000);
  const { registry } = useRegistry();
  const headingId = useId();
  const q = useQuery(`work-orders:${alarmId ?? ''}:${incidentId ?? ''}`, (signal) =>
    api.get<{ items: WorkOrder[] }>('/api/v1/maintenance', {
      query: { alarmId, incidentId, limit: 50 },
      signal,
    }),
  );
  const asset = assetId ? registry.assets.get(assetId) : undefined;
  const items = q.data?.items ?? [];
  return (
    <section className="panel" aria-labelledby={headingId} data-testid="work-orders-panel">
      <div className="page-head">
        <h2 id={headingId}>Work orders</h2>
        {can('incidents:write') ? (
          <Link
            className="btn btn-small"
            to={maintenanceHref({
              create: true,
              asset: assetId,
              alarm: alarmId,
              incident: incidentId,
              title,
            })}
          >
            Create work order
          </Link>
        ) : null}
      </div>
      {q.error ? (
        <ErrorState message={q.error} onRetry={q.reload} />
      ) : !q.data ? (
        <Loading what="Loading work orders" />
      ) : items.length === 0 ? (
        <EmptyState title={`No work orders for this ${alarmId ? 'alarm' : 'incident'}.`} />
      ) : (
        <ul className="compact-list">
          {items.map((w) => (
            <li key={w.id}>
              <Link to={`/maintenance/${w.id}`}>{w.title}</Link>
              <span className="wo-status">{statusLabel(w.status)}</span>
              {isLate(w, now) ? <span className="wo-late">Overdue</span> : null}
              <span className="muted">
                {registry.assets.get(w.assetId)?.name ?? ''}{' '}
                <time dateTime={w.createdAt} title={formatFull(w.createdAt)}>
                  {formatDateTime(w.createdAt)}
                </time>
              </span>
            </li>
          ))}
        </ul>
      )}
      {assetId ? (
        <p className="small">
          <Link to={maintenanceHref({ asset: assetId })}>
            Maintenance log of {asset?.name ?? 'the asset'}
          </Link>
        </p>
      ) : null}
    </section>
  );
}
