import { useState } from 'react';
import { describeError } from '../api/errors';
import type { Alarm, DirectoryEntry } from '../api/types';
import { useCan, useMe, useQuery, useServices } from '../app/context';
import { Dialog } from '../ui/Dialog';
import { useAlarmStore } from './AlarmStore';
import { isActive } from './alarm-list';

type Kind = 'resolve' | 'shelve' | 'comment' | 'assign';

const SHELVE_OPTIONS = [
  { minutes: 15, label: '15 minutes' },
  { minutes: 60, label: '1 hour' },
  { minutes: 240, label: '4 hours' },
  { minutes: 1440, label: '1 day' },
  { minutes: 10080, label: '1 week' },
];

/**
 * The lifecycle actions on one alarm, shown only to those whose role allows them: acknowledge,
 * resolve (with a comment), shelve / unshelve, comment, assign, close.
 */
export function AlarmActions({
  alarm,
  compact = false,
  onChanged,
}: {
  alarm: Alarm;
  compact?: boolean;
  onChanged?: () => void;
}) {
  const { api } = useServices();
  const can = useCan();
  const me = useMe();
  const { dispatch } = useAlarmStore();
  const [dialog, setDialog] = useState<Kind | null>(null);
  const [text, setText] = useState('');
  const [minutes, setMinutes] = useState(60);
  const [assignee, setAssignee] = useState<string>('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const members = useQuery(dialog === 'assign' ? 'directory' : null, (signal) =>
    api.get<{ items: DirectoryEntry[] }>('/api/v1/members/directory', { signal }),
  );

  if (!can('alarms:ack') && !can('alarms:manage')) return null;

  const run = async (path: string, body: unknown = {}) => {
    setBusy(true);
    setError(null);
    try {
      const res = await api.post<Alarm | undefined>(`/api/v1/alarms/${alarm.id}/${path}`, body);
      if (res && typeof res === 'object' && 'id' in res) dispatch({ type: 'patch', alarm: res });
      setDialog(null);
      setText('');
      onChanged?.();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const open = (k: Kind) => {
    setError(null);
    setText('');
    setAssignee(alarm.assigneeId ?? '');
    setDialog(k);
  };
  const active = isActive(alarm);
  const ack = can('alarms:ack');
  const cls = compact ? 'btn btn-small' : 'btn';

  return (
    <div className="actions">
      {ack && alarm.status === 'open' ? (
        <button
          type="button"
          className={`${cls} btn-primary`}
          disabled={busy}
          onClick={() => void run('acknowledge')}
          aria-label={compact ? `Acknowledge ${alarm.title}` : undefined}
        >
          Acknowledge
        </button>
      ) : null}
      {!compact && ack && active ? (
        <>
          <button type="button" className={cls} onClick={() => open('resolve')}>
            Resolve…
          </button>
          {alarm.shelved ? (
            <button type="button" className={cls} disabled={busy} onClick={() => void run('unshelve')}>
              Unshelve
            </button>
          ) : (
            <button type="button" className={cls} onClick={() => open('shelve')}>
              Shelve…
            </button>
          )}
          <button type="button" className={cls} onClick={() => open('assign')}>
            Assign…
          </button>
        </>
      ) : null}
      {!compact && ack ? (
        <button type="button" className={cls} onClick={() => open('comment')}>
          Comment…
        </button>
      ) : null}
      {!compact && can('alarms:manage') && alarm.status === 'resolved' ? (
        <button type="button" className={cls} disabled={busy} onClick={() => void run('close')}>
          Close
        </button>
      ) : null}
      {error && dialog === null ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}

      <Dialog
        title="Resolve the alarm"
        open={dialog === 'resolve'}
        onClose={() => setDialog(null)}
        onSubmit={() => run('resolve', { comment: text.trim() })}
        submitLabel="Resolve"
        busy={busy || text.trim() === ''}
        error={error}
      >
        <label htmlFor="resolve-comment">What was done (required)</label>
        <textarea
          id="resolve-comment"
          rows={3}
          value={text}
          onChange={(e) => setText(e.target.value)}
          required
        />
      </Dialog>
      <Dialog
        title="Shelve the alarm"
        open={dialog === 'shelve'}
        onClose={() => setDialog(null)}
        onSubmit={() => run('shelve', { minutes, ...(text.trim() ? { comment: text.trim() } : {}) })}
        submitLabel="Shelve"
        busy={busy}
        error={error}
      >
        <p className="muted">
          A shelved alarm stays recorded but sends no notifications until it unshelves itself.
        </p>
        <label htmlFor="shelve-minutes">For</label>
        <select id="shelve-minutes" value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}>
          {SHELVE_OPTIONS.map((o) => (
            <option key={o.minutes} value={o.minutes}>
              {o.label}
            </option>
          ))}
        </select>
        <label htmlFor="shelve-comment">Reason (optional)</label>
        <textarea id="shelve-comment" rows={2} value={text} onChange={(e) => setText(e.target.value)} />
      </Dialog>
      <Dialog
        title="Comment on the alarm"
        open={dialog === 'comment'}
        onClose={() => setDialog(null)}
        onSubmit={() => run('comments', { text: text.trim() })}
        submitLabel="Add comment"
        busy={busy || text.trim() === ''}
        error={error}
      >
        <label htmlFor="alarm-comment">Comment</label>
        <textarea
          id="alarm-comment"
          rows={3}
          value={text}
          onChange={(e) => setText(e.target.value)}
          required
        />
      </Dialog>
      <Dialog
        title="Assign the alarm"
        open={dialog === 'assign'}
        onClose={() => setDialog(null)}
        onSubmit={() => run('assign', { assigneeId: assignee || null })}
        submitLabel="Assign"
        busy={busy}
        error={error ?? members.error}
      >
        <label htmlFor="assignee">Assignee</label>
        <select id="assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)}>
          <option value="">Nobody</option>
          <option value={me.user.id}>Me ({me.user.displayName})</option>
          {(members.data?.items ?? [])
            .filter((m) => m.id !== me.user.id)
            .map((m) => (
              <option key={m.id} value={m.id}>
                {m.displayName} ({m.role})
              </option>
            ))}
        </select>
      </Dialog>
    </div>
  );
}
