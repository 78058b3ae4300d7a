import type { Alarm, AlarmStatus, Severity } from '../api/types';
import type { StreamMessage } from '../live/stream';

export const SEVERITIES: readonly Severity[] = ['critical', 'major', 'minor', 'warning', 'info'];
export const SEVERITY_RANK: Readonly<Record<string, number>> = {
  critical: 5,
  major: 4,
  minor: 3,
  warning: 2,
  info: 1,
};

/** An alarm as the list holds it: `fresh` marks one that arrived live (highlighted until seen). */
export interface AlarmRow extends Alarm {
  readonly fresh?: boolean;
}

export interface AlarmListState {
  readonly byId: Readonly<Record<string, AlarmRow>>;
  readonly loading: boolean;
  readonly loaded: boolean;
  readonly error: string | null;
  /** The newest stream event applied (history entry id). */
  readonly lastEventId: string | null;
  /**
   * Per alarm, the newest event applied: an event at or below it is skipped (a replay of one
   * already seen). Kept per alarm, not overall, because ids commit out of order on PostgreSQL: an
   * older id of another alarm can arrive after a newer one, live or replayed, and must apply.
   */
  readonly eventIdByAlarm: Readonly<Record<string, string>>;
  /** Events received while a REST load is in flight, applied again on top of its answer. */
  readonly buffered: readonly StreamMessage[];
}

export type AlarmListAction =
  | { readonly type: 'load-start' }
  | { readonly type: 'load-done'; readonly items: readonly Alarm[] }
  | { readonly type: 'load-failed'; readonly error: string }
  | { readonly type: 'event'; readonly message: StreamMessage }
  | { readonly type: 'patch'; readonly alarm: Alarm }
  | { readonly type: 'seen'; readonly id: string };

export const initialAlarmList: AlarmListState = {
  byId: {},
  loading: false,
  loaded: false,
  error: null,
  lastEventId: null,
  eventIdByAlarm: {},
  buffered: [],
};

const iso = (ms: unknown, fallback: string): string =>
  typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : fallback;

/** Event ids are decimal strings that may exceed 2^53: compare them as such. */
export function newerId(a: string, b: string | null): boolean {
  if (b === null) return true;
  if (a.length !== b.length) return a.length > b.length;
  return a > b;
}

/** What one stream event does to its alarm (a new one is created from the payload). */
export function applyEvent(row: AlarmRow | undefined, m: StreamMessage): AlarmRow | undefined {
  const p = m.payload as {
    alarmId?: string;
    title?: string;
    severity?: Severity;
    status?: AlarmStatus;
    sensorId?: string | null;
    assetId?: string | null;
    occurrences?: number;
    lastSeenAt?: number;
    replayed?: boolean;
  };
  if (!p.alarmId) return row;
  const lastSeenAt = iso(p.lastSeenAt, row?.lastSeenAt ?? new Date(0).toISOString());
  const base: AlarmRow = row ?? {
    id: p.alarmId,
    title: p.title ?? 'Alarm',
    severity: p.severity ?? 'warning',
    status: p.status ?? 'open',
    sensorId: p.sensorId ?? null,
    assetId: p.assetId ?? null,
    occurrences: p.occurrences ?? 1,
    raisedAt: lastSeenAt,
    lastSeenAt,
    fresh: m.type === 'alarm.raised' && !p.replayed,
  };
  const next: AlarmRow = {
    ...base,
    ...(p.title ? { title: p.title } : {}),
    ...(p.severity ? { severity: p.severity } : {}),
    ...(p.status ? { status: p.status } : {}),
    ...(p.occurrences !== undefined ? { occurrences: p.occurrences } : {}),
    ...(p.lastSeenAt !== undefined && lastSeenAt > base.lastSeenAt ? { lastSeenAt } : {}),
  };
  switch (m.type) {
    case 'alarm.shelved':
      return { ...next, shelved: true };
    case 'alarm.unshelved':
      return { ...next, shelved: false, shelvedUntil: null };
    case 'alarm.flapping':
      return { ...next, flapping: true };
    case 'alarm.raised':
      // The same key raised again after it resolved is a new alarm id; this one is live again.
      return row && !p.replayed ? { ...next, fresh: true } : next;
    default:
      return next;
  }
}

function applyAll(byId: Record<string, AlarmRow>, messages: readonly StreamMessage[]) {
  for (const m of messages) {
    const id = (m.payload as { alarmId?: string }).alarmId;
    if (!id) continue;
    const next = applyEvent(byId[id], m);
    if (next) byId[id] = next;
  }
}

/** The live alarm list: a REST snapshot with stream events applied on top, in order, once. */
export function alarmListReducer(state: AlarmListState, action: AlarmListAction): AlarmListState {
  switch (action.type) {
    case 'load-start':
      return { ...state, loading: true, error: null, buffered: [] };
    case 'load-done': {
      const byId: Record<string, AlarmRow> = {};
      for (const a of action.items) {
        const old = state.byId[a.id];
        byId[a.id] = old?.fresh ? { ...a, fresh: true } : a;
      }
      applyAll(byId, state.buffered);
      return { ...state, byId, loading: false, loaded: true, error: null, buffered: [] };
    }
    case 'load-failed':
      return { ...state, loading: false, error: action.error, buffered: [] };
    case 'event': {
      const { message } = action;
      const alarmId = (message.payload as { alarmId?: string }).alarmId;
      const seen = alarmId === undefined ? undefined : state.eventIdByAlarm[alarmId];
      if (message.id !== null && seen !== undefined && !newerId(message.id, seen)) return state;
      const byId = { ...state.byId };
      applyAll(byId, [message]);
      return {
        ...state,
        byId,
        lastEventId:
          message.id !== null && newerId(message.id, state.lastEventId) ? message.id : state.lastEventId,
        eventIdByAlarm:
          message.id !== null && alarmId !== undefined
            ? { ...state.eventIdByAlarm, [alarmId]: message.id }
            : state.eventIdByAlarm,
        buffered: state.loading ? [...state.buffered, message] : state.buffered,
      };
    }
    case 'patch': {
      const old = state.byId[action.alarm.id];
      return {
        ...state,
        byId: { ...state.byId, [action.alarm.id]: { ...old, ...action.alarm, fresh: false } },
      };
    }
    case 'seen': {
      const old = state.byId[action.id];
      if (!old?.fresh) return state;
      return { ...state, byId: { ...state.byId, [action.id]: { ...old, fresh: false } } };
    }
  }
}

export type StatusFilter = 'active' | 'open' | 'acknowledged' | 'shelved' | 'resolved' | 'all';

export interface AlarmFilter {
  readonly status: StatusFilter;
  readonly severity: Severity | 'all';
  readonly q: string;
  readonly sensorId?: string;
  readonly assetIds?: ReadonlySet<string>;
}

export const isActive = (a: Alarm) => a.status === 'open' || a.status === 'acknowledged';

function matchesStatus(a: Alarm, s: StatusFilter): boolean {
  switch (s) {
    case 'active':
      return isActive(a);
    case 'open':
      return a.status === 'open';
    case 'acknowledged':
      return a.status === 'acknowledged';
    case 'shelved':
      return isActive(a) && a.shelved === true;
    case 'resolved':
      return a.status === 'resolved' || a.status === 'closed';
    case 'all':
      return true;
  }
}

/**
 * The rows to show, in the order an operator works them (ISA-18.2): active before cleared,
 * highest priority first, unacknowledged before acknowledged, newest first; shelved last.
 */
export function visibleAlarms(state: AlarmListState, f: AlarmFilter): AlarmRow[] {
  const q = f.q.trim().toLowerCase();
  return Object.values(state.byId)
    .filter(
      (a) =>
        matchesStatus(a, f.status) &&
        (f.severity === 'all' || a.severity === f.severity) &&
        (!f.sensorId || a.sensorId === f.sensorId) &&
        (!f.assetIds || (a.assetId !== null && f.assetIds.has(a.assetId))) &&
        (!q || a.title.toLowerCase().includes(q)),
    )
    .sort(
      (a, b) =>
        Number(isActive(b)) - Number(isActive(a)) ||
        Number(a.shelved === true) - Number(b.shelved === true) ||
        (SEVERITY_RANK[b.severity] ?? 0) - (SEVERITY_RANK[a.severity] ?? 0) ||
        Number(b.status === 'open') - Number(a.status === 'open') ||
        (a.lastSeenAt < b.lastSeenAt ? 1 : a.lastSeenAt > b.lastSeenAt ? -1 : 0),
    );
}

/** Active alarms per severity, and how many of them nobody has acknowledged. */
export function severityCounts(state: AlarmListState): Record<Severity, { total: number; unacked: number }> {
  const out = Object.fromEntries(SEVERITIES.map((s) => [s, { total: 0, unacked: 0 }])) as Record<
    Severity,
    { total: number; unacked: number }
  >;
  for (const a of Object.values(state.byId)) {
    if (!isActive(a)) continue;
    const c = out[a.severity] ?? out.info;
    c.total++;
    if (a.status === 'open') c.unacked++;
  }
  return out;
}

/** The worst active severity per asset (for the schematic), via the alarm's asset or its sensor's. */
export function worstByAsset(
  state: AlarmListState,
  assetOfSensor: (sensorId: string) => string | null | undefined,
): Map<string, Severity> {
  const out = new Map<string, Severity>();
  for (const a of Object.values(state.byId)) {
    if (!isActive(a)) continue;
    const asset = a.assetId ?? (a.sensorId ? assetOfSensor(a.sensorId) : null);
    if (!asset) continue;
    const prev = out.get(asset);
    if (!prev || (SEVERITY_RANK[a.severity] ?? 0) > (SEVERITY_RANK[prev] ?? 0)) out.set(asset, a.severity);
  }
  return out;
}
