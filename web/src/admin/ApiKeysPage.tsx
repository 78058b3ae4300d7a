import { useState } from 'react';
import type { ApiKey } from '../api/types';
import { useMe, useNow, useQuery, useServices } from '../app/context';
import { Dialog } from '../ui/Dialog';
import { formatAgo, formatFull } from '../ui/format';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import { Field, SecretOnce, useSubmission } from './forms';

const keyState = (k: ApiKey, now: number) =>
  k.revokedAt
    ? 'Revoked'
    : k.expiresAt && Date.parse(k.expiresAt) <= now
      ? 'Expired'
      : k.expiresAt
        ? `Valid until ${formatFull(k.expiresAt)}`
        : 'Valid';

/** API keys for integrations: list, create (the key shown once, a subset of your permissions), revoke. */
export function ApiKeysPage() {
  const { api } = useServices();
  const me = useMe();
  const now = useNow(30_000);
  const list = useQuery('api-keys', (signal) => api.get<{ items: ApiKey[] }>('/api/v1/api-keys', { signal }));
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [perms, setPerms] = useState<string[]>(['telemetry:read']);
  const [secret, setSecret] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const create = useSubmission(['name', 'permissions', 'expiresAt']);
  const act = useSubmission();

  const submit = async () => {
    const res = await create.run(() =>
      api.post<{ key: string }>('/api/v1/api-keys', {
        name: name.trim(),
        permissions: perms,
        ...(expires ? { expiresAt: new Date(expires).toISOString() } : {}),
      }),
    );
    if (!res.ok) return;
    setOpen(false);
    setName('');
    setExpires('');
    setSecret(res.value.key);
    list.reload();
  };
  const revoke = async () => {
    if (!revoking) return;
    const res = await act.run(() => api.delete(`/api/v1/api-keys/${revoking.id}`));
    if (!res.ok) return;
    setRevoking(null);
    list.reload();
  };

  const items = list.data?.items ?? [];
  return (
    <section className="page" aria-labelledby="keys-title">
      <div className="page-head">
        <h1 id="keys-title">API keys</h1>
        <div className="page-tools">
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => {
              create.reset();
              setOpen(true);
            }}
          >
            New API key
          </button>
        </div>
      </div>
      {secret ? (
        <div className="panel">
          <h2>API key created</h2>
          <p>
            Send it as <code>Authorization: Bearer &lt;key&gt;</code>.
          </p>
          <SecretOnce label="API key" value={secret} onDone={() => setSecret(null)} />
        </div>
      ) : null}
      {list.error ? <ErrorState message={list.error} onRetry={list.reload} /> : null}
      {!list.data && list.loading ? (
        <Loading what="Loading API keys" />
      ) : items.length === 0 && !list.error ? (
        <EmptyState title="No API keys yet.">Create one for each integration that calls the API.</EmptyState>
      ) : items.length > 0 ? (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="hide-narrow">
                  Permissions
                </th>
                <th scope="col" className="hide-narrow">
                  Last used
                </th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((k) => (
                <tr key={k.id} data-api-key={k.name}>
                  <th scope="row">
                    {k.name}
                    <span className="key">{k.prefix}…</span>
                  </th>
                  <td className="hide-narrow small">{k.permissions.join(', ')}</td>
                  <td className="hide-narrow">{k.lastUsedAt ? formatAgo(k.lastUsedAt, now) : 'Never'}</td>
                  <td>{keyState(k, now)}</td>
                  <td className="actions">
                    {!k.revokedAt ? (
                      <button
                        type="button"
                        className="btn btn-small"
                        onClick={() => {
                          act.reset();
                          setRevoking(k);
                        }}
                      >
                        Revoke <span className="sr-only">{k.name}</span>
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Dialog
        title="New API key"
        open={open}
        onClose={() => setOpen(false)}
        onSubmit={submit}
        submitLabel="Create key"
        busy={create.busy}
        canSubmit={perms.length > 0}
        error={create.message}
      >
        <Field label="Name" hint="What uses it, e.g. SCADA historian export" error={create.field('name')}>
          {(a) => <input {...a} required value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <fieldset className="perm-list" aria-describedby="perm-hint">
          <legend>Permissions</legend>
          <span id="perm-hint" className="muted small">
            A key can hold only permissions you have yourself.
          </span>
          {me.permissions.map((p) => (
            <label key={p} className="check">
              <input
                type="checkbox"
                checked={perms.includes(p)}
                onChange={(e) => setPerms(e.target.checked ? [...perms, p] : perms.filter((x) => x !== p))}
              />{' '}
              {p}
            </label>
          ))}
          {create.field('permissions') ? (
            <span className="field-error">{create.field('permissions')}</span>
          ) : null}
        </fieldset>
        <Field label="Expires (optional)" error={create.field('expiresAt')}>
          {(a) => (
            <input
              {...a}
              type="datetime-local"
              value={expires}
              onChange={(e) => setExpires(e.target.value)}
            />
          )}
        </Field>
      </Dialog>
      <Dialog
        title="Revoke this API key?"
        open={revoking !== null}
        onClose={() => setRevoking(null)}
        onSubmit={revoke}
        submitLabel="Revoke"
        busy={act.busy}
        error={act.message}
      >
        <p>
          Integrations using <strong>{revoking?.name}</strong> stop working at once. This cannot be undone.
        </p>
      </Dialog>
    </section>
  );
}
