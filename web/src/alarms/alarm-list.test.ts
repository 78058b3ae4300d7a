import { describe, expect, it } from 'vitest';
import type { Alarm } from '../api/types';
import type { StreamMessage } from '../live/stream';
import {
  type AlarmListState,
  alarmListReducer,
  initialAlarmList,
  newerId,
  severityCounts,
  visibleAlarms,
  worstByAsset,
} from './alarm-list';

const T0 = Date.parse('2026-11-24T12:00:00Z');

const alarm = (id: string, over: Partial<Alarm> = {}): Alarm => ({
  id,
  title: `Alarm ${id}`,
  severity: 'minor',
  status: 'open',
  sensorId: `s-${id}`,
  assetId: null,
  occurrences: 1,
  raisedAt: new Date(T0).toISOString(),
  lastSeenAt: new Date(T0).toISOString(),
  ...over,
});

const event = (
  id: string,
  type: string,
  alarmId: string,
  over: Record<string, unknown> = {},
): StreamMessage => ({
  type,
  channel: 'alarms',
  id,
  payload: {
    alarmId,
    title: `Alarm ${alarmId}`,
    severity: 'major',
    status: 'open',
    sensorId: `s-${alarmId}`,
    assetId: null,
    occurrences: 1,
    lastSeenAt: T0 + 60_000,
    ...over,
  },
});

const run = (actions: Parameters<typeof alarmListReducer>[1][], from: AlarmListState = initialAlarmList) =>
  actions.reduce(alarmListReducer, from);

describe('the live alarm list', () => {
  it('shows the REST snapshot, then adds alarms raised live, marked fresh', () => {
    const s = run([
      { type: 'load-start' },
      { type: 'load-done', items: [alarm('a')] },
      { type: 'event', message: event('10', 'alarm.raised', 'b') },
    ]);
    expect(Object.keys(s.byId).sort()).toEqual(['a', 'b']);
    expect(s.byId.b).toMatchObject({ severity: 'major', status: 'open', fresh: true });
    expect(s.byId.a?.fresh).toBeUndefined();
    expect(s.lastEventId).toBe('10');
  });

  it('applies events that arrive during a load on top of its answer (the snapshot may predate them)', () => {
    const s = run([
      { type: 'load-start' },
      { type: 'event', message: event('11', 'alarm.acknowledged', 'a', { status: 'acknowledged' }) },
      // The snapshot was read before the acknowledgement committed.
      { type: 'load-done', items: [alarm('a', { status: 'open' })] },
    ]);
    expect(s.byId.a?.status).toBe('acknowledged');
    expect(s.loading).toBe(false);
    expect(s.buffered).toEqual([]);
  });

  it('ignores replayed events it has already applied (resume after a reconnect)', () => {
    const s = run([
      { type: 'load-done', items: [] },
      { type: 'event', message: event('20', 'alarm.raised', 'c', { occurrences: 1 }) },
      { type: 'event', message: event('21', 'alarm.repeated', 'c', { occurrences: 2 }) },
      // After a reconnect the server replays from an older id.
      { type: 'event', message: event('20', 'alarm.raised', 'c', { occurrences: 1, replayed: true }) },
      {
        type: 'event',
        message: event('22', 'alarm.resolved', 'c', { status: 'resolved', occurrences: 2, replayed: true }),
      },
    ]);
    expect(s.byId.c).toMatchObject({ occurrences: 2, status: 'resolved' });
    expect(s.lastEventId).toBe('22');
  });

  it("applies another alarm's event with an older id (committed out of order), never an alarm's own older one", () => {
    const s = run([
      { type: 'load-done', items: [] },
      { type: 'event', message: event('30', 'alarm.raised', 'a', { occurrences: 1 }) },
      // Alarm b's event got its id first but committed after a's (PostgreSQL): it still counts.
      { type: 'event', message: event('28', 'alarm.raised', 'b', { occurrences: 1 }) },
      // An older event of a, arriving late, would take a backwards.
      { type: 'event', message: event('29', 'alarm.resolved', 'a', { status: 'resolved' }) },
    ]);
    expect(Object.keys(s.byId).sort()).toEqual(['a', 'b']);
    expect(s.byId.a).toMatchObject({ status: 'open' });
    expect(s.lastEventId).toBe('30');
  });

  it('compares event ids as big decimal numbers', () => {
    expect(newerId('10', '9')).toBe(true);
    expect(newerId('9', '10')).toBe(false);
    expect(newerId('9007199254740993', '9007199254740992')).toBe(true);
    expect(newerId('5', null)).toBe(true);
  });

  it('tracks shelving and a patch from an action answer', () => {
    let s = run([
      { type: 'load-done', items: [alarm('d')] },
      { type: 'event', message: event('30', 'alarm.shelved', 'd') },
    ]);
    expect(s.byId.d?.shelved).toBe(true);
    s = run([{ type: 'patch', alarm: alarm('d', { status: 'acknowledged', shelved: false }) }], s);
    expect(s.byId.d).toMatchObject({ status: 'acknowledged', shelved: false, fresh: false });
  });

  it('orders active alarms by priority, unacknowledged first, newest first; shelved and cleared last', () => {
    const s = run([
      {
        type: 'load-done',
        items: [
          alarm('minor-old', { severity: 'minor', lastSeenAt: '2026-11-24T10:00:00Z' }),
          alarm('minor-new', { severity: 'minor', lastSeenAt: '2026-11-24T11:00:00Z' }),
          alarm('critical-acked', { severity: 'critical', status: 'acknowledged' }),
          alarm('critical-open', { severity: 'critical' }),
          alarm('major-shelved', { severity: 'major', shelved: true }),
          alarm('resolved', { severity: 'critical', status: 'resolved' }),
        ],
      },
    ]);
    const f = { severity: 'all' as const, q: '' };
    expect(visibleAlarms(s, { ...f, status: 'active' }).map((a) => a.id)).toEqual([
      'critical-open',
      'critical-acked',
      'minor-new',
      'minor-old',
      'major-shelved',
    ]);
    expect(visibleAlarms(s, { ...f, status: 'all' }).at(-1)?.id).toBe('resolved');
    expect(visibleAlarms(s, { ...f, status: 'open', severity: 'minor' }).map((a) => a.id)).toEqual([
      'minor-new',
      'minor-old',
    ]);
    expect(visibleAlarms(s, { status: 'all', severity: 'all', q: 'CRITICAL-o' }).map((a) => a.id)).toEqual([
      'critical-open',
    ]);
    const counts = severityCounts(s);
    expect(counts.critical).toEqual({ total: 2, unacked: 1 });
    expect(counts.minor).toEqual({ total: 2, unacked: 2 });
  });

  it("finds each asset's worst active alarm, through the alarm's sensor when it has no asset", () => {
    const s = run([
      {
        type: 'load-done',
        items: [
          alarm('1', { severity: 'minor', assetId: 'pump' }),
          alarm('2', { severity: 'major', sensorId: 'vib', assetId: null }),
          alarm('3', { severity: 'critical', assetId: 'pump', status: 'resolved' }),
        ],
      },
    ]);
    const worst = worstByAsset(s, (sensorId) => (sensorId === 'vib' ? 'pump' : null));
    expect(worst.get('pump')).toBe('major');
  });
});
