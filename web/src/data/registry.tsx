import { createContext, type ReactNode, useContext, useEffect, useMemo, useRef, useState } from 'react';
import type { Api } from '../api/client';
import type { Asset, LatestReading, Page, Sensor, SensorType, Site } from '../api/types';
import { type Query, useQuery, useServices } from '../app/context';

export interface Registry {
  readonly sensors: readonly Sensor[];
  readonly sensorById: ReadonlyMap<string, Sensor>;
  readonly types: ReadonlyMap<string, SensorType>;
  readonly assets: ReadonlyMap<string, Asset>;
  readonly sites: ReadonlyMap<string, Site>;
}

const EMPTY: Registry = {
  sensors: [],
  sensorById: new Map(),
  types: new Map(),
  assets: new Map(),
  sites: new Map(),
};

/** Every page of a registry list (bounded: 20 pages of 500). */
export async function allPages<T>(api: Api, path: string, signal: AbortSignal): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 20; i++) {
    const page: Page<T> = await api.get<Page<T>>(path, { query: { limit: 500, cursor }, signal });
    out.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return out;
}

async function loadRegistry(api: Api, signal: AbortSignal): Promise<Registry> {
  const [sensors, types, assets, sites] = await Promise.all([
    allPages<Sensor>(api, '/api/v1/sensors', signal),
    allPages<SensorType>(api, '/api/v1/sensor-types', signal),
    allPages<Asset>(api, '/api/v1/assets', signal),
    allPages<Site>(api, '/api/v1/sites', signal),
  ]);
  return {
    sensors,
    sensorById: new Map(sensors.map((s) => [s.id, s])),
    types: new Map(types.map((t) => [t.id, t])),
    assets: new Map(assets.map((a) => [a.id, a])),
    sites: new Map(sites.map((s) => [s.id, s])),
  };
}

const RegistryContext = createContext<(Query<Registry> & { registry: Registry }) | null>(null);

/** The tenant's sensors, types, assets and sites, loaded once per session (and on refresh). */
export function RegistryProvider({ children }: { children: ReactNode }) {
  const { api } = useServices();
  const q = useQuery('registry', (signal) => loadRegistry(api, signal));
  const value = useMemo(() => ({ ...q, registry: q.data ?? EMPTY }), [q]);
  return <RegistryContext.Provider value={value}>{children}</RegistryContext.Provider>;
}

export function useRegistry(): Query<Registry> & { registry: Registry } {
  const r = useContext(RegistryContext);
  if (!r) throw new Error('useRegistry outside RegistryProvider');
  return r;
}

export interface LatestValue {
  readonly ts: number;
  readonly value: number;
}

export interface LiveValues {
  readonly latest: ReadonlyMap<string, LatestValue>;
  /** The tenant's readings accepted per second over the last minute (all sensors, all transports). */
  readonly perSecond: number | null;
  /** When latest values were last changed. */
  readonly updatedAt: number;
  reload(): void;
}

const LiveValuesContext = createContext<LiveValues | null>(null);
/** Sensors watched live for the overview and explorer (the stream allows 200 per connection). */
export const MAX_WATCHED = 180;
/** How often the tenant's ingest rate is read (the server counts it per second). */
const RATE_POLL_MS = 5_000;

/**
 * Latest value per sensor: loaded over REST, then kept current from the live stream's `readings`
 * channel (flushed to React at most once a second, so a busy fleet does not re-render per reading).
 */
export function LiveValuesProvider({ children }: { children: ReactNode }) {
  const { api, stream } = useServices();
  const { registry } = useRegistry();
  const [latest, setLatest] = useState<ReadonlyMap<string, LatestValue>>(new Map());
  const [updatedAt, setUpdatedAt] = useState(0);
  const [perSecond, setPerSecond] = useState<number | null>(null);
  const [tick, setTick] = useState(0);
  const pending = useRef(new Map<string, LatestValue>());
  const ids = useMemo(
    () => registry.sensors.filter((s) => s.status === 'active').map((s) => s.id),
    [registry.sensors],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: tick asks for a reload
  useEffect(() => {
    if (ids.length === 0) return;
    const ctrl = new AbortController();
    (async () => {
      const map = new Map<string, LatestValue>();
      for (let i = 0; i < ids.length; i += 100) {
        const res = await api.get<{ items: LatestReading[] }>('/api/v1/readings/latest', {
          query: { sensors: ids.slice(i, i + 100).join(',') },
          signal: ctrl.signal,
        });
        for (const r of res.items)
          if (r.ts !== null && r.value !== null) map.set(r.sensor, { ts: Date.parse(r.ts), value: r.value });
      }
      if (ctrl.signal.aborted) return;
      setLatest((prev) => {
        const next = new Map(prev);
        for (const [k, v] of map) if ((next.get(k)?.ts ?? 0) < v.ts) next.set(k, v);
        return next;
      });
      setUpdatedAt(Date.now());
    })().catch(() => undefined);
    return () => ctrl.abort();
  }, [api, ids, tick]);

  useEffect(() => {
    if (ids.length === 0) return;
    const watched = ids.slice(0, MAX_WATCHED);
    const stop = stream.watchReadings(watched, ([id, ts, value]) => {
      const prev = pending.current.get(id);
      if (prev && prev.ts >= ts) return;
      pending.current.set(id, { ts, value });
    });
    const flush = window.setInterval(() => {
      const now = Date.now();
      if (pending.current.size === 0) return;
      const batch = pending.current;
      pending.current = new Map();
      setLatest((prev) => {
        const next = new Map(prev);
        for (const [k, v] of batch) if ((next.get(k)?.ts ?? 0) < v.ts) next.set(k, v);
        return next;
      });
      setUpdatedAt(now);
    }, 1000);
    return () => {
      stop();
      window.clearInterval(flush);
    };
  }, [stream, ids]);

  // The live stream conflates readings (a few per sensor a second at most), so the rate is the
  // server's count of what was accepted, not what arrives here.
  useEffect(() => {
    const ctrl = new AbortController();
    const read = () =>
      api
        .get<{ perSecond: number }>('/api/v1/readings/rate', { signal: ctrl.signal })
        .then((r) => setPerSecond(r.perSecond))
        .catch(() => undefined);
    void read();
    const timer = window.setInterval(() => void read(), RATE_POLL_MS);
    return () => {
      ctrl.abort();
      window.clearInterval(timer);
    };
  }, [api]);

  const value = useMemo(
    () => ({ latest, perSecond, updatedAt, reload: () => setTick((t) => t + 1) }),
    [latest, perSecond, updatedAt],
  );
  return <LiveValuesContext.Provider value={value}>{children}</LiveValuesContext.Provider>;
}

export function useLiveValues(): LiveValues {
  const v = useContext(LiveValuesContext);
  if (!v) throw new Error('useLiveValues outside LiveValuesProvider');
  return v;
}

/** Offline once nothing arrived for three expected intervals (15 minutes when the type has none). */
export function offlineAfterMs(type: SensorType | undefined): number {
  const interval = type?.expectedIntervalS;
  return interval ? Math.max(3 * interval, 60) * 1000 : 15 * 60_000;
}

export type SensorPresence = 'online' | 'offline' | 'no-data' | 'inactive';

export function presenceOf(
  sensor: Sensor,
  type: SensorType | undefined,
  last: LatestValue | undefined,
  now: number,
): SensorPresence {
  if (sensor.status !== 'active') return 'inactive';
  if (!last) return 'no-data';
  return now - last.ts <= offlineAfterMs(type) ? 'online' : 'offline';
}
