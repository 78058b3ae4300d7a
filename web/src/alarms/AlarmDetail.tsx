import { useEffect } from 'react';
import type { Alarm, AlarmHistoryEntry, AnomalyExplanation } from '../api/types';
import { useMe, useQuery, useServices } from '../app/context';
import { Link } from '../app/router';
import { useRegistry } from '../data/registry';
import { WorkOrdersPanel } from '../maintenance/WorkOrdersPanel';
import { maintenanceHref } from '../maintenance/work-orders';
import { explain } from '../sensors/chart-data';
import { formatFull, formatValue, words } from '../ui/format';
import { AlarmStatusText, PRIORITY, SeverityBadge } from '../ui/Severity';
import { ErrorState, Loading } from '../ui/States';
import { AlarmActions } from './AlarmActions';
import { useAlarmStore } from './AlarmStore';

function who(entry: AlarmHistoryEntry, meId: string): string {
  if (entry.actorType === 'system') return 'Vigil';
  if (entry.actorId === meId) return 'you';
  return entry.actorType === 'api-key' ? 'an API key' : 'a user';
}

/** One alarm: what, where, its state and full history, and the actions the role allows. */
export function AlarmDetail({ id }: { id: string }) {
  const { api } = useServices();
  const me = useMe();
  const { registry } = useRegistry();
  const { state } = useAlarmStore();
  const q = useQuery(`alarm:${id}`, (signal) =>
    api.get<{ alarm: Alarm; history: AlarmHistoryEntry[] }>(`/api/v1/alarms/${id}`, { signal }),
  );
  // Live changes of this alarm (from the stream, via the store) reload its history.
  const liveRow = state.byId[id];
  const reload = q.reload;
  const liveStamp = liveRow
    ? `${liveRow.status}:${liveRow.occurrences}:${liveRow.lastSeenAt}:${liveRow.shelved}`
    : '';
  // biome-ignore lint/correctness/useExhaustiveDependencies: the stamp is the trigger
  useEffect(() => {
    if (liveStamp) reload();
  }, [liveStamp]);

  if (q.error && !q.data) return <ErrorState message={q.error} onRetry={q.reload} />;
  if (!q.data) return <Loading what="Loading the alarm" />;
  const { alarm, history } = q.data;
  const sensor = alarm.sensorId ? registry.sensorById.get(alarm.sensorId) : undefined;
  const asset = registry.assets.get(alarm.assetId ?? sensor?.assetId ?? '');
  const unit = sensor ? (registry.types.get(sensor.typeId)?.unit ?? '') : '';
  const explanation = (alarm.details?.explanation ?? null) as AnomalyExplanation | null;
  const why = explanation
    ? explain(
        {
          id: alarm.id,
          sensorId: alarm.sensorId,
          assetId: alarm.assetId,
          ts: alarm.raisedAt,
          value: alarm.lastValue ?? null,
          kind: alarm.detector === 'anomaly' ? 'point' : 'raised',
          detector: alarm.detector === 'anomaly' ? 'anomaly' : (alarm.detector ?? ''),
          ruleId: alarm.ruleId ?? null,
          severity: alarm.severity,
          score: Number(alarm.details?.score ?? 1),
          confidence: 1,
          detectors: [],
          explanation,
        },
        unit,
      )
    : null;

  return (
    <section className="page" aria-labelledby="alarm-title" data-testid="alarm-detail">
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link to="/alarms">Alarms</Link>
      </nav>
      <div className="page-head">
        <div>
          <h1 id="alarm-title">
            <SeverityBadge severity={alarm.severity} compact /> {alarm.title}
          </h1>
          <p>
            <AlarmStatusText status={alarm.status} shelved={alarm.shelved} />
            {alarm.flapping ? <span className="tag">Flapping</span> : null}
            {alarm.maintenanceWindowId ? <span className="tag">In maintenance</span> : null}
          </p>
        </div>
      </div>
      <AlarmActions alarm={alarm} onChanged={q.reload} />
      <div className="grid-2">
        <section className="panel" aria-labelledby="alarm-facts">
          <h2 id="alarm-facts">Details</h2>
          <dl className="facts">
            <dt>Priority</dt>
            <dd>
              P{PRIORITY[alarm.severity]} <SeverityBadge severity={alarm.severity} />
            </dd>
            <dt>Sensor</dt>
            <dd>{sensor ? <Link to={`/sensors/${sensor.id}`}>{sensor.name}</Link> : '—'}</dd>
            <dt>Asset</dt>
            <dd>
              {asset ? (
                <>
                  {asset.name} · <Link to={maintenanceHref({ asset: asset.id })}>maintenance log</Link>
                </>
              ) : (
                '—'
              )}
            </dd>
            <dt>Raised</dt>
            <dd>{formatFull(alarm.raisedAt)}</dd>
            <dt>Last seen</dt>
            <dd>
              {formatFull(alarm.lastSeenAt)} ({alarm.occurrences} occurrence
              {alarm.occurrences === 1 ? '' : 's'})
            </dd>
            <dt>Last value</dt>
            <dd>{formatValue(alarm.lastValue, unit)}</dd>
            {alarm.acknowledgedAt ? (
              <>
                <dt>Acknowledged</dt>
                <dd>{formatFull(alarm.acknowledgedAt)}</dd>
              </>
            ) : null}
            {alarm.shelved && alarm.shelvedUntil ? (
              <>
                <dt>Shelved until</dt>
                <dd>{formatFull(alarm.shelvedUntil)}</dd>
              </>
            ) : null}
            {alarm.resolvedAt ? (
              <>
                <dt>Resolved</dt>
                <dd>
                  {formatFull(alarm.resolvedAt)} {alarm.resolution ? `(${alarm.resolution})` : ''}
                </dd>
              </>
            ) : null}
            {alarm.resolvesAt ? (
              <>
                <dt>Resolves by itself</dt>
                <dd>{formatFull(alarm.resolvesAt)} unless it comes back</dd>
              </>
            ) : null}
            <dt>Assigned to</dt>
            <dd>{alarm.assigneeId ? (alarm.assigneeId === me.user.id ? 'You' : 'A colleague') : 'Nobody'}</dd>
            <dt>Detector</dt>
            <dd>
              {alarm.detector}
              {alarm.ruleId ? ` · rule ${alarm.ruleId}` : ''}
            </dd>
          </dl>
          {why ? (
            <>
              <h3 className="subhead">Why</h3>
              <p data-testid="alarm-why">{why}</p>
            </>
          ) : null}
        </section>
        <section className="panel" aria-labelledby="alarm-history">
          <h2 id="alarm-history">History</h2>
          <ol className="timeline">
            {[...history].reverse().map((h, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: history entries carry no id here
              <li key={i}>
                <time dateTime={h.at}>{formatFull(h.at)}</time>
                <span className="timeline-what">
                  <strong>{words(h.kind)}</strong>
                  {h.toStatus && h.fromStatus !== h.toStatus && h.toStatus !== h.kind
                    ? ` → ${h.toStatus}`
                    : ''}{' '}
                  by {who(h, me.user.id)}
                </span>
                {h.comment ? <q className="timeline-comment">{h.comment}</q> : null}
              </li>
            ))}
          </ol>
        </section>
      </div>
      <div className="grid-2">
        <WorkOrdersPanel alarmId={alarm.id} assetId={asset?.id ?? alarm.assetId} title={alarm.title} />
      </div>
    </section>
  );
}
