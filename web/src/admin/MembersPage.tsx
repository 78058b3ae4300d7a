import { useState } from 'react';
import type { Invitation, Member, Page, Role } from '../api/types';
import { useCan, useMe, useQuery, useServices } from '../app/context';
import { Dialog } from '../ui/Dialog';
import { formatFull } from '../ui/format';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import { Field, FormError, SecretOnce, useSubmission } from './forms';

export const ROLES: readonly Role[] = ['viewer', 'analyst', 'operator', 'admin', 'owner'];
const RANK: Record<Role, number> = { viewer: 0, analyst: 1, operator: 2, admin: 3, owner: 4 };
const ROLE_HINT: Record<Role, string> = {
  viewer: 'sees everything, changes nothing',
  analyst: 'plus detector and model work',
  operator: 'plus acknowledging alarms and incidents',
  admin: 'everything but the organisation itself',
  owner: 'everything',
};

/** Members of the organisation (change role, remove) and invitations (invite, revoke). */
export function MembersPage() {
  const { api } = useServices();
  const me = useMe();
  const can = useCan();
  const manage = can('users:manage');
  const members = useQuery('members', (signal) =>
    api.get<Page<Member>>('/api/v1/members', { query: { limit: 500 }, signal }),
  );
  const invitations = useQuery(manage ? 'invitations' : null, (signal) =>
    api.get<{ items: Invitation[] }>('/api/v1/invitations', { signal }),
  );
  // Nobody grants or manages a role above their own (the API refuses it too).
  const grantable = ROLES.filter((r) => RANK[r] <= RANK[me.tenant.role]);
  const act = useSubmission();
  const invite = useSubmission(['email', 'role']);
  const [removing, setRemoving] = useState<Member | null>(null);
  const [inviteOpen, setInviteOpen] = useState(false);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [link, setLink] = useState<string | null>(null);

  const changeRole = async (m: Member, r: Role) => {
    await act.run(() => api.patch(`/api/v1/members/${m.id}`, { role: r }));
    members.reload();
  };
  const remove = async () => {
    if (!removing) return;
    const res = await act.run(() => api.delete(`/api/v1/members/${removing.id}`));
    if (!res.ok) return;
    setRemoving(null);
    members.reload();
  };
  const submitInvite = async () => {
    const res = await invite.run(() =>
      api.post<{ acceptUrl: string }>('/api/v1/invitations', { email: email.trim(), role }),
    );
    if (!res.ok) return;
    setInviteOpen(false);
    setEmail('');
    setLink(res.value.acceptUrl);
    invitations.reload();
  };
  const revokeInvitation = async (i: Invitation) => {
    await act.run(() => api.delete(`/api/v1/invitations/${i.id}`));
    invitations.reload();
  };

  const items = members.data?.items ?? [];
  return (
    <section className="page" aria-labelledby="members-title">
      <div className="page-head">
        <h1 id="members-title">Users and roles</h1>
        <div className="page-tools">
          {manage ? (
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => {
                invite.reset();
                setInviteOpen(true);
              }}
            >
              Invite someone
            </button>
          ) : null}
        </div>
      </div>
      {link ? (
        <div className="panel">
          <h2>Invitation created</h2>
          <p>Send this link to the person you invited; it works once, for 7 days.</p>
          <SecretOnce label="Invitation link" value={link} onDone={() => setLink(null)} />
        </div>
      ) : null}
      {removing ? null : <FormError message={act.message} />}
      {members.error ? <ErrorState message={members.error} onRetry={members.reload} /> : null}
      {!members.data && members.loading ? (
        <Loading what="Loading members" />
      ) : items.length > 0 ? (
        <div className="table-wrap">
          <table className="table">
            <caption className="caption">{items.length} members</caption>
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Role</th>
                <th scope="col" className="hide-narrow">
                  Two-step
                </th>
                <th scope="col" className="hide-narrow">
                  Joined
                </th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((m) => {
                const self = m.id === me.user.id;
                const editable = manage && !self && RANK[m.role] <= RANK[me.tenant.role];
                return (
                  <tr key={m.id} data-member={m.email}>
                    <th scope="row">
                      {m.displayName}
                      {self ? <span className="muted"> (you)</span> : null}
                      <span className="key">{m.email}</span>
                    </th>
                    <td>
                      {editable ? (
                        <select
                          aria-label={`Role of ${m.displayName}`}
                          value={m.role}
                          disabled={act.busy}
                          onChange={(e) => void changeRole(m, e.target.value as Role)}
                        >
                          {grantable.map((r) => (
                            <option key={r} value={r}>
                              {r}
                            </option>
                          ))}
                        </select>
                      ) : (
                        m.role
                      )}
                    </td>
                    <td className="hide-narrow">{m.totpEnabled ? 'On' : 'Off'}</td>
                    <td className="hide-narrow">{m.joinedAt ? formatFull(m.joinedAt) : '—'}</td>
                    <td className="actions">
                      {editable ? (
                        <button
                          type="button"
                          className="btn btn-small"
                          onClick={() => {
                            act.reset();
                            setRemoving(m);
                          }}
                        >
                          Remove <span className="sr-only">{m.displayName}</span>
                        </button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {manage ? (
        <section className="panel" aria-labelledby="invitations-title">
          <h2 id="invitations-title">Pending invitations</h2>
          {invitations.error ? (
            <ErrorState message={invitations.error} onRetry={invitations.reload} />
          ) : !invitations.data ? (
            <Loading what="Loading invitations" />
          ) : invitations.data.items.length === 0 ? (
            <EmptyState title="No pending invitations." />
          ) : (
            <ul className="compact-list">
              {invitations.data.items.map((i) => (
                <li key={i.id}>
                  <span>
                    {i.email} as <strong>{i.role}</strong>
                  </span>
                  <span className="muted small">expires {formatFull(i.expiresAt)}</span>
                  <button
                    type="button"
                    className="btn btn-small"
                    disabled={act.busy}
                    onClick={() => void revokeInvitation(i)}
                  >
                    Revoke <span className="sr-only">the invitation of {i.email}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      ) : null}
      <Dialog
        title="Invite someone"
        open={inviteOpen}
        onClose={() => setInviteOpen(false)}
        onSubmit={submitInvite}
        submitLabel="Create invitation"
        busy={invite.busy}
        error={invite.message}
      >
        <Field label="Email" error={invite.field('email')}>
          {(a) => (
            <input {...a} type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          )}
        </Field>
        <Field label="Role" hint={ROLE_HINT[role]} error={invite.field('role')}>
          {(a) => (
            <select {...a} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {grantable.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          )}
        </Field>
      </Dialog>
      <Dialog
        title={`Remove ${removing?.displayName ?? ''}?`}
        open={removing !== null}
        onClose={() => setRemoving(null)}
        onSubmit={remove}
        submitLabel="Remove"
        busy={act.busy}
        error={act.message}
      >
        <p>They lose access to this organisation at once; their account stays.</p>
      </Dialog>
    </section>
  );
}
