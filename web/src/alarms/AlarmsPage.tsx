import { useEffect, useMemo } from 'react';
import type { Severity } from '../api/types';
import { useCan, useNow } from '../app/context';
import { Link, useRouter } from '../app/router';
import { useRegistry } from '../data/registry';
import { formatAgo, formatFull } from '../ui/format';
import { AlarmStatusText, SEVERITY_LABEL, SeverityBadge } from '../ui/Severity';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import { AlarmActions } from './AlarmActions';
import { useAlarmStore } from './AlarmStore';
import { SEVERITIES, type StatusFilter, visibleAlarms } from './alarm-list';

const STATUS_OPTIONS: { value: StatusFilter; label: string }[] = [
  { value: 'active', label: 'Active (open and acknowledged)' },
  { value: 'open', label: 'Unacknowledged' },
  { value: 'acknowledged', label: 'Acknowledged' },
  { value: 'shelved', label: 'Shelved' },
  { value: 'resolved', label: 'Resolved and closed' },
  { value: 'all', label: 'All (last 30 days)' },
];

/** The live alarm list: new alarms appear as they are raised, worked in priority order. */
export function AlarmsPage() {
  const { location, navigate } = useRouter();
  const { state, dispatch, reload } = useAlarmStore();
  const { registry } = useRegistry();
  const can = useCan();
  const now = useNow(10_000);
  const status = (location.search.get('status') ?? 'active') as StatusFilter;
  const severity = (location.search.get('severity') ?? 'all') as Severity | 'all';
  const q = location.search.get('q') ?? '';

  const rows = useMemo(() => visibleAlarms(state, { status, severity, q }), [state, status, severity, q]);

  // Highlight lasts a while, then the row is just another row.
  useEffect(() => {
    const fresh = rows.filter((r) => r.fresh).map((r) => r.id);
    if (fresh.length === 0) return;
    const t = window.setTimeout(() => {
      for (const id of fresh) dispatch({ type: 'seen', id });
    }, 15_000);
    return () => window.clearTimeout(t);
  }, [rows, dispatch]);

  const setParam = (name: string, value: string, fallback: string) => {
    const next = new URLSearchParams(location.search);
    if (value && value !== fallback) next.set(name, value);
    else next.delete(name);
    const qs = next.toString();
    navigate(`/alarms${qs ? `?${qs}` : ''}`, { replace: true });
  };

  const where = (sensorId: string | null, assetId: string | null) => {
    const sensor = sensorId ? registry.sensorById.get(sensorId) : undefined;
    const asset = registry.assets.get(assetId ?? sensor?.assetId ?? '');
    return { sensor, asset };
  };

  return (
    <section className="page" aria-labelledby="alarms-title">
      <div className="page-head">
        <h1 id="alarms-title">Alarms</h1>
        <div className="page-tools">
          <button type="button" className="btn" onClick={reload} disabled={state.loading}>
            Refresh
          </button>
        </div>
      </div>
      <search className="filters" aria-label="Filter alarms">
        <label>
          <span>Status</span>
          <select value={status} onChange={(e) => setParam('status', e.target.value, 'active')}>
            {STATUS_OPTIONS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Priority</span>
          <select value={severity} onChange={(e) => setParam('severity', e.target.value, 'all')}>
            <option value="all">All priorities</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {SEVERITY_LABEL[s]}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Search</span>
          <input
            type="search"
            value={q}
            placeholder="Alarm title"
            onChange={(e) => setParam('q', e.target.value, '')}
          />
        </label>
      </search>
      {state.error ? <ErrorState message={state.error} onRetry={reload} /> : null}
      {!state.loaded && state.loading ? (
        <Loading what="Loading alarms" />
      ) : rows.length === 0 ? (
        <EmptyState
          title={status === 'active' ? 'No active alarms. All is normal.' : 'No alarms match these filters.'}
        />
      ) : (
        <div className="table-wrap">
          <table className="table alarms-table" aria-describedby="alarms-count">
            <caption id="alarms-count" className="caption">
              {rows.length} alarm{rows.length === 1 ? '' : 's'}; new ones appear here as they are raised
            </caption>
            <thead>
              <tr>
                <th scope="col">Priority</th>
                <th scope="col">Alarm</th>
                <th scope="col" className="hide-narrow">
                  Where
                </th>
                <th scope="col">State</th>
                <th scope="col" className="num hide-narrow">
                  Count
                </th>
                <th scope="col">Last</th>
                {can('alarms:ack') ? <th scope="col">Action</th> : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => {
                const { sensor, asset } = where(a.sensorId, a.assetId);
                return (
                  <tr
                    key={a.id}
                    className={`${a.status === 'open' ? 'row-unacked' : ''} ${a.fresh ? 'row-fresh' : ''} ${
                      a.status === 'resolved' || a.status === 'closed' ? 'row-cleared' : ''
                    }`}
                    data-alarm={a.id}
                    data-status={a.status}
                  >
                    <td>
                      <SeverityBadge severity={a.severity} />
                    </td>
                    <th scope="row">
                      <Link to={`/alarms/${a.id}`}>{a.title}</Link>
                      {a.fresh ? <span className="tag tag-new">New</span> : null}
                      {a.flapping ? <span className="tag">Flapping</span> : null}
                    </th>
                    <td className="hide-narrow">
                      {sensor ? <Link to={`/sensors/${sensor.id}`}>{sensor.name}</Link> : null}
                      {asset ? <span className="muted"> {asset.name}</span> : null}
                    </td>
                    <td>
                      <AlarmStatusText status={a.status} shelved={a.shelved} />
                    </td>
                    <td className="num hide-narrow">{a.occurrences}</td>
                    <td>
                      <time dateTime={a.lastSeenAt} title={formatFull(a.lastSeenAt)}>
                        {formatAgo(a.lastSeenAt, now)}
                      </time>
                    </td>
                    {can('alarms:ack') ? (
                      <td>
                        <AlarmActions alarm={a} compact />
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
