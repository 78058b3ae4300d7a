import { useState } from 'react';
import type { Page } from '../api/types';
import { useMe, useQuery, useServices } from '../app/context';
import { useRouter } from '../app/router';
import { Dialog } from '../ui/Dialog';
import { formatFull } from '../ui/format';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import { Field, FormError, useSubmission } from './forms';

interface SecurityEvent {
  readonly id: number;
  readonly kind: string;
  readonly ip: string;
  readonly score: number;
  readonly categories: string[];
  readonly rules: string[];
  readonly method: string | null;
  readonly path: string | null;
  readonly at: string;
}
interface Summary {
  readonly since: string;
  readonly byKind: { key: string; count: number }[];
  readonly byCategory: { key: string; count: number }[];
  readonly topIps: { ip: string; count: number; maxScore: number }[];
  readonly activeBlocks: number | null;
}
interface Blocks {
  readonly blocks: { ip: string; until: string; reason: string; offense: number }[];
  readonly rules: {
    id: string;
    kind: 'block' | 'allow';
    cidr: string;
    reason: string;
    expiresAt: string | null;
  }[];
}

/** IP blocks and block/allow rules (platform administrators: they protect the whole installation). */
function IpBlocks() {
  const { api } = useServices();
  const q = useQuery('ip-blocks', (signal) => api.get<Blocks>('/api/v1/admin/security/blocks', { signal }));
  const act = useSubmission();
  const add = useSubmission(['kind', 'cidr', 'reason', 'expiresAt']);
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ kind: 'block', cidr: '', reason: '', expiresAt: '' });
  const submit = async () => {
    const res = await add.run(() =>
      api.post('/api/v1/admin/security/rules', {
        kind: form.kind,
        cidr: form.cidr.trim(),
        reason: form.reason.trim(),
        ...(form.expiresAt ? { expiresAt: new Date(form.expiresAt).toISOString() } : {}),
      }),
    );
    if (!res.ok) return;
    setOpen(false);
    setForm({ kind: 'block', cidr: '', reason: '', expiresAt: '' });
    q.reload();
  };
  const run = async (fn: () => Promise<unknown>) => {
    await act.run(fn);
    q.reload();
  };
  return (
    <section className="panel" aria-labelledby="blocks-title">
      <div className="page-head">
        <h2 id="blocks-title">IP blocks and rules</h2>
        <button
          type="button"
          className="btn btn-primary"
          onClick={() => {
            add.reset();
            setOpen(true);
          }}
        >
          New rule
        </button>
      </div>
      <FormError message={act.message} />
      {q.error ? (
        <ErrorState message={q.error} onRetry={q.reload} />
      ) : !q.data ? (
        <Loading what="Loading blocks" />
      ) : (
        <div className="grid-2">
          <div>
            <h3>Blocked now</h3>
            {q.data.blocks.length === 0 ? (
              <EmptyState title="No address is blocked." />
            ) : (
              <ul className="compact-list">
                {q.data.blocks.map((b) => (
                  <li key={b.ip}>
                    <code>{b.ip}</code>
                    <span className="small">
                      until {formatFull(b.until)} — {b.reason} (offence {b.offense})
                    </span>
                    <button
                      type="button"
                      className="btn btn-small"
                      disabled={act.busy}
                      onClick={() =>
                        void run(() =>
                          api.delete(`/api/v1/admin/security/blocks/${encodeURIComponent(b.ip)}`),
                        )
                      }
                    >
                      Lift <span className="sr-only">the block of {b.ip}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </div>
          <div>
            <h3>Rules</h3>
            {q.data.rules.length === 0 ? (
              <EmptyState title="No block or allow rules." />
            ) : (
              <ul className="compact-list">
                {q.data.rules.map((r) => (
                  <li key={r.id}>
                    <strong>{r.kind}</strong> <code>{r.cidr}</code>
                    <span className="small">
                      {r.reason}
                      {r.expiresAt ? ` · until ${formatFull(r.expiresAt)}` : ''}
                    </span>
                    <button
                      type="button"
                      className="btn btn-small"
                      disabled={act.busy}
                      onClick={() => void run(() => api.delete(`/api/v1/admin/security/rules/${r.id}`))}
                    >
                      Remove <span className="sr-only">the rule for {r.cidr}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </div>
        </div>
      )}
      <Dialog
        title="New block or allow rule"
        open={open}
        onClose={() => setOpen(false)}
        onSubmit={submit}
        submitLabel="Add rule"
        busy={add.busy}
        error={add.message}
      >
        <Field label="Kind" error={add.field('kind')}>
          {(a) => (
            <select {...a} value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value })}>
              <option value="block">Block</option>
              <option value="allow">Allow</option>
            </select>
          )}
        </Field>
        <Field label="Address or CIDR" hint="e.g. 203.0.113.0/24" error={add.field('cidr')}>
          {(a) => (
            <input
              {...a}
              required
              value={form.cidr}
              onChange={(e) => setForm({ ...form, cidr: e.target.value })}
            />
          )}
        </Field>
        <Field label="Reason" error={add.field('reason')}>
          {(a) => (
            <input
              {...a}
              required
              value={form.reason}
              onChange={(e) => setForm({ ...form, reason: e.target.value })}
            />
          )}
        </Field>
        <Field label="Expires (optional)" error={add.field('expiresAt')}>
          {(a) => (
            <input
              {...a}
              type="datetime-local"
              value={form.expiresAt}
              onChange={(e) => setForm({ ...form, expiresAt: e.target.value })}
            />
          )}
        </Field>
      </Dialog>
    </section>
  );
}

/**
 * Security events: what the edge guard flagged, blocked or denied for this organisation (and, for
 * platform administrators, the whole installation and its IP blocks).
 */
export function SecurityPage() {
  const { api } = useServices();
  const me = useMe();
  const platform = me.user.isPlatformAdmin;
  const { location, navigate } = useRouter();
  const kind = location.search.get('kind') ?? '';
  const base = platform ? '/api/v1/admin/security' : '/api/v1/security';
  const summary = useQuery(`sec-summary:${base}`, (signal) =>
    api.get<Summary>(`${base}/summary`, { signal }),
  );
  const events = useQuery(`sec-events:${base}:${kind}`, (signal) =>
    api.get<Page<SecurityEvent>>(`${base}/events`, { query: { kind, limit: 200 }, signal }),
  );
  const items = events.data?.items ?? [];
  return (
    <section className="page" aria-labelledby="security-title">
      <div className="page-head">
        <h1 id="security-title">Security events</h1>
        <div className="page-tools">
          <button
            type="button"
            className="btn"
            onClick={() => {
              summary.reload();
              events.reload();
            }}
          >
            Refresh
          </button>
        </div>
      </div>
      {platform ? (
        <p className="muted small">As a platform administrator you see every organisation.</p>
      ) : null}
      {summary.data ? (
        <dl className="facts panel">
          <dt>Since</dt>
          <dd>{formatFull(summary.data.since)}</dd>
          <dt>By kind</dt>
          <dd>{summary.data.byKind.map((c) => `${c.key} ${c.count}`).join(' · ') || 'none'}</dd>
          <dt>By category</dt>
          <dd>{summary.data.byCategory.map((c) => `${c.key} ${c.count}`).join(' · ') || 'none'}</dd>
          <dt>Top addresses</dt>
          <dd>{summary.data.topIps.map((t) => `${t.ip} (${t.count})`).join(' · ') || 'none'}</dd>
          {summary.data.activeBlocks !== null ? (
            <>
              <dt>Blocked now</dt>
              <dd>{summary.data.activeBlocks}</dd>
            </>
          ) : null}
        </dl>
      ) : summary.error ? (
        <ErrorState message={summary.error} onRetry={summary.reload} />
      ) : null}
      <search className="filters" aria-label="Filter security events">
        <label>
          <span>Kind</span>
          <select
            value={kind}
            onChange={(e) =>
              navigate(e.target.value ? `/admin/security?kind=${e.target.value}` : '/admin/security', {
                replace: true,
              })
            }
          >
            <option value="">Any kind</option>
            <option value="flagged">Flagged</option>
            <option value="blocked">Blocked</option>
            <option value="denied">Denied</option>
          </select>
        </label>
      </search>
      {events.error ? <ErrorState message={events.error} onRetry={events.reload} /> : null}
      {!events.data && events.loading ? (
        <Loading what="Loading security events" />
      ) : items.length === 0 && !events.error ? (
        <EmptyState title="No security events." />
      ) : items.length > 0 ? (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Kind</th>
                <th scope="col">Address</th>
                <th scope="col" className="num">
                  Score
                </th>
                <th scope="col" className="hide-narrow">
                  Request
                </th>
                <th scope="col" className="hide-narrow">
                  Why
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id}>
                  <td>{formatFull(e.at)}</td>
                  <th scope="row">{e.kind}</th>
                  <td>
                    <code>{e.ip}</code>
                  </td>
                  <td className="num">{e.score}</td>
                  <td className="hide-narrow small">
                    {e.method} <code className="details">{e.path}</code>
                  </td>
                  <td className="hide-narrow small">{[...e.categories, ...e.rules].join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {platform ? <IpBlocks /> : null}
    </section>
  );
}
