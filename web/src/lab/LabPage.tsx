import { useState } from 'react';
import { FormError, useSubmission } from '../admin/forms';
import type { ModelVersion, Page, TrainingRun } from '../api/types';
import { useCan, useQuery, useServices } from '../app/context';
import { useRouter } from '../app/router';
import { useRegistry } from '../data/registry';
import { formatFull } from '../ui/format';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import { BacktestRunner } from './BacktestRunner';

/** `{auc: 0.91234, rows: 1200}` → `auc 0.912 · rows 1200` (nested objects summarised by their keys). */
export function formatMetrics(m: Record<string, unknown> | null | undefined): string {
  if (!m) return '—';
  const parts = Object.entries(m).map(([k, v]) => {
    if (typeof v === 'number') return `${k} ${Number.isInteger(v) ? v : v.toPrecision(3)}`;
    if (typeof v === 'string' || typeof v === 'boolean') return `${k} ${String(v)}`;
    if (v && typeof v === 'object') return `${k} {${formatMetrics(v as Record<string, unknown>)}}`;
    return `${k} —`;
  });
  return parts.length > 0 ? parts.join(' · ') : '—';
}

/**
 * The Lab: a sensor's or asset's model versions with their metrics, activate any version or roll
 * back, train now, the training log, and the backtest runner.
 */
export function LabPage() {
  const { api } = useServices();
  const can = useCan();
  const write = can('detection:write');
  const { registry } = useRegistry();
  const { location, navigate } = useRouter();
  const target = location.search.get('target') ?? '';
  const [scope, targetId] = target.includes(':') ? (target.split(':') as [string, string]) : ['', ''];
  const targetQuery =
    scope === 'asset' ? { assetId: targetId } : scope === 'sensor' ? { sensorId: targetId } : {};
  const models = useQuery(`models:${target}`, (signal) =>
    api.get<Page<ModelVersion>>('/api/v1/models', { query: { ...targetQuery, limit: 100 }, signal }),
  );
  const runs = useQuery(`runs:${targetId}`, (signal) =>
    api.get<Page<TrainingRun>>('/api/v1/models/training-runs', {
      query: { targetId: targetId || undefined, limit: 50 },
      signal,
    }),
  );
  const act = useSubmission(['sensorId', 'assetId', 'windowDays']);
  const [windowDays, setWindowDays] = useState('');
  const [lastRun, setLastRun] = useState<string | null>(null);

  const name = (scopeOf: string, id: string) =>
    scopeOf === 'asset' ? (registry.assets.get(id)?.name ?? id) : (registry.sensorById.get(id)?.name ?? id);
  const reload = () => {
    models.reload();
    runs.reload();
  };
  const activate = async (m: ModelVersion) => {
    await act.run(() => api.post(`/api/v1/models/${m.id}/activate`));
    reload();
  };
  const rollback = async () => {
    await act.run(() => api.post('/api/v1/models/rollback', targetQuery));
    reload();
  };
  const train = async () => {
    const res = await act.run(() =>
      api.post<{ run: TrainingRun; model: ModelVersion | null }>('/api/v1/models/train', {
        ...targetQuery,
        ...(windowDays ? { windowDays: Number(windowDays) } : {}),
      }),
    );
    if (res.ok) setLastRun(`Training finished: ${res.value.run.outcome.replace(/_/g, ' ')}.`);
    reload();
  };

  const items = models.data?.items ?? [];
  return (
    <section className="page" aria-labelledby="lab-title">
      <div className="page-head">
        <h1 id="lab-title">Lab</h1>
        <div className="page-tools">
          <button type="button" className="btn" onClick={reload} disabled={models.loading}>
            Refresh
          </button>
        </div>
      </div>
      <search className="filters" aria-label="Choose a model target">
        <label>
          <span>Sensor or asset</span>
          <select
            value={target}
            onChange={(e) =>
              navigate(e.target.value ? `/lab?target=${encodeURIComponent(e.target.value)}` : '/lab', {
                replace: true,
              })
            }
          >
            <option value="">All models</option>
            <optgroup label="Assets">
              {[...registry.assets.values()].map((a) => (
                <option key={a.id} value={`asset:${a.id}`}>
                  {a.name}
                </option>
              ))}
            </optgroup>
            <optgroup label="Sensors">
              {registry.sensors.map((s) => (
                <option key={s.id} value={`sensor:${s.id}`}>
                  {s.name}
                </option>
              ))}
            </optgroup>
          </select>
        </label>
        {write && targetId ? (
          <>
            <label>
              <span>Training window (days)</span>
              <input
                type="number"
                min={0.01}
                max={365}
                step="any"
                placeholder="default"
                value={windowDays}
                aria-invalid={act.field('windowDays') ? true : undefined}
                onChange={(e) => setWindowDays(e.target.value)}
              />
              {act.field('windowDays') ? (
                <span className="field-error">{act.field('windowDays')}</span>
              ) : null}
            </label>
            <div className="toolbar">
              <button
                type="button"
                className="btn btn-primary"
                disabled={act.busy}
                onClick={() => void train()}
              >
                {act.busy ? 'Working…' : 'Train now'}
              </button>
              <button type="button" className="btn" disabled={act.busy} onClick={() => void rollback()}>
                Roll back
              </button>
            </div>
          </>
        ) : null}
      </search>
      <FormError message={act.message} />
      {lastRun ? <output className="notice">{lastRun}</output> : null}
      <section className="panel" aria-labelledby="versions-title">
        <h2 id="versions-title">Model versions</h2>
        {models.error ? (
          <ErrorState message={models.error} onRetry={models.reload} />
        ) : !models.data ? (
          <Loading what="Loading models" />
        ) : items.length === 0 ? (
          <EmptyState title="No model versions yet.">
            {write && targetId ? 'Train one with “Train now”.' : 'Choose a sensor or asset to train one.'}
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Target</th>
                  <th scope="col">Version</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="hide-narrow">
                    Training window
                  </th>
                  <th scope="col">Metrics</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((m) => (
                  <tr key={m.id} data-model={m.id}>
                    <th scope="row">
                      {name(m.scope, m.targetId)} <span className="muted small">({m.scope})</span>
                    </th>
                    <td>v{m.version}</td>
                    <td>{m.status === 'active' ? <strong>● active</strong> : m.status}</td>
                    <td className="hide-narrow small">
                      {formatFull(m.trainingFrom)} – {formatFull(m.trainingTo)}
                    </td>
                    <td className="small">
                      threshold {m.threshold.toPrecision(3)} · {formatMetrics(m.metrics)}
                    </td>
                    <td className="actions">
                      {write && m.status !== 'active' ? (
                        <button
                          type="button"
                          className="btn btn-small"
                          disabled={act.busy}
                          onClick={() => void activate(m)}
                        >
                          Activate <span className="sr-only">version {m.version}</span>
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="panel" aria-labelledby="runs-title">
        <h2 id="runs-title">Training runs</h2>
        {runs.error ? (
          <ErrorState message={runs.error} onRetry={runs.reload} />
        ) : !runs.data ? (
          <Loading what="Loading training runs" />
        ) : runs.data.items.length === 0 ? (
          <EmptyState title="No training runs yet." />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Target</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Outcome</th>
                  <th scope="col" className="num hide-narrow">
                    Duration
                  </th>
                  <th scope="col" className="hide-narrow">
                    Metrics
                  </th>
                </tr>
              </thead>
              <tbody>
                {runs.data.items.map((r) => (
                  <tr key={r.id}>
                    <td>{formatFull(r.startedAt)}</td>
                    <th scope="row">{name(r.scope, r.targetId)}</th>
                    <td>{r.trigger}</td>
                    <td className={r.outcome === 'failed' ? 'text-alert' : ''}>
                      {r.outcome.replace(/_/g, ' ')}
                      {r.error ? <span className="small"> — {r.error}</span> : null}
                    </td>
                    <td className="num hide-narrow">{(r.durationMs / 1000).toFixed(1)} s</td>
                    <td className="hide-narrow small">{formatMetrics(r.metrics)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <BacktestRunner target={target} />
    </section>
  );
}
