import { useEffect, useId, useState } from 'react';
import { ApiError } from '../api/errors';
import type { Page } from '../api/types';
import { useCan, useQuery, useServices } from '../app/context';
import { useRegistry } from '../data/registry';
import { Dialog } from '../ui/Dialog';
import { formatFull } from '../ui/format';
import { EmptyState, ErrorState, Loading } from '../ui/States';
import { FormError, type Submission, useSubmission } from './forms';
import { JsonEditor, parseJson } from './JsonEditor';

interface DetectorVersion {
  readonly version: number;
  readonly document: Record<string, unknown> | null;
  readonly createdAt: string | null;
}

interface AlarmRule {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly sensorTypeId: string | null;
  readonly assetId: string | null;
  readonly sensorId: string | null;
  readonly detectors: string[];
  readonly action?: string;
  readonly severity?: string | null;
  readonly [key: string]: unknown;
}

/** The message for the form: the problem's detail (its pointers are listed beside the editor). */
const headline = (s: Submission) => (s.error instanceof ApiError ? s.error.message : s.message);

const RULE_TEMPLATE = {
  name: 'Pressure alarms after 5 minutes',
  detectors: ['threshold'],
  delayS: 300,
  autoClear: 'on-clear',
};

/** The body of an alarm rule for PUT: its own fields, without server-kept ones and nulls. */
export function ruleBody(rule: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rule)) {
    if (['id', 'tenantId', 'createdAt', 'updatedAt', 'createdBy'].includes(k) || v === null) continue;
    out[k] = v;
  }
  return out;
}

/** A sensor type's, asset's or sensor's detector document: view, edit (a new version), remove. */
function DetectorDocuments() {
  const { api } = useServices();
  const can = useCan();
  const write = can('detection:write');
  const { registry } = useRegistry();
  const [target, setTarget] = useState('');
  const targetId = useId();
  const path = target ? `/api/v1/${target}/detectors` : null;
  const current = useQuery(path, (signal) => api.get<DetectorVersion>(path!, { signal }));
  const versions = useQuery(path ? `${path}/versions` : null, (signal) =>
    api.get<{ items: DetectorVersion[] }>(`${path!}/versions`, { signal }),
  );
  const [text, setText] = useState('');
  const save = useSubmission();
  useEffect(() => {
    if (current.data) setText(current.data.document ? JSON.stringify(current.data.document, null, 2) : '');
  }, [current.data]);

  const submit = async () => {
    if (!path) return;
    const parsed = parseJson(text);
    if (parsed.error) return;
    const res = await save.run(() => api.put(path, parsed.value));
    if (res.ok) {
      current.reload();
      versions.reload();
    }
  };
  const remove = async () => {
    if (!path) return;
    const res = await save.run(() => api.delete(path));
    if (res.ok) {
      current.reload();
      versions.reload();
    }
  };

  return (
    <section className="panel" aria-labelledby="detectors-title">
      <h2 id="detectors-title">Detector documents</h2>
      <p className="muted small">
        Threshold rules, asset rules, seasonal and isolation-forest settings per sensor type, asset or sensor
        (docs/detection.md). Every save is a new version.
      </p>
      <div className="filters">
        <label htmlFor={targetId}>
          <span>For</span>
          <select id={targetId} value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="">Choose…</option>
            <optgroup label="Sensor types">
              {[...registry.types.values()].map((t) => (
                <option key={t.id} value={`sensor-types/${t.id}`}>
                  {t.name}
                </option>
              ))}
            </optgroup>
            <optgroup label="Assets">
              {[...registry.assets.values()].map((a) => (
                <option key={a.id} value={`assets/${a.id}`}>
                  {a.name}
                </option>
              ))}
            </optgroup>
            <optgroup label="Sensors">
              {registry.sensors.map((s) => (
                <option key={s.id} value={`sensors/${s.id}`}>
                  {s.name}
                </option>
              ))}
            </optgroup>
          </select>
        </label>
      </div>
      {!target ? null : current.error ? (
        <ErrorState message={current.error} onRetry={current.reload} />
      ) : !current.data ? (
        <Loading what="Loading the detector document" />
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <p className="small">
            {current.data.version === 0
              ? 'No document yet: the defaults (and the sensor type’s document) apply.'
              : `Version ${current.data.version}${current.data.createdAt ? `, saved ${formatFull(current.data.createdAt)}` : ''}${current.data.document ? '' : ' (removed)'}.`}
          </p>
          <JsonEditor
            label="Detector document (JSON)"
            value={text}
            onChange={setText}
            error={save.error}
            readOnly={!write}
          />
          <FormError message={headline(save)} />
          {write ? (
            <div className="toolbar">
              <button
                type="submit"
                className="btn btn-primary"
                disabled={save.busy || text.trim() === '' || parseJson(text).error !== null}
              >
                Save as a new version
              </button>
              {current.data.document ? (
                <button type="button" className="btn" disabled={save.busy} onClick={() => void remove()}>
                  Remove the document
                </button>
              ) : null}
            </div>
          ) : null}
          {versions.data && versions.data.items.length > 1 ? (
            <details className="versions">
              <summary>Earlier versions ({versions.data.items.length - 1})</summary>
              <ul className="compact-list">
                {versions.data.items.slice(1).map((v) => (
                  <li key={v.version}>
                    <span>
                      Version {v.version}
                      {v.document ? '' : ' (removal)'}
                    </span>
                    <span className="small muted">{v.createdAt ? formatFull(v.createdAt) : ''}</span>
                    {v.document ? (
                      <button
                        type="button"
                        className="btn btn-small"
                        onClick={() => setText(JSON.stringify(v.document, null, 2))}
                      >
                        Load into the editor <span className="sr-only">version {v.version}</span>
                      </button>
                    ) : null}
                  </li>
                ))}
              </ul>
            </details>
          ) : null}
        </form>
      )}
    </section>
  );
}

/** Alarm rules: which detector outputs raise alarms, how (delay, severity, auto-clear), for what scope. */
function AlarmRules() {
  const { api } = useServices();
  const can = useCan();
  const manage = can('alarms:manage');
  const { registry } = useRegistry();
  const rules = useQuery('alarm-rules', (signal) =>
    api.get<Page<AlarmRule>>('/api/v1/alarm-rules', { query: { limit: 500 }, signal }),
  );
  const [editing, setEditing] = useState<AlarmRule | 'new' | null>(null);
  const [text, setText] = useState('');
  const save = useSubmission();
  const [deleting, setDeleting] = useState<AlarmRule | null>(null);
  const del = useSubmission();

  const open = (r: AlarmRule | 'new') => {
    save.reset();
    setEditing(r);
    setText(JSON.stringify(r === 'new' ? RULE_TEMPLATE : ruleBody(r), null, 2));
  };
  const submit = async () => {
    const parsed = parseJson(text);
    if (parsed.error || !editing) return;
    const res = await save.run(() =>
      editing === 'new'
        ? api.post('/api/v1/alarm-rules', parsed.value)
        : api.put(`/api/v1/alarm-rules/${editing.id}`, parsed.value),
    );
    if (!res.ok) return;
    setEditing(null);
    rules.reload();
  };
  const remove = async () => {
    if (!deleting) return;
    const res = await del.run(() => api.delete(`/api/v1/alarm-rules/${deleting.id}`));
    if (!res.ok) return;
    setDeleting(null);
    rules.reload();
  };
  const scope = (r: AlarmRule) =>
    r.sensorId
      ? `Sensor ${registry.sensorById.get(r.sensorId)?.name ?? r.sensorId}`
      : r.assetId
        ? `Asset ${registry.assets.get(r.assetId)?.name ?? r.assetId}`
        : r.sensorTypeId
          ? `Type ${registry.types.get(r.sensorTypeId)?.name ?? r.sensorTypeId}`
          : 'Everything';
  const items = rules.data?.items ?? [];

  return (
    <section className="panel" aria-labelledby="rules-title">
      <div className="page-head">
        <h2 id="rules-title">Alarm rules</h2>
        {manage ? (
          <button type="button" className="btn btn-primary" onClick={() => open('new')}>
            New alarm rule
          </button>
        ) : null}
      </div>
      {rules.error ? (
        <ErrorState message={rules.error} onRetry={rules.reload} />
      ) : !rules.data ? (
        <Loading what="Loading alarm rules" />
      ) : items.length === 0 ? (
        <EmptyState title="No alarm rules: the built-in defaults apply." />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Scope</th>
                <th scope="col">Detectors</th>
                <th scope="col">Action</th>
                <th scope="col">Enabled</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id}>
                  <th scope="row">{r.name}</th>
                  <td>{scope(r)}</td>
                  <td>{r.detectors.join(', ')}</td>
                  <td>
                    {r.action ?? 'raise'}
                    {r.severity ? ` as ${r.severity}` : ''}
                  </td>
                  <td>{r.enabled ? 'Yes' : 'No'}</td>
                  <td className="actions">
                    {manage ? (
                      <>
                        <button type="button" className="btn btn-small" onClick={() => open(r)}>
                          Edit <span className="sr-only">{r.name}</span>
                        </button>{' '}
                        <button
                          type="button"
                          className="btn btn-small"
                          onClick={() => {
                            del.reset();
                            setDeleting(r);
                          }}
                        >
                          Delete <span className="sr-only">{r.name}</span>
                        </button>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Dialog
        title={editing === 'new' ? 'New alarm rule' : `Edit ${editing?.name ?? ''}`}
        open={editing !== null}
        onClose={() => setEditing(null)}
        onSubmit={submit}
        submitLabel="Save rule"
        busy={save.busy}
        canSubmit={parseJson(text).error === null}
        error={headline(save)}
      >
        <p className="small muted">
          Fields: name, sensorTypeId | assetId | sensorId, detectors, ruleIds, action, severity, minScore,
          delayS, minOccurrences, withinS, autoClear, quietS, enabled (docs/alarms.md).
        </p>
        <JsonEditor label="Rule (JSON)" value={text} onChange={setText} error={save.error} />
      </Dialog>
      <Dialog
        title={`Delete ${deleting?.name ?? ''}?`}
        open={deleting !== null}
        onClose={() => setDeleting(null)}
        onSubmit={remove}
        submitLabel="Delete"
        busy={del.busy}
        error={del.message}
      >
        <p>Alarms it governs fall back to the next rule in scope or the built-in default.</p>
      </Dialog>
    </section>
  );
}

/** Detection and alarm configuration: detector documents and alarm rules. */
export function DetectionConfigPage() {
  return (
    <section className="page" aria-labelledby="config-title">
      <h1 id="config-title">Detectors and alarm rules</h1>
      <AlarmRules />
      <DetectorDocuments />
    </section>
  );
}
