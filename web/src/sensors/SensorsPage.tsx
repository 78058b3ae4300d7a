import { useMemo } from 'react';
import { useAlarmStore } from '../alarms/AlarmStore';
import { isActive, SEVERITY_RANK } from '../alarms/alarm-list';
import type { Severity } from '../api/types';
import { useNow } from '../app/context';
import { Link, useRouter } from '../app/router';
import { presenceOf, type SensorPresence, useLiveValues, useRegistry } from '../data/registry';
import { maintenanceHref } from '../maintenance/work-orders';
import { formatAgo, formatValue } from '../ui/format';
import { SeverityBadge } from '../ui/Severity';
import { EmptyState, ErrorState, Loading } from '../ui/States';

const PRESENCE_LABEL: Record<SensorPresence, string> = {
  online: 'Online',
  offline: 'Offline',
  'no-data': 'No data',
  inactive: 'Inactive',
};

type StateFilter = 'all' | 'online' | 'offline' | 'alarm';

/** Search and filter the sensors, with their live value, presence and alarm state. */
export function SensorsPage() {
  const { location, navigate } = useRouter();
  const { registry, loading, error, reload, data } = useRegistry();
  const { latest } = useLiveValues();
  const { state: alarms } = useAlarmStore();
  const now = useNow(5000);
  const q = location.search.get('q') ?? '';
  const type = location.search.get('type') ?? '';
  const asset = location.search.get('asset') ?? '';
  const stateFilter = (location.search.get('state') ?? 'all') as StateFilter;

  const setParam = (name: string, value: string) => {
    const next = new URLSearchParams(location.search);
    if (value && value !== 'all') next.set(name, value);
    else next.delete(name);
    const qs = next.toString();
    navigate(`/sensors${qs ? `?${qs}` : ''}`, { replace: true });
  };

  const worstBySensor = useMemo(() => {
    const out = new Map<string, Severity>();
    for (const a of Object.values(alarms.byId)) {
      if (!isActive(a) || !a.sensorId) continue;
      const prev = out.get(a.sensorId);
      if (!prev || (SEVERITY_RANK[a.severity] ?? 0) > (SEVERITY_RANK[prev] ?? 0))
        out.set(a.sensorId, a.severity);
    }
    return out;
  }, [alarms.byId]);

  const rows = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return registry.sensors
      .map((s) => {
        const t = registry.types.get(s.typeId);
        const last = latest.get(s.id);
        return { s, t, last, presence: presenceOf(s, t, last, now), alarm: worstBySensor.get(s.id) };
      })
      .filter(
        ({ s, presence, alarm }) =>
          (!needle || s.key.toLowerCase().includes(needle) || s.name.toLowerCase().includes(needle)) &&
          (!type || s.typeId === type) &&
          (!asset || s.assetId === asset) &&
          (stateFilter === 'all' ||
            (stateFilter === 'alarm'
              ? alarm !== undefined
              : stateFilter === 'offline'
                ? presence !== 'online'
                : presence === 'online')),
      )
      .sort(
        (a, b) =>
          (SEVERITY_RANK[b.alarm ?? ''] ?? 0) - (SEVERITY_RANK[a.alarm ?? ''] ?? 0) ||
          a.s.name.localeCompare(b.s.name),
      );
  }, [registry, latest, now, worstBySensor, q, type, asset, stateFilter]);

  const assetName = asset ? registry.assets.get(asset)?.name : undefined;

  return (
    <section className="page" aria-labelledby="sensors-title">
      <div className="page-head">
        <h1 id="sensors-title">Sensors{assetName ? ` of ${assetName}` : ''}</h1>
        {assetName ? (
          <div className="page-tools">
            <Link to={maintenanceHref({ asset })}>Maintenance log of {assetName}</Link>
          </div>
        ) : null}
      </div>
      <search className="filters" aria-label="Filter sensors">
        <label>
          <span>Search</span>
          <input
            type="search"
            value={q}
            placeholder="Name or key"
            onChange={(e) => setParam('q', e.target.value)}
          />
        </label>
        <label>
          <span>Type</span>
          <select value={type} onChange={(e) => setParam('type', e.target.value)}>
            <option value="">All types</option>
            {[...registry.types.values()].map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Asset</span>
          <select value={asset} onChange={(e) => setParam('asset', e.target.value)}>
            <option value="">All assets</option>
            {[...registry.assets.values()].map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>State</span>
          <select value={stateFilter} onChange={(e) => setParam('state', e.target.value)}>
            <option value="all">Any state</option>
            <option value="alarm">In alarm</option>
            <option value="online">Online</option>
            <option value="offline">Offline or no data</option>
          </select>
        </label>
      </search>
      {error ? <ErrorState message={error} onRetry={reload} /> : null}
      {loading && !data ? (
        <Loading what="Loading sensors" />
      ) : rows.length === 0 ? (
        <EmptyState
          title={
            registry.sensors.length === 0 ? 'No sensors registered yet.' : 'No sensor matches these filters.'
          }
        >
          {registry.sensors.length > 0 ? (
            <button type="button" className="btn" onClick={() => navigate('/sensors', { replace: true })}>
              Clear filters
            </button>
          ) : null}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-describedby="sensors-count">
            <caption id="sensors-count" className="caption">
              {rows.length} of {registry.sensors.length} sensors
            </caption>
            <thead>
              <tr>
                <th scope="col">Sensor</th>
                <th scope="col" className="hide-narrow">
                  Type
                </th>
                <th scope="col" className="hide-narrow">
                  Asset
                </th>
                <th scope="col" className="num">
                  Latest
                </th>
                <th scope="col" className="hide-narrow">
                  Updated
                </th>
                <th scope="col">State</th>
                <th scope="col">Alarm</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ s, t, last, presence, alarm }) => (
                <tr key={s.id} data-sensor={s.key}>
                  <th scope="row">
                    <Link to={`/sensors/${s.id}`}>{s.name}</Link>
                    <span className="key">{s.key}</span>
                  </th>
                  <td className="hide-narrow">{t?.name ?? '—'}</td>
                  <td className="hide-narrow">{registry.assets.get(s.assetId ?? '')?.name ?? '—'}</td>
                  <td className="num">{formatValue(last?.value, t?.unit)}</td>
                  <td className="hide-narrow">{last ? formatAgo(last.ts, now) : '—'}</td>
                  <td>
                    <span className={`presence presence-${presence}`}>
                      <span className="presence-dot" aria-hidden="true" />
                      {PRESENCE_LABEL[presence]}
                    </span>
                  </td>
                  <td>
                    {alarm ? <SeverityBadge severity={alarm} /> : <span className="muted">Normal</span>}
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
