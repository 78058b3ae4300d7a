import { type KeyboardEvent, useEffect, useMemo, useRef, useState } from 'react';
import { useAlarmStore } from '../alarms/AlarmStore';
import { isActive, visibleAlarms } from '../alarms/alarm-list';
import { describeError } from '../api/errors';
import type {
  Aggregates,
  Anomaly,
  EffectiveDetectors,
  MaintenanceWindow,
  Page,
  Reading,
  Sensor,
} from '../api/types';
import { useCan, useNow, useQuery, useServices } from '../app/context';
import { Link } from '../app/router';
import { presenceOf, useLiveValues, useRegistry } from '../data/registry';
import { maintenanceHref } from '../maintenance/work-orders';
import { formatAgo, formatDateTime, formatFull, formatValue } from '../ui/format';
import { AlarmStatusText, SeverityBadge } from '../ui/Severity';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import {
  explain,
  fromBuckets,
  fromReadings,
  normalizeRules,
  type Resolution,
  resolutionFor,
  type Series,
  windowsIn,
  withLiveTail,
} from './chart-data';
import { EffectiveAlarmRules } from './EffectiveAlarmRules';
import { TrendChart } from './TrendChart';

const HOUR = 3_600_000;
const SPANS = [
  { label: '1 h', ms: HOUR },
  { label: '6 h', ms: 6 * HOUR },
  { label: '24 h', ms: 24 * HOUR },
  { label: '7 d', ms: 7 * 24 * HOUR },
  { label: '30 d', ms: 30 * 24 * HOUR },
];
const MIN_SPAN = 5 * 60_000;
const MAX_SPAN = 366 * 24 * HOUR;

interface Range {
  readonly from: number;
  readonly to: number;
  /** Following now: the window slides with the live readings. */
  readonly follow: boolean;
}

/** A value that settles: the latest after `ms` without change (zooming and panning fetch once). */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(t);
  }, [value, ms]);
  return settled;
}

function resolutionText(r: Resolution | undefined): string {
  if (!r) return '';
  if (r.kind === 'raw') return 'Raw readings';
  const names: Record<string, string> = {
    '1m': '1-minute',
    '5m': '5-minute',
    '15m': '15-minute',
    '1h': 'Hourly',
    '6h': '6-hour',
    '1d': 'Daily',
  };
  return `${names[r.bucket] ?? r.bucket} averages with the min–max band`;
}

/** One sensor: its live trend with history, limits, anomalies and maintenance, its alarms, CSV export. */
export function SensorPage({ id }: { id: string }) {
  const { api, stream } = useServices();
  const reg = useRegistry();
  const can = useCan();
  const { latest } = useLiveValues();
  const alarms = useAlarmStore();
  const now = useNow(5000);
  const known = reg.registry.sensorById.get(id);
  const fetched = useQuery(known || reg.loading ? null : `sensor:${id}`, (signal) =>
    api.get<Sensor>(`/api/v1/sensors/${id}`, { signal }),
  );
  const sensor = known ?? fetched.data;
  const type = sensor ? reg.registry.types.get(sensor.typeId) : undefined;
  const asset = sensor?.assetId ? reg.registry.assets.get(sensor.assetId) : undefined;
  const unit = type?.unit ?? '';

  const [range, setRange] = useState<Range>(() => {
    const to = Date.now();
    return { from: to - 6 * HOUR, to, follow: true };
  });
  const settled = useSettled(range, 350);
  const span = range.to - range.from;

  // Live readings of this sensor over the stream.
  const [live, setLive] = useState<{ ts: number; value: number }[]>([]);
  const [liveCount, setLiveCount] = useState(0);
  useEffect(() => {
    setLive([]);
    return stream.watchReadings([id], ([, ts, value]) => {
      setLive((prev) => (prev.some((r) => r.ts === ts) ? prev : [...prev.slice(-4999), { ts, value }]));
      setLiveCount((n) => n + 1);
    });
  }, [stream, id]);

  // Following: slide the window to now as time passes and readings arrive.
  useEffect(() => {
    if (!range.follow) return;
    const t = Math.max(now, live[live.length - 1]?.ts ?? 0);
    if (t - range.to > 2000)
      setRange((r) => (r.follow ? { from: t - (r.to - r.from), to: t, follow: true } : r));
  }, [now, live, range.follow, range.to]);

  const fetchKey = `${id}:${Math.round(settled.from / 1000)}:${Math.round(settled.to / 1000)}`;
  // In follow mode the window moves every few seconds; history is fetched again only when its span changes.
  const historyKey = settled.follow ? `${id}:follow:${span}` : fetchKey;
  const history = useQuery(sensor ? `history:${historyKey}` : null, async (signal) => {
    const from = new Date(settled.from).toISOString();
    const to = new Date(settled.to + (settled.follow ? 60_000 : 0)).toISOString();
    const res = resolutionFor(settled.to - settled.from);
    if (res.kind === 'raw') {
      const page = await api.get<Page<Reading>>(`/api/v1/sensors/${id}/readings`, {
        query: { from, to, order: 'asc', limit: 10000 },
        signal,
      });
      if (!page.nextCursor) return { series: fromReadings(page.items), res };
    }
    const bucket = res.kind === 'bucket' ? res.bucket : '1m';
    const agg = await api.get<Aggregates>(`/api/v1/sensors/${id}/aggregates`, {
      query: { bucket, from, to },
      signal,
    });
    return {
      series: fromBuckets(agg.buckets),
      res: { kind: 'bucket', bucket, ms: 0 } as Resolution,
    };
  });
  const anomalies = useQuery(sensor ? `anomalies:${historyKey}` : null, (signal) =>
    api.get<Page<Anomaly>>('/api/v1/anomalies', {
      query: {
        sensor: id,
        from: new Date(settled.from).toISOString(),
        to: new Date(settled.to + 60_000).toISOString(),
        limit: 1000,
      },
      signal,
    }),
  );
  const detectors = useQuery(sensor ? `detectors:${id}` : null, (signal) =>
    api.get<EffectiveDetectors>(`/api/v1/sensors/${id}/detectors/effective`, { signal }),
  );
  const windows = useQuery(sensor?.assetId ? `maint:${sensor.assetId}` : null, async (signal) => {
    const byAsset = await api.get<Page<MaintenanceWindow>>('/api/v1/maintenance-windows', {
      query: { assetId: sensor?.assetId, limit: 100 },
      signal,
    });
    const siteId = asset?.siteId;
    if (!siteId) return byAsset.items;
    const bySite = await api.get<Page<MaintenanceWindow>>('/api/v1/maintenance-windows', {
      query: { siteId, limit: 100 },
      signal,
    });
    return [...byAsset.items, ...bySite.items];
  });

  const lastSeries = useRef<Series | null>(null);
  if (history.data) lastSeries.current = history.data.series;
  const base = history.data?.series ?? lastSeries.current;
  const series = useMemo(() => (base ? withLiveTail(base, live) : null), [base, live]);
  const rules = useMemo(() => normalizeRules(detectors.data?.config.rules), [detectors.data]);
  const inView = useMemo(
    () =>
      (anomalies.data?.items ?? []).filter((a) => {
        const t = Date.parse(a.ts);
        return t >= range.from && t <= range.to;
      }),
    [anomalies.data, range.from, range.to],
  );
  const maintenance = useMemo(
    () => windowsIn(windows.data ?? [], range.from, range.to),
    [windows.data, range.from, range.to],
  );

  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);

  if (!sensor) {
    if (reg.loading || fetched.loading) return <Loading what="Loading the sensor" />;
    return (
      <section className="page">
        <h1>Sensor not found</h1>
        <ErrorState message={fetched.error ?? 'There is no such sensor in this tenant.'} />
        <Link to="/sensors">Back to sensors</Link>
      </section>
    );
  }

  const last = latest.get(id);
  const liveLast = live[live.length - 1];
  const current = liveLast && (!last || liveLast.ts > last.ts) ? liveLast : last;
  const presence = presenceOf(sensor, type, current, now);
  const sensorAlarms = visibleAlarms(alarms.state, {
    status: 'all',
    severity: 'all',
    q: '',
    sensorId: id,
  }).slice(0, 20);

  const setSpan = (ms: number) => {
    const to = Date.now();
    setRange({ from: to - ms, to, follow: true });
  };
  const zoomTo = (from: number, to: number) => {
    const mid = (from + to) / 2;
    const s = Math.min(MAX_SPAN, Math.max(MIN_SPAN, to - from));
    const end = Math.min(Date.now(), mid + s / 2);
    setRange({ from: end - s, to: end, follow: false });
  };
  const pan = (fraction: number) => {
    const shift = span * fraction;
    const to = Math.min(Date.now(), range.to + shift);
    setRange({ from: to - span, to, follow: to >= Date.now() - 1000 && range.follow && fraction > 0 });
  };
  const zoom = (factor: number) => {
    const mid = (range.from + range.to) / 2;
    zoomTo(mid - (span * factor) / 2, mid + (span * factor) / 2);
  };
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const keys: Record<string, () => void> = {
      ArrowLeft: () => pan(-0.25),
      ArrowRight: () => pan(0.25),
      '+': () => zoom(0.5),
      '=': () => zoom(0.5),
      '-': () => zoom(2),
      End: () => setSpan(span),
    };
    const fn = keys[e.key];
    if (fn) {
      e.preventDefault();
      fn();
    }
  };

  const exportCsv = async () => {
    setExporting(true);
    setExportError(null);
    try {
      const blob = await api.blob(`/api/v1/sensors/${id}/readings`, {
        query: {
          format: 'csv',
          from: new Date(range.from).toISOString(),
          to: new Date(range.to).toISOString(),
        },
        accept: 'text/csv',
      });
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `${sensor.key.replace(/[^A-Za-z0-9._-]+/g, '_')}_${new Date(range.from).toISOString().slice(0, 16)}.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setExportError(describeError(err));
    } finally {
      setExporting(false);
    }
  };

  const label = `Trend of ${sensor.name} from ${formatFull(range.from)} to ${formatFull(range.to)}${
    current ? `; latest ${formatValue(current.value, unit)}` : ''
  }; ${inView.length} anomalies in view. Arrow keys pan, plus and minus zoom.`;

  return (
    <section
      className="page"
      aria-labelledby="sensor-title"
      data-testid="sensor-page"
      data-live-count={liveCount}
    >
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link to="/sensors">Sensors</Link>
        {asset ? (
          <>
            {' › '}
            <Link to={`/sensors?asset=${asset.id}`}>{asset.name}</Link>
          </>
        ) : null}
      </nav>
      <div className="page-head">
        <div>
          <h1 id="sensor-title">{sensor.name}</h1>
          <p className="muted">
            <span className="key">{sensor.key}</span> · {type?.name ?? 'Unknown type'}
            {unit ? ` (${unit})` : ''}
            {asset ? (
              <>
                {' · '}
                <Link to={maintenanceHref({ asset: asset.id })}>Maintenance log of {asset.name}</Link>
              </>
            ) : null}
          </p>
        </div>
        <div className="current-value" data-testid="current-value">
          <span className="big">{formatValue(current?.value, unit)}</span>
          <span className={`presence presence-${presence}`}>
            <span className="presence-dot" aria-hidden="true" />
            {presence === 'online'
              ? 'Online'
              : presence === 'offline'
                ? 'Offline'
                : presence === 'inactive'
                  ? 'Inactive'
                  : 'No data'}
            {current ? ` · ${formatAgo(current.ts, now)}` : ''}
          </span>
        </div>
      </div>

      <div className="toolbar" role="toolbar" aria-label="Time range">
        <div className="segmented">
          {SPANS.map((s) => (
            <button
              key={s.label}
              type="button"
              className="btn"
              aria-pressed={range.follow && Math.abs(span - s.ms) < 1000}
              onClick={() => setSpan(s.ms)}
            >
              {s.label}
            </button>
          ))}
        </div>
        <button type="button" className="btn" onClick={() => pan(-0.5)} aria-label="Earlier">
          ◀ Earlier
        </button>
        <button
          type="button"
          className="btn"
          onClick={() => pan(0.5)}
          disabled={range.follow}
          aria-label="Later"
        >
          Later ▶
        </button>
        <button type="button" className="btn" onClick={() => zoom(2)}>
          Zoom out
        </button>
        <button type="button" className="btn" aria-pressed={range.follow} onClick={() => setSpan(span)}>
          Live
        </button>
        <button type="button" className="btn" onClick={() => void exportCsv()} disabled={exporting}>
          {exporting ? 'Exporting…' : 'Export CSV'}
        </button>
      </div>
      <p className="muted small" aria-live="polite">
        {formatDateTime(range.from)} – {formatDateTime(range.to)} · {resolutionText(history.data?.res)}
        {history.loading ? ' · loading…' : ''} · drag across the chart to zoom
      </p>
      {exportError ? <ErrorState message={exportError} /> : null}
      {history.error ? <ErrorState message={history.error} onRetry={history.reload} /> : null}
      <div className="panel chart-panel">
        {series ? (
          <TrendChart
            series={series}
            from={range.from}
            to={range.to}
            unit={unit}
            rules={rules}
            anomalies={inView}
            maintenance={maintenance}
            label={label}
            onZoom={zoomTo}
            onKeyDown={onKey}
          />
        ) : (
          <Loading what="Loading the trend" />
        )}
        <p className="legend">
          <span>
            <span className="swatch swatch-normal" aria-hidden="true" /> Normal operating range
          </span>
          <span>
            <span className="swatch swatch-limit" aria-hidden="true" /> Limits
          </span>
          <span>◆ Anomaly · ▲ Rule raised · △ Cleared</span>
          <span>
            <span className="swatch swatch-maint" aria-hidden="true" /> Maintenance
          </span>
        </p>
        {series && series.t.length === 0 && !history.loading ? (
          <EmptyState title="No readings in this window.">Pick a longer range or go back in time.</EmptyState>
        ) : null}
      </div>

      <div className="grid-2">
        <section className="panel" aria-labelledby="anomalies-title">
          <h2 id="anomalies-title">Anomalies in view</h2>
          {anomalies.error ? (
            <ErrorState message={anomalies.error} onRetry={anomalies.reload} />
          ) : inView.length === 0 ? (
            <EmptyState title={anomalies.loading ? 'Loading…' : 'None in this window.'} />
          ) : (
            <ul className="compact-list anomaly-list">
              {[...inView]
                .reverse()
                .slice(0, 50)
                .map((a) => (
                  <li key={a.id}>
                    <time dateTime={a.ts} title={formatFull(a.ts)}>
                      {formatDateTime(a.ts)}
                    </time>
                    {a.severity ? <SeverityBadge severity={a.severity} compact /> : null}
                    <span>{explain(a, unit)}</span>
                  </li>
                ))}
            </ul>
          )}
          {rules.length > 0 ? (
            <>
              <h3 className="subhead">Limits</h3>
              <ul className="compact-list">
                {rules.map((r) => (
                  <li key={r.id}>
                    {r.severity ? <SeverityBadge severity={r.severity} compact /> : null}
                    <span>
                      <strong>{r.id}</strong>: {r.when} {formatValue(r.value, unit)}
                      {r.forS ? ` for ${Math.round(r.forS / 60)} min` : ''}
                      {r.clear !== undefined && r.clear !== r.value
                        ? `, clears past ${formatValue(r.clear, unit)}`
                        : ''}
                    </span>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </section>
        <section className="panel" aria-labelledby="sensor-alarms-title">
          <h2 id="sensor-alarms-title">Alarms</h2>
          {sensorAlarms.length === 0 ? (
            <EmptyState title="No alarms for this sensor in the last 30 days." />
          ) : (
            <ul className="compact-list">
              {sensorAlarms.map((a) => (
                <li key={a.id} className={isActive(a) ? undefined : 'muted'}>
                  <SeverityBadge severity={a.severity} compact />
                  <Link to={`/alarms/${a.id}`}>{a.title}</Link>
                  <AlarmStatusText status={a.status} shelved={a.shelved} />
                  <span className="muted">{formatAgo(a.lastSeenAt, now)}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      {can('alarms:read') ? (
        <div className="grid-2">
          <EffectiveAlarmRules sensorId={id} />
        </div>
      ) : null}
    </section>
  );
}
