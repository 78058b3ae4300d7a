import { useEffect, useRef } from 'react';
import type { Incident } from '../api/types';
import { type Query, useQuery, useServices } from '../app/context';

/** The tenant's recent incidents, reloaded (at most every 2 s) when the stream reports a change. */
export function useIncidents(): Query<{ items: Incident[] }> {
  const { api, stream } = useServices();
  const q = useQuery('incidents', (signal) =>
    api.get<{ items: Incident[] }>('/api/v1/incidents', { query: { limit: 300 }, signal }),
  );
  const reload = q.reload;
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => {
    const stop = stream.follow('incidents', {
      event: () => {
        if (timer.current !== undefined) return;
        timer.current = window.setTimeout(() => {
          timer.current = undefined;
          reload();
        }, 2000);
      },
      resync: reload,
    });
    return () => {
      stop();
      window.clearTimeout(timer.current);
      timer.current = undefined;
    };
  }, [stream, reload]);
  return q;
}
