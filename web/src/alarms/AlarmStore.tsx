import {
  createContext,
  type Dispatch,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
} from 'react';
import type { Api } from '../api/client';
import { describeError } from '../api/errors';
import type { Alarm, Page } from '../api/types';
import { useServices } from '../app/context';
import {
  type AlarmListAction,
  type AlarmListState,
  type AlarmRow,
  alarmListReducer,
  initialAlarmList,
} from './alarm-list';

interface AlarmStore {
  readonly state: AlarmListState;
  readonly dispatch: Dispatch<AlarmListAction>;
  /** Reload the snapshot from the REST API. */
  reload(): void;
  /** The newest alarm that arrived live, for the announcement region. */
  readonly announcement: string;
}

const AlarmContext = createContext<AlarmStore | null>(null);

/** Active alarms (open and acknowledged, up to 500 each) plus the most recent of any status. */
export async function loadAlarms(api: Api, signal: AbortSignal): Promise<Alarm[]> {
  const get = (query: Record<string, string | number>) =>
    api.get<Page<Alarm>>('/api/v1/alarms', { query, signal }).then((p) => p.items);
  const [open, acked, recent] = await Promise.all([
    get({ status: 'open', limit: 500 }),
    get({ status: 'acknowledged', limit: 500 }),
    get({ limit: 200 }),
  ]);
  const byId = new Map<string, Alarm>();
  for (const a of [...recent, ...acked, ...open]) byId.set(a.id, a);
  return [...byId.values()];
}

const SEVERITY_WORD: Record<string, string> = {
  critical: 'Critical',
  major: 'Major',
  minor: 'Minor',
  warning: 'Warning',
  info: 'Info',
};

/**
 * The tenant's alarms, live: a REST snapshot kept current by the stream's `alarms` channel (resumed
 * from the last event id after a reconnect; reloaded when the server says it cannot replay).
 */
export function AlarmStoreProvider({ children }: { children: ReactNode }) {
  const { api, stream } = useServices();
  const [state, dispatch] = useReducer(alarmListReducer, initialAlarmList);
  const [announcement, setAnnouncement] = useState('');
  const loading = useRef<AbortController | null>(null);

  const reload = useCallback(() => {
    loading.current?.abort();
    const ctrl = new AbortController();
    loading.current = ctrl;
    dispatch({ type: 'load-start' });
    loadAlarms(api, ctrl.signal).then(
      (items) => {
        if (!ctrl.signal.aborted) dispatch({ type: 'load-done', items });
      },
      (err: unknown) => {
        if (!ctrl.signal.aborted) dispatch({ type: 'load-failed', error: describeError(err) });
      },
    );
  }, [api]);

  useEffect(() => {
    reload();
    const stop = stream.follow('alarms', {
      event: (message) => {
        dispatch({ type: 'event', message });
        const p = message.payload as { title?: string; severity?: string; replayed?: boolean };
        if (message.type === 'alarm.raised' && !p.replayed)
          setAnnouncement(`New ${SEVERITY_WORD[p.severity ?? ''] ?? ''} alarm: ${p.title ?? ''}`);
      },
      resync: reload,
    });
    return () => {
      stop();
      loading.current?.abort();
    };
  }, [stream, reload]);

  const value = useMemo(() => ({ state, dispatch, reload, announcement }), [state, reload, announcement]);
  return <AlarmContext.Provider value={value}>{children}</AlarmContext.Provider>;
}

export function useAlarmStore(): AlarmStore {
  const s = useContext(AlarmContext);
  if (!s) throw new Error('useAlarmStore outside AlarmStoreProvider');
  return s;
}

export type { AlarmRow };
