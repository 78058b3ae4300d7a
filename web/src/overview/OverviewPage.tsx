import { type ReactNode, useEffect, useMemo, useRef } from 'react';
import { useAlarmStore } from '../alarms/AlarmStore';
import { SEVERITIES, severityCounts, visibleAlarms, worstByAsset } from '../alarms/alarm-list';
import type { Incident, Severity } from '../api/types';
import { useLiveStatus, useNow, useQuery, useServices } from '../app/context';
import { Link } from '../app/router';
import { presenceOf, useLiveValues, useRegistry } from '../data/registry';
import { formatAgo, formatRate, formatTime } from '../ui/format';
import { AlarmStatusText, SEVERITY_LABEL, SeverityBadge, SeverityShape } from '../ui/Severity';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import { Schematic } from './Schematic';

function Tile({
  label,
  value,
  detail,
  alert,
  to,
  testId,
}: {
  label: string;
  value: string | number;
  detail?: ReactNode;
  alert?: boolean;
  to?: string;
  testId: string;
}) {
  const body = (
    <>
      <span className="tile-label">{label}</span>
      <span className="tile-value">{value}</span>
      {detail ? <span className="tile-detail">{detail}</span> : null}
    </>
  );
  return (
    <li className={`tile ${alert ? 'tile-alert' : ''}`} data-testid={testId}>
      {to ? (
        <Link to={to} className="tile-body tile-link">
          {body}
        </Link>
      ) : (
        <div className="tile-body">{body}</div>
      )}
    </li>
  );
}

/** Active alarms per priority as bars: unacknowledged solid, acknowledged hatched; text says it all too. */
function SeverityChart({ counts }: { counts: Record<Severity, { total: number; unacked: number }> }) {
  const max = Math.max(1, ...SEVERITIES.map((s) => counts[s].total));
  return (
    <ul className="sev-chart" aria-label="Active alarms by priority">
      {SEVERITIES.map((s) => {
        const c = counts[s];
        return (
          <li key={s} className="sev-chart-row">
            <span className="sev-chart-label">
              <SeverityShape severity={s} />
              {SEVERITY_LABEL[s]}
            </span>
            <svg className="sev-chart-bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
              <rect className="bar-track" x="0" y="0" width="100" height="10" />
              <rect
                className={`bar-acked sev-fill-${s}`}
                x="0"
                y="0"
                width={(c.total / max) * 100}
                height="10"
              />
              <rect
                className={`bar-unacked sev-fill-${s}`}
                x="0"
                y="0"
                width={(c.unacked / max) * 100}
                height="10"
              />
            </svg>
            <span className="sev-chart-count">
              {c.total}
              {c.unacked > 0 ? <span className="muted"> ({c.unacked} unack.)</span> : null}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

/** The whole network at a glance: KPIs, alarm distribution, the schematic, and what needs attention. */
export function OverviewPage() {
  const { api, stream } = useServices();
  const reg = useRegistry();
  const live = useLiveValues();
  const alarms = useAlarmStore();
  const { lastMessageAt } = useLiveStatus();
  const now = useNow(5000);
  const incidents = useQuery('incidents:overview', (signal) =>
    api.get<{ items: Incident[] }>('/api/v1/incidents', { query: { limit: 200 }, signal }),
  );

  // Incident changes arrive live; reload the (small) list when one does, at most every 2 s.
  const reloadIncidents = incidents.reload;
  const pendingReload = useRef<number | undefined>(undefined);
  useEffect(() => {
    const stop = stream.follow('incidents', {
      event: () => {
        if (pendingReload.current !== undefined) return;
        pendingReload.current = window.setTimeout(() => {
          pendingReload.current = undefined;
          reloadIncidents();
        }, 2000);
      },
      resync: reloadIncidents,
    });
    return () => {
      stop();
      window.clearTimeout(pendingReload.current);
      pendingReload.current = undefined;
    };
  }, [stream, reloadIncidents]);

  const { registry } = reg;
  const presence = useMemo(() => {
    const out = { online: 0, offline: 0, noData: 0, inactive: 0 };
    for (const s of registry.sensors) {
      const p = presenceOf(s, registry.types.get(s.typeId), live.latest.get(s.id), now);
      if (p === 'online') out.online++;
      else if (p === 'offline') out.offline++;
      else if (p === 'no-data') out.noData++;
      else out.inactive++;
    }
    return out;
  }, [registry, live.latest, now]);

  const counts = severityCounts(alarms.state);
  const activeTotal = SEVERITIES.reduce((n, s) => n + counts[s].total, 0);
  const unackedTotal = SEVERITIES.reduce((n, s) => n + counts[s].unacked, 0);
  const worst = useMemo(
    () => worstByAsset(alarms.state, (id) => registry.sensorById.get(id)?.assetId),
    [alarms.state, registry.sensorById],
  );
  const openIncidents = (incidents.data?.items ?? []).filter(
    (i) => i.status === 'open' || i.status === 'investigating',
  );
  const attention = visibleAlarms(alarms.state, { status: 'open', severity: 'all', q: '' }).slice(0, 6);
  const lastUpdate = Math.max(lastMessageAt, live.updatedAt, reg.loadedAt, incidents.loadedAt);

  const refresh = () => {
    reg.reload();
    live.reload();
    alarms.reload();
    incidents.reload();
  };

  return (
    <section className="page" aria-labelledby="overview-title">
      <div className="page-head">
        <h1 id="overview-title">Overview</h1>
        <div className="page-tools">
          <span className="muted" data-testid="last-update">
            {lastUpdate > 0 ? <>Updated {formatTime(lastUpdate)}</> : 'Not updated yet'}
          </span>
          <button
            type="button"
            className="btn"
            onClick={refresh}
            disabled={reg.loading || alarms.state.loading}
          >
            Refresh
          </button>
        </div>
      </div>
      {reg.error ? <ErrorState message={reg.error} onRetry={reg.reload} /> : null}

      <ul className="tiles" aria-label="Key figures">
        <Tile
          testId="kpi-sensors"
          label="Sensors online"
          value={reg.loading && !reg.data ? '…' : `${presence.online} / ${registry.sensors.length}`}
          alert={presence.offline > 0}
          to="/sensors?state=offline"
          detail={
            <>
              <span className={presence.offline > 0 ? 'text-alert' : undefined}>
                {presence.offline} offline
              </span>
              {presence.noData > 0 ? `, ${presence.noData} without data` : ''}
              {presence.inactive > 0 ? `, ${presence.inactive} inactive` : ''}
            </>
          }
        />
        <Tile
          testId="kpi-alarms"
          label="Active alarms"
          value={alarms.state.loaded ? activeTotal : '…'}
          alert={unackedTotal > 0}
          to="/alarms"
          detail={
            <span className="kpi-sevs">
              {SEVERITIES.filter((s) => counts[s].total > 0).map((s) => (
                <span key={s} className="kpi-sev">
                  <SeverityShape severity={s} size={11} />
                  {counts[s].total} {SEVERITY_LABEL[s].toLowerCase()}
                </span>
              ))}
              {activeTotal === 0 ? 'None active' : null}
            </span>
          }
        />
        <Tile
          testId="kpi-rate"
          label="Readings per second"
          value={formatRate(live.perSecond)}
          detail={live.perSecond === null ? 'not known yet' : 'accepted, last minute'}
        />
        <Tile
          testId="kpi-incidents"
          label="Open incidents"
          value={incidents.data ? openIncidents.length : '…'}
          alert={openIncidents.length > 0}
          to="/incidents"
          detail={
            openIncidents.length > 0
              ? `${openIncidents.filter((i) => i.status === 'investigating').length} being investigated`
              : 'None open'
          }
        />
      </ul>

      <div className="grid-2">
        <section className="panel" aria-labelledby="dist-title">
          <h2 id="dist-title">Alarm priorities</h2>
          {alarms.state.error ? (
            <ErrorState message={alarms.state.error} onRetry={alarms.reload} />
          ) : (
            <SeverityChart counts={counts} />
          )}
          <h3 className="subhead">Needs acknowledging</h3>
          {attention.length === 0 ? (
            <EmptyState title="No unacknowledged alarms." />
          ) : (
            <ul className="compact-list">
              {attention.map((a) => (
                <li key={a.id}>
                  <SeverityBadge severity={a.severity} compact />
                  <Link to={`/alarms/${a.id}`}>{a.title}</Link>
                  <span className="muted">
                    {registry.sensorById.get(a.sensorId ?? '')?.name ??
                      registry.assets.get(a.assetId ?? '')?.name ??
                      ''}
                  </span>
                  <AlarmStatusText status={a.status} shelved={a.shelved} />
                  <span className="muted">{formatAgo(a.lastSeenAt, now)}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="panel" aria-labelledby="schematic-title">
          <h2 id="schematic-title">Network</h2>
          {reg.loading && !reg.data ? (
            <Loading what="Loading the network" />
          ) : registry.assets.size === 0 ? (
            <EmptyState title="No assets with a location yet.">
              Assets with GeoJSON geometry appear here as a schematic.
            </EmptyState>
          ) : (
            <>
              <Schematic
                assets={[...registry.assets.values()]}
                worst={worst}
                siteName={(id) => (id ? registry.sites.get(id)?.name : undefined)}
              />
              <p className="legend" aria-hidden="true">
                {SEVERITIES.slice(0, 4).map((s) => (
                  <span key={s}>
                    <SeverityShape severity={s} size={11} /> {SEVERITY_LABEL[s]}
                  </span>
                ))}
                <span>Grey: normal</span>
              </p>
            </>
          )}
        </section>
      </div>
    </section>
  );
}
