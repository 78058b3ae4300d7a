import { useState } from 'react';
import type { AuditEntry, Page } from '../api/types';
import { useQuery, useServices } from '../app/context';
import { useRouter } from '../app/router';
import { formatFull } from '../ui/format';
import { EmptyState, ErrorState, Loading } from '../ui/States';

/** The organisation's audit trail, newest first, filtered by action and outcome, a page at a time. */
export function AuditPage() {
  const { api } = useServices();
  const { location, navigate } = useRouter();
  const action = location.search.get('action') ?? '';
  const outcome = location.search.get('outcome') ?? '';
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const list = useQuery(`audit:${action}:${outcome}:${cursor ?? ''}`, (signal) =>
    api.get<Page<AuditEntry>>('/api/v1/audit', { query: { action, outcome, cursor, limit: 100 }, signal }),
  );
  const setParam = (k: string, v: string) => {
    const next = new URLSearchParams(location.search);
    if (v) next.set(k, v);
    else next.delete(k);
    setCursors([null]);
    const qs = next.toString();
    navigate(`/admin/audit${qs ? `?${qs}` : ''}`, { replace: true });
  };
  const items = list.data?.items ?? [];
  return (
    <section className="page" aria-labelledby="audit-title">
      <div className="page-head">
        <h1 id="audit-title">Audit log</h1>
        <div className="page-tools">
          <button type="button" className="btn" onClick={list.reload} disabled={list.loading}>
            Refresh
          </button>
        </div>
      </div>
      <search className="filters" aria-label="Filter the audit log">
        <label>
          <span>Action</span>
          <input
            type="search"
            placeholder="e.g. device.quarantine"
            defaultValue={action}
            onChange={(e) => setParam('action', e.target.value.trim())}
          />
        </label>
        <label>
          <span>Outcome</span>
          <select value={outcome} onChange={(e) => setParam('outcome', e.target.value)}>
            <option value="">Any outcome</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
            <option value="denied">Denied</option>
          </select>
        </label>
      </search>
      {list.error ? <ErrorState message={list.error} onRetry={list.reload} /> : null}
      {!list.data && list.loading ? (
        <Loading what="Loading the audit log" />
      ) : items.length === 0 && !list.error ? (
        <EmptyState title="No audit entries match." />
      ) : items.length > 0 ? (
        <>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Action</th>
                  <th scope="col">Outcome</th>
                  <th scope="col" className="hide-narrow">
                    Actor
                  </th>
                  <th scope="col" className="hide-narrow">
                    Target
                  </th>
                  <th scope="col" className="hide-narrow">
                    Details
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <tr key={e.seq}>
                    <td>
                      <time dateTime={e.ts}>{formatFull(e.ts)}</time>
                    </td>
                    <th scope="row">
                      <code>{e.action}</code>
                    </th>
                    <td className={e.outcome === 'success' ? '' : 'text-alert'}>{e.outcome}</td>
                    <td className="hide-narrow small">
                      {e.actorType ?? ''} {e.actorId ? <span className="key">{e.actorId}</span> : null}
                      {e.ip ? <span className="muted"> from {e.ip}</span> : null}
                    </td>
                    <td className="hide-narrow small">
                      {e.targetType ?? ''} {e.targetId ? <span className="key">{e.targetId}</span> : null}
                    </td>
                    <td className="hide-narrow small">
                      <code className="details">{JSON.stringify(e.details)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="toolbar">
            <button
              type="button"
              className="btn"
              disabled={cursors.length <= 1}
              onClick={() => setCursors(cursors.slice(0, -1))}
            >
              Newer
            </button>
            <button
              type="button"
              className="btn"
              disabled={!list.data?.nextCursor}
              onClick={() => setCursors([...cursors, list.data?.nextCursor ?? null])}
            >
              Older
            </button>
          </div>
        </>
      ) : null}
    </section>
  );
}
