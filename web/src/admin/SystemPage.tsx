import { useState } from 'react';
import { useQuery, useServices } from '../app/context';
import { formatFull } from '../ui/format';
import { EmptyState, ErrorState, Loading } from '../ui/States';

interface Dependency {
  readonly status: string;
  readonly latencyMs: number | null;
  readonly error: string | null;
}
interface Health {
  readonly status: 'ok' | 'degraded' | 'down';
  readonly version: string;
  readonly instanceId: string;
  readonly startedAt: string;
  readonly uptimeS: number;
  readonly dependencies: Record<string, Dependency>;
  readonly cpu: { processPercent: number; cores: number };
  readonly memory: { rssBytes: number; heapUsedBytes: number; heapLimitBytes: number };
  readonly eventLoop: { p50Ms: number; p99Ms: number; maxMs: number };
  readonly disk: { usedPercent: number; freeBytes: number } | null;
  readonly selfMonitor: { enabled: boolean; openPlatformAlarms: number };
}
interface JobRun {
  readonly id: number;
  readonly job: string;
  readonly status: string;
  readonly attempts: number;
  readonly startedAt: string | null;
  readonly durationMs: number | null;
  readonly error: string | null;
}
interface Jobs {
  readonly items: JobRun[];
  readonly nextCursor: string | null;
  readonly jobs: { job: string; lastStatus: string; lastRunAt: string; consecutiveFailures: number }[];
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
/** Status in words and a shape, never colour alone. */
const statusText = (s: string) =>
  s === 'ok' || s === 'succeeded' ? `✓ ${s}` : s === 'off' ? `– ${s}` : `▲ ${s}`;

/** This instance's health and the recorded job runs (platform administrators). */
export function SystemPage() {
  const { api } = useServices();
  const health = useQuery('monitoring-health', (signal) =>
    api.get<Health>('/api/v1/monitoring/health', { signal }),
  );
  const [status, setStatus] = useState('');
  const jobs = useQuery(`monitoring-jobs:${status}`, (signal) =>
    api.get<Jobs>('/api/v1/monitoring/jobs', { query: { status, limit: 100 }, signal }),
  );
  const h = health.data;
  return (
    <section className="page" aria-labelledby="system-title">
      <div className="page-head">
        <h1 id="system-title">System health and jobs</h1>
        <div className="page-tools">
          <button
            type="button"
            className="btn"
            onClick={() => {
              health.reload();
              jobs.reload();
            }}
          >
            Refresh
          </button>
        </div>
      </div>
      {health.error ? <ErrorState message={health.error} onRetry={health.reload} /> : null}
      {!h ? (
        health.error ? null : (
          <Loading what="Checking the instance" />
        )
      ) : (
        <div className="grid-2">
          <section className="panel" aria-labelledby="instance-title">
            <h2 id="instance-title">
              Instance {h.instanceId}:{' '}
              <span className={h.status === 'ok' ? '' : 'text-alert'} data-testid="health-status">
                {statusText(h.status)}
              </span>
            </h2>
            <dl className="facts">
              <dt>Version</dt>
              <dd>{h.version}</dd>
              <dt>Up since</dt>
              <dd>{formatFull(h.startedAt)}</dd>
              <dt>CPU</dt>
              <dd>
                {h.cpu.processPercent.toFixed(1)} % of one core ({h.cpu.cores} cores)
              </dd>
              <dt>Memory</dt>
              <dd>
                RSS {mb(h.memory.rssBytes)}, heap {mb(h.memory.heapUsedBytes)} of{' '}
                {mb(h.memory.heapLimitBytes)}
              </dd>
              <dt>Event loop</dt>
              <dd>
                p50 {h.eventLoop.p50Ms.toFixed(1)} ms, p99 {h.eventLoop.p99Ms.toFixed(1)} ms
              </dd>
              {h.disk ? (
                <>
                  <dt>Disk</dt>
                  <dd>
                    {h.disk.usedPercent.toFixed(1)} % used, {mb(h.disk.freeBytes)} free
                  </dd>
                </>
              ) : null}
              <dt>Self-monitoring</dt>
              <dd>
                {h.selfMonitor.enabled ? 'on' : 'off'}, {h.selfMonitor.openPlatformAlarms} open platform
                alarms
              </dd>
            </dl>
          </section>
          <section className="panel" aria-labelledby="deps-title">
            <h2 id="deps-title">Dependencies</h2>
            <table className="table">
              <tbody>
                {Object.entries(h.dependencies).map(([name, d]) => (
                  <tr key={name}>
                    <th scope="row">{name}</th>
                    <td className={d.status === 'failed' ? 'text-alert' : ''}>{statusText(d.status)}</td>
                    <td className="num">{d.latencyMs !== null ? `${d.latencyMs} ms` : ''}</td>
                    <td className="small">{d.error ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </div>
      )}
      <section className="panel" aria-labelledby="jobs-title">
        <h2 id="jobs-title">Job runs</h2>
        {jobs.data && jobs.data.jobs.length > 0 ? (
          <ul className="compact-list">
            {jobs.data.jobs.map((j) => (
              <li key={j.job}>
                <code>{j.job}</code>
                <span className={j.consecutiveFailures > 0 ? 'text-alert' : ''}>
                  {statusText(j.lastStatus)}
                </span>
                <span className="small muted">
                  {formatFull(j.lastRunAt)}
                  {j.consecutiveFailures > 0 ? ` · ${j.consecutiveFailures} failures in a row` : ''}
                </span>
              </li>
            ))}
          </ul>
        ) : null}
        <div className="filters">
          <label>
            <span>Status</span>
            <select value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">Any status</option>
              {['running', 'succeeded', 'failed', 'timed_out', 'abandoned'].map((s) => (
                <option key={s} value={s}>
                  {s.replace('_', ' ')}
                </option>
              ))}
            </select>
          </label>
        </div>
        {jobs.error ? (
          <ErrorState message={jobs.error} onRetry={jobs.reload} />
        ) : !jobs.data ? (
          <Loading what="Loading job runs" />
        ) : jobs.data.items.length === 0 ? (
          <EmptyState title="No job runs recorded." />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Status</th>
                  <th scope="col">Started</th>
                  <th scope="col" className="num">
                    Duration
                  </th>
                  <th scope="col" className="hide-narrow">
                    Error
                  </th>
                </tr>
              </thead>
              <tbody>
                {jobs.data.items.map((r) => (
                  <tr key={r.id}>
                    <th scope="row">
                      <code>{r.job}</code>
                    </th>
                    <td className={r.status === 'succeeded' || r.status === 'running' ? '' : 'text-alert'}>
                      {statusText(r.status)}
                      {r.attempts > 1 ? ` (${r.attempts} attempts)` : ''}
                    </td>
                    <td>{r.startedAt ? formatFull(r.startedAt) : '—'}</td>
                    <td className="num">{r.durationMs !== null ? `${r.durationMs} ms` : '—'}</td>
                    <td className="hide-narrow small">{r.error ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </section>
  );
}
