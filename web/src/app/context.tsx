import { createContext, type ReactNode, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { Api } from '../api/client';
import { describeError } from '../api/errors';
import type { Me } from '../api/types';
import type { SessionManager, SessionState } from '../auth/session';
import type { LiveStatus, LiveStream } from '../live/stream';

export interface AppServices {
  readonly session: SessionManager;
  readonly api: Api;
  readonly stream: LiveStream;
}

const ServicesContext = createContext<AppServices | null>(null);

export function ServicesProvider({ services, children }: { services: AppServices; children: ReactNode }) {
  return <ServicesContext.Provider value={services}>{children}</ServicesContext.Provider>;
}

export function useServices(): AppServices {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('useServices outside ServicesProvider');
  return s;
}

export function useSessionState(): SessionState {
  const { session } = useServices();
  const [state, setState] = useState(session.state);
  useEffect(() => {
    setState(session.state);
    return session.subscribe(setState);
  }, [session]);
  return state;
}

/** The signed-in user (the signed-in part of the app only renders with one). */
export function useMe(): Me {
  const state = useSessionState();
  if (state.status !== 'signed-in') throw new Error('useMe while signed out');
  return state.me;
}

/** Whether the signed-in user holds the permission: views and actions follow it. */
export function useCan(): (permission: string) => boolean {
  const me = useMe();
  return useCallback((p: string) => me.permissions.includes(p), [me]);
}

export function useLiveStatus(): { status: LiveStatus; lastMessageAt: number } {
  const { stream } = useServices();
  const [state, setState] = useState({ status: stream.status, lastMessageAt: stream.lastMessageAt });
  useEffect(
    () =>
      stream.onStatus((status, lastMessageAt) =>
        setState((prev) =>
          prev.status === status && prev.lastMessageAt === lastMessageAt ? prev : { status, lastMessageAt },
        ),
      ),
    [stream],
  );
  return state;
}

export interface Query<T> {
  readonly data: T | undefined;
  readonly error: string | null;
  readonly loading: boolean;
  /** When the data was last loaded (epoch ms). */
  readonly loadedAt: number;
  reload(): void;
}

/**
 * Loads `fn` when `key` changes (null: nothing to load), keeps the last answer while reloading,
 * and aborts a load whose key has moved on.
 */
export function useQuery<T>(key: string | null, fn: (signal: AbortSignal) => Promise<T>): Query<T> {
  const [state, setState] = useState<{
    data: T | undefined;
    error: string | null;
    loading: boolean;
    at: number;
  }>({ data: undefined, error: null, loading: key !== null, at: 0 });
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const lastKey = useRef<string | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick asks for a reload of the same key
  useEffect(() => {
    if (key === null) return;
    const ctrl = new AbortController();
    const sameKey = lastKey.current === key;
    lastKey.current = key;
    setState((s) => ({ ...s, loading: true, error: null, ...(sameKey ? {} : { data: undefined }) }));
    fnRef.current(ctrl.signal).then(
      (data) => {
        if (!ctrl.signal.aborted) setState({ data, error: null, loading: false, at: Date.now() });
      },
      (err: unknown) => {
        if (!ctrl.signal.aborted) setState((s) => ({ ...s, error: describeError(err), loading: false }));
      },
    );
    return () => ctrl.abort();
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, loadedAt: state.at, reload };
}

/** Re-renders every `ms` (relative times, online/offline ages). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(t);
  }, [ms]);
  return now;
}
