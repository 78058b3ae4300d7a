import { useId } from 'react';
import type {
  AlarmRule,
  EffectiveAlarmRules as Effective,
  EffectiveAlarmPolicy,
  Severity,
} from '../api/types';
import { useCan, useQuery, useServices } from '../app/context';
import { Link } from '../app/router';
import type { Registry } from '../data/registry';
import { useRegistry } from '../data/registry';
import { SEVERITY_LABEL, SeverityBadge } from '../ui/Severity';
import { EmptyState, ErrorState, Loading } from '../ui/States';

const DETECTOR_LABEL: Record<string, string> = {
  anomaly: 'Anomalies',
  threshold: 'Limits',
  heartbeat: 'Silence (heartbeat)',
  flatline: 'Stuck value (flatline)',
  'asset-rule': 'Asset rules',
};

/** 90 → "90 s", 300 → "5 min", 3600 → "1 h". */
export function duration(s: number): string {
  if (s % 3600 === 0 && s >= 3600) return `${s / 3600} h`;
  if (s % 60 === 0 && s >= 60) return `${s / 60} min`;
  return `${s} s`;
}

/** Whatever holds an alarm back before it is raised: a minimum score, a delay, repeated occurrences. */
export function holdBack(p: EffectiveAlarmPolicy): string {
  const parts: string[] = [];
  if (p.minScore > 0) parts.push(`score ≥ ${p.minScore}`);
  if (p.delayS > 0) parts.push(`lasting ${duration(p.delayS)}`);
  if (p.minOccurrences > 1)
    parts.push(`${p.minOccurrences} times${p.withinS > 0 ? ` within ${duration(p.withinS)}` : ''}`);
  return parts.length > 0 ? parts.join(', ') : 'at once';
}

export function clearing(p: { autoClear: string; quietS: number }): string {
  if (p.autoClear === 'on-clear') return 'when it clears';
  if (p.autoClear === 'after-quiet') return `after ${duration(p.quietS)} quiet`;
  if (p.autoClear === 'manual') return 'by hand';
  return p.autoClear;
}

/** Where a rule applies: this sensor, an asset, a sensor type, or the whole tenant. */
export function scopeOf(r: AlarmRule, registry: Registry): string {
  if (r.sensorId) return 'this sensor';
  if (r.assetId) return `asset ${registry.assets.get(r.assetId)?.name ?? ''}`.trim();
  if (r.sensorTypeId) return `type ${registry.types.get(r.sensorTypeId)?.name ?? ''}`.trim();
  return 'whole tenant';
}

const isSeverity = (s: string | null): s is Severity => s !== null && s in SEVERITY_LABEL;

function Outcome({ action, severity }: { action: string; severity: string | null }) {
  if (action === 'ignore') return <>Not raised (ignored)</>;
  return (
    <>
      Raised
      {isSeverity(severity) ? (
        <>
          {' as '}
          <SeverityBadge severity={severity} />
        </>
      ) : (
        <span className="muted"> at the detector’s severity</span>
      )}
    </>
  );
}

/**
 * Which alarm rule decides each detector's output for a sensor (or the built-in default), and
 * what it does: raise or ignore, at which severity, held back how, cleared how.
 */
export function EffectiveAlarmRules({ sensorId }: { sensorId: string }) {
  const { api } = useServices();
  const can = useCan();
  const { registry } = useRegistry();
  const headingId = useId();
  const q = useQuery(`alarm-rules-effective:${sensorId}`, async (signal) => {
    const effective = await api.get<Effective>(`/api/v1/sensors/${sensorId}/alarm-rules/effective`, {
      signal,
    });
    const ids = [...new Set(effective.items.map((p) => p.alarmRuleId).filter((id): id is string => !!id))];
    const rules = await Promise.all(
      ids.map((id) => api.get<AlarmRule>(`/api/v1/alarm-rules/${id}`, { signal }).catch(() => null)),
    );
    const byId = new Map(rules.filter((r): r is AlarmRule => r !== null).map((r) => [r.id, r]));
    for (const r of effective.byRuleId) byId.set(r.id, r);
    return { effective, rules: byId };
  });
  const admin = can('users:read');
  return (
    <section className="panel" aria-labelledby={headingId} data-testid="effective-alarm-rules">
      <h2 id={headingId}>Alarm rules in effect</h2>
      {q.error ? (
        <ErrorState message={q.error} onRetry={q.reload} />
      ) : !q.data ? (
        <Loading what="Loading the alarm rules" />
      ) : q.data.effective.items.length === 0 ? (
        <EmptyState title="No detectors report for this sensor." />
      ) : (
        <>
          <div className="table-wrap">
            <table className="table effective-rules">
              <caption className="caption">
                What becomes of each detector’s output for this sensor, and which rule decides it
              </caption>
              <thead>
                <tr>
                  <th scope="col">Detector</th>
                  <th scope="col">Decided by</th>
                  <th scope="col">Outcome</th>
                  <th scope="col" className="hide-narrow">
                    Raised
                  </th>
                  <th scope="col" className="hide-narrow">
                    Clears
                  </th>
                </tr>
              </thead>
              <tbody>
                {q.data.effective.items.map((p) => {
                  const rule = p.alarmRuleId ? q.data?.rules.get(p.alarmRuleId) : undefined;
                  return (
                    <tr key={p.detector} data-detector={p.detector}>
                      <th scope="row">{DETECTOR_LABEL[p.detector] ?? p.detector}</th>
                      <td>
                        {p.alarmRuleId ? (
                          <>
                            {rule?.name ?? 'An alarm rule'}
                            {rule ? <span className="key">{scopeOf(rule, registry)}</span> : null}
                          </>
                        ) : (
                          <span className="muted">Built-in default</span>
                        )}
                      </td>
                      <td>
                        <Outcome action={p.action} severity={p.severity} />
                      </td>
                      <td className="hide-narrow">{p.action === 'ignore' ? '—' : holdBack(p)}</td>
                      <td className="hide-narrow">{p.action === 'ignore' ? '—' : clearing(p)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {q.data.effective.byRuleId.length > 0 ? (
            <>
              <h3 className="subhead">For particular limits</h3>
              <ul className="compact-list">
                {q.data.effective.byRuleId.map((r) => (
                  <li key={r.id}>
                    <span>
                      <strong>{r.name}</strong> ({scopeOf(r, registry)}) for{' '}
                      {r.detectors.map((d) => DETECTOR_LABEL[d] ?? d).join(', ')}{' '}
                      <span className="key-inline">{(r.ruleIds ?? []).join(', ')}</span>:{' '}
                      <Outcome action={r.action} severity={r.severity} />
                    </span>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {admin && can('alarms:read') ? (
            <p className="small">
              <Link to="/admin/detection">Alarm rules in administration</Link>
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}
