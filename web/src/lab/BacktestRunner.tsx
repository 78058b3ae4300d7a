import { useEffect, useMemo, useRef, useState } from 'react';
import { FormError, SelectField, TextField, useSubmission } from '../admin/forms';
import { JsonEditor, parseJson } from '../admin/JsonEditor';
import type { Page } from '../api/types';
import { useCan, useQuery, useServices } from '../app/context';
import { Link } from '../app/router';
import { useRegistry } from '../data/registry';
import { formatFull } from '../ui/format';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import {
  ACTIVE,
  applyLabMessage,
  type BacktestRun,
  describeExplanation,
  describeProgress,
  type LiveRun,
  type LogLine,
  mergeLog,
  type PassSummary,
} from './backtest-log';

const DAY = 86_400_000;
/** `datetime-local` wants local time without a zone. */
const localInput = (t: number) => {
  const d = new Date(t - new Date(t).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};
const toIso = (local: string) => (local ? new Date(local).toISOString() : undefined);

function SummaryLine({ label, s }: { label: string; s: PassSummary }) {
  const detectors = Object.entries(s.byDetector)
    .map(([d, n]) => `${d} ${n}`)
    .join(' · ');
  return (
    <tr>
      <th scope="row">{label}</th>
      <td className="num">{s.episodes}</td>
      <td className="num">{s.anomalyRows}</td>
      <td className="num">{s.maxScore.toFixed(2)}</td>
      <td className="small hide-narrow">{detectors || '—'}</td>
    </tr>
  );
}

/** One run: progress, outcome, the live log and the episodes found. */
function RunView({
  runId,
  live,
  resyncs,
  onChanged,
}: {
  runId: string;
  live: LiveRun | undefined;
  /** Bumped when the live stream could not resume: read the stored log again. */
  resyncs: number;
  onChanged: () => void;
}) {
  const { api } = useServices();
  const can = useCan();
  const { registry } = useRegistry();
  const run = useQuery(`backtest:${runId}`, (signal) =>
    api.get<BacktestRun>(`/api/v1/backtests/${runId}`, { signal }),
  );
  const [stored, setStored] = useState<readonly LogLine[]>([]);
  const cancel = useSubmission();
  const logRef = useRef<HTMLOListElement>(null);
  const reloadRun = run.reload;

  // The stored log, merged with the live lines by sequence number (each shown once).
  useEffect(() => {
    const ctrl = new AbortController();
    api
      .get<{ items: LogLine[] }>(`/api/v1/backtests/${runId}/log`, {
        query: { limit: 1000 },
        signal: ctrl.signal,
      })
      .then((r) => setStored((l) => mergeLog(l, r.items)))
      .catch(() => undefined);
    if (resyncs > 0) reloadRun();
    return () => ctrl.abort();
  }, [api, runId, resyncs, reloadRun]);
  const lines = useMemo(() => mergeLog(stored, live?.lines ?? []), [stored, live?.lines]);

  // It ended while shown: read its outcome and summary.
  const liveStatus = live?.status ?? null;
  useEffect(() => {
    if (liveStatus !== null && !ACTIVE.has(liveStatus)) {
      reloadRun();
      onChanged();
    }
  }, [liveStatus, reloadRun, onChanged]);

  useEffect(() => {
    const el = logRef.current;
    if (el && lines.length > 0) el.scrollTop = el.scrollHeight;
  }, [lines]);

  if (run.error) return <ErrorState message={run.error} onRetry={run.reload} />;
  const r = run.data;
  if (!r) return <Loading what="Loading the backtest" />;
  const current = ACTIVE.has(r.status) ? (liveStatus ?? r.status) : r.status;
  const active = ACTIVE.has(current);
  const shown = { status: current, ...(live?.progress ?? { rowsDone: r.rowsDone, rowsTotal: r.rowsTotal }) };
  const sensor = r.scope === 'sensor' ? registry.sensorById.get(r.targetId) : undefined;
  const asset = r.scope === 'asset' ? registry.assets.get(r.targetId) : undefined;
  const s = r.summary;
  // An asset's rows hold several sensors' readings.
  const unit = r.scope === 'asset' ? 'rows' : 'readings';
  const stopRun = async () => {
    await cancel.run(() => api.post(`/api/v1/backtests/${r.id}/cancel`));
    run.reload();
    onChanged();
  };
  return (
    <section className="panel" aria-labelledby="run-title" data-backtest={r.id} data-status={current}>
      <div className="page-head">
        <h3 id="run-title">
          {sensor ? (
            <Link to={`/sensors/${sensor.id}`}>{sensor.name}</Link>
          ) : asset ? (
            <Link to={`/sensors?asset=${asset.id}`}>{asset.name}</Link>
          ) : (
            r.targetId
          )}{' '}
          <span className="muted small">
            {r.params.from ? formatFull(r.params.from) : ''} – {r.params.to ? formatFull(r.params.to) : ''}
            {r.params.config ? ' · candidate document' : ''}
          </span>
        </h3>
        {active && can('detection:write') ? (
          <button
            type="button"
            className="btn"
            disabled={cancel.busy || r.cancelRequested}
            onClick={() => void stopRun()}
          >
            {r.cancelRequested ? 'Stopping…' : 'Cancel'}
          </button>
        ) : null}
      </div>
      <FormError message={cancel.message} />
      <p>
        <strong className={current === 'failed' ? 'text-alert' : undefined}>{current}</strong>
        {r.error ? <span> — {r.error}</span> : null}
      </p>
      {active ? (
        <label className="progress-row">
          <span>{describeProgress(shown, unit)}</span>
          <progress
            max={Math.max(1, shown.rowsTotal)}
            value={shown.rowsDone}
            aria-label="Backtest progress"
          />
        </label>
      ) : null}
      <h4 id="log-title">Log</h4>
      <ol className="run-log" role="log" aria-labelledby="log-title" aria-live="polite" ref={logRef}>
        {lines.map((l) => (
          <li key={l.seq} className={`log-${l.level}`}>
            <time dateTime={l.at} className="muted">
              {new Date(l.at).toLocaleTimeString()}
            </time>{' '}
            <span>{l.message}</span>
          </li>
        ))}
      </ol>
      {s ? (
        <>
          <h4>Summary</h4>
          <p className="small">
            {s.rows.toLocaleString()} {unit} scored ({formatFull(s.from)} – {formatFull(s.to)}) at threshold{' '}
            {s.threshold} in {(s.durationMs / 1000).toFixed(1)} s. The live pipeline stored{' '}
            {s.storedAnomalies} anomal{s.storedAnomalies === 1 ? 'y' : 'ies'} in this window.
          </p>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Documents</th>
                  <th scope="col" className="num">
                    Episodes
                  </th>
                  <th scope="col" className="num">
                    Anomalous {unit}
                  </th>
                  <th scope="col" className="num">
                    Top score
                  </th>
                  <th scope="col" className="hide-narrow">
                    Episodes by detector
                  </th>
                </tr>
              </thead>
              <tbody>
                <SummaryLine label={r.params.config ? 'Candidate' : 'Configured'} s={s} />
                {s.current ? <SummaryLine label="Configured" s={s.current} /> : null}
              </tbody>
            </table>
          </div>
          <h4>Anomaly episodes</h4>
          {(r.episodes ?? []).length === 0 ? (
            <EmptyState title="No anomalies in this window." />
          ) : (
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">From</th>
                    <th scope="col" className="hide-narrow">
                      To
                    </th>
                    <th scope="col" className="num">
                      Peak
                    </th>
                    <th scope="col">Detectors</th>
                    <th scope="col" className="hide-narrow">
                      Why
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {(r.episodes ?? []).slice(0, 100).map((e) => (
                    <tr key={e.from}>
                      <td>{formatFull(e.from)}</td>
                      <td className="hide-narrow">{formatFull(e.to)}</td>
                      <td className="num">
                        {e.peakScore.toFixed(2)}{' '}
                        {e.peakValue === null ? null : <span className="muted small">at {e.peakValue}</span>}
                      </td>
                      <td>{e.detectors.join(', ') || '—'}</td>
                      <td className="hide-narrow small explain">{describeExplanation(e.explanation)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {s.episodes > 100 ? (
            <p className="muted small">The first 100 of {s.episodes} episodes are listed.</p>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

/**
 * The backtest runner: the production detectors over a sensor's stored history, with its
 * configured documents or a candidate one, run on the server; the log streams in live over the
 * WebSocket's `lab` channel.
 */
export function BacktestRunner({ target }: { target: string }) {
  const { api, stream } = useServices();
  const can = useCan();
  const write = can('detection:write');
  const { registry } = useRegistry();
  const targetId = target.split(':')[1] ?? '';
  const runs = useQuery(`backtests:${targetId}`, (signal) =>
    api.get<Page<BacktestRun>>('/api/v1/backtests', {
      query: { targetId: targetId || undefined, limit: 20 },
      signal,
    }),
  );
  const [selected, setSelected] = useState<string | null>(null);
  const [form, setForm] = useState(() => ({
    target,
    from: localInput(Date.now() - 7 * DAY),
    to: localInput(Date.now()),
    threshold: '',
    config: '',
    compare: true,
  }));
  useEffect(() => setForm((f) => ({ ...f, target: target || f.target })), [target]);
  const start = useSubmission(['sensorId', 'assetId', 'from', 'to', 'threshold', 'config']);
  const [scope, id] = form.target.split(':') as [string, string | undefined];
  const refresh = runs.reload;
  const [live, setLive] = useState<ReadonlyMap<string, LiveRun>>(new Map());
  const [resyncs, setResyncs] = useState(0);

  // Followed while the runner is open, so a run started here streams from its first line.
  useEffect(
    () =>
      stream.follow('lab', {
        event: (m) => setLive((runs) => applyLabMessage(runs, m)),
        resync: () => setResyncs((n) => n + 1),
      }),
    [stream],
  );

  const submit = async () => {
    const doc = form.config.trim() === '' ? null : parseJson(form.config);
    if (doc?.error) return;
    const res = await start.run(() =>
      api.post<BacktestRun>('/api/v1/backtests', {
        ...(scope === 'asset' ? { assetId: id } : { sensorId: id }),
        from: toIso(form.from),
        to: toIso(form.to),
        ...(form.threshold ? { threshold: Number(form.threshold) } : {}),
        ...(doc ? { config: doc.value, compare: form.compare } : {}),
      }),
    );
    if (res.ok) {
      setSelected(res.value.id);
      refresh();
    }
  };

  const items = runs.data?.items ?? [];
  return (
    <section className="panel" aria-labelledby="backtests-title">
      <h2 id="backtests-title">Backtests</h2>
      <p className="muted small">
        Scores a sensor’s or an asset’s stored history with the production detectors (an asset: its sensors
        side by side, each with its own documents, and its asset rules), each reading only with what came
        before it. Try a candidate detector document here before storing it.
      </p>
      {write ? (
        <form
          className="backtest-form"
          aria-label="Start a backtest"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <SelectField
            label="Sensor or asset to backtest"
            required
            value={form.target}
            onChange={(v) => setForm({ ...form, target: v })}
            error={start.field('sensorId') ?? start.field('assetId')}
            options={[{ value: '', label: 'Choose a sensor or an asset' }]}
          >
            <optgroup label="Sensors">
              {registry.sensors.map((x) => (
                <option key={x.id} value={`sensor:${x.id}`}>
                  {x.name}
                </option>
              ))}
            </optgroup>
            <optgroup label="Assets (their sensors together, with the asset rules)">
              {[...registry.assets.values()].map((x) => (
                <option key={x.id} value={`asset:${x.id}`}>
                  {x.name}
                </option>
              ))}
            </optgroup>
          </SelectField>
          <TextField
            label="From"
            type="datetime-local"
            value={form.from}
            onChange={(v) => setForm({ ...form, from: v })}
            error={start.field('from')}
          />
          <TextField
            label="To"
            type="datetime-local"
            value={form.to}
            onChange={(v) => setForm({ ...form, to: v })}
            error={start.field('to')}
          />
          <TextField
            label="Threshold"
            type="number"
            min={0.05}
            max={1}
            step="any"
            placeholder="the document’s"
            value={form.threshold}
            onChange={(v) => setForm({ ...form, threshold: v })}
            error={start.field('threshold')}
          />
          <JsonEditor
            label={`Candidate detector document (optional; in place of the ${scope === 'asset' ? 'asset' : 'sensor'}’s own; empty: the configured documents)`}
            value={form.config}
            onChange={(v) => setForm({ ...form, config: v })}
            error={start.error}
            rows={6}
          />
          <label className="check">
            <input
              type="checkbox"
              checked={form.compare}
              onChange={(e) => setForm({ ...form, compare: e.target.checked })}
            />{' '}
            Compare the candidate with the configured documents
          </label>
          <div className="toolbar">
            <button type="submit" className="btn btn-primary" disabled={start.busy || !form.target}>
              {start.busy ? 'Starting…' : 'Run backtest'}
            </button>
          </div>
          <FormError message={start.message} />
        </form>
      ) : null}
      {runs.error ? (
        <ErrorState message={runs.error} onRetry={runs.reload} />
      ) : !runs.data ? (
        <Loading what="Loading backtests" />
      ) : items.length === 0 ? (
        <EmptyState title="No backtests yet.">{write ? 'Run one above.' : null}</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Sensor or asset</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Episodes
                </th>
                <th scope="col">
                  <span className="sr-only">Open</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id} aria-current={r.id === selected ? 'true' : undefined}>
                  <td>{formatFull(r.createdAt)}</td>
                  <th scope="row">
                    {(r.scope === 'asset'
                      ? registry.assets.get(r.targetId)?.name
                      : registry.sensorById.get(r.targetId)?.name) ?? r.targetId}
                  </th>
                  <td className={r.status === 'failed' ? 'text-alert' : ''}>{r.status}</td>
                  <td className="num">
                    {r.summary ? (
                      <>
                        {r.summary.episodes}
                        {r.summary.current ? (
                          <span className="muted small"> (configured {r.summary.current.episodes})</span>
                        ) : null}
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td className="actions">
                    <button type="button" className="btn btn-small" onClick={() => setSelected(r.id)}>
                      Show <span className="sr-only">the backtest of {formatFull(r.createdAt)}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {selected ? (
        <RunView
          key={selected}
          runId={selected}
          live={live.get(selected)}
          resyncs={resyncs}
          onChanged={refresh}
        />
      ) : null}
    </section>
  );
}
