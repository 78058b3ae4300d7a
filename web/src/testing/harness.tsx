/**
 * Component tests of signed-in pages (happy-dom): a session as a user with given permissions, the
 * API answered by a function (method, URL, JSON body → Response), the registry and alarm store
 * providers, and a live stream that never sends. Not part of the app bundle.
 */
import { act, render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { AlarmStoreProvider } from '../alarms/AlarmStore';
import { Api } from '../api/client';
import type { Alarm, Asset, Me, Sensor, SensorType, Site } from '../api/types';
import { ServicesProvider } from '../app/context';
import { RouterProvider } from '../app/router';
import { SessionManager } from '../auth/session';
import { RegistryProvider } from '../data/registry';
import type { LiveStream } from '../live/stream';

export const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export const ME_ID = 'u1';

export const me = (permissions: string[]): Me => ({
  user: { id: ME_ID, email: 'a@example.com', displayName: 'Ada', isPlatformAdmin: false, totpEnabled: false },
  tenant: { id: 't1', slug: 't', name: 'T', role: 'operator' },
  tenants: [],
  permissions,
  mfaEnrollmentRequired: false,
  sessionId: 's1',
});

export interface Call {
  readonly method: string;
  readonly url: string;
  readonly body: unknown;
}

export interface Fixture {
  readonly permissions: string[];
  /** Where the page is (pathname and query). */
  readonly path: string;
  /** Answers the page's own calls; undefined falls through to the registry and alarm defaults (then 404). */
  readonly api: (method: string, url: string, body: unknown) => Response | undefined;
  readonly sensors?: Sensor[];
  readonly types?: SensorType[];
  readonly assets?: Asset[];
  readonly sites?: Site[];
  readonly alarms?: Alarm[];
  /** The live stream's `follow` (default: a stream that never sends). */
  readonly follow?: LiveStream['follow'];
  /** Without the registry and alarm providers (for rendering <App>, which has its own). */
  readonly bare?: boolean;
}

const page = (items: unknown[]) => json(200, { items, nextCursor: null });

/** Renders `ui` signed in, inside the app's providers; returns the API calls made (a live list). */
export async function renderSignedIn(ui: ReactNode, f: Fixture): Promise<Call[]> {
  const calls: Call[] = [];
  const fetchFn = async (url: string, init?: RequestInit) => {
    if (url === '/api/v1/auth/refresh') return json(200, { accessToken: 'tok', expiresIn: 900 });
    if (url === '/api/v1/auth/me') return json(200, me(f.permissions));
    const method = init?.method ?? 'GET';
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, url, body });
    const own = f.api(method, url, body);
    if (own) return own;
    const path = url.split('?')[0];
    if (method === 'GET') {
      if (path === '/api/v1/sensors') return page(f.sensors ?? []);
      if (path === '/api/v1/sensor-types') return page(f.types ?? []);
      if (path === '/api/v1/assets') return page(f.assets ?? []);
      if (path === '/api/v1/sites') return page(f.sites ?? []);
      if (path === '/api/v1/alarms') return page(f.alarms ?? []);
      if (path === '/api/v1/readings/latest') return json(200, { items: [] });
    }
    return json(404, { status: 404, detail: 'Not found' });
  };
  const session = new SessionManager({
    fetch: fetchFn,
    now: () => Date.now(),
    setTimer: () => 0,
    clearTimer: () => undefined,
    readCookie: () => 'csrf',
    useCookie: true,
  });
  await session.start();
  const none = () => () => undefined;
  const stream = {
    status: 'live',
    lastMessageAt: 0,
    start: () => undefined,
    stop: () => undefined,
    follow: f.follow ?? none,
    watchReadings: none,
    onStatus: none,
  } as unknown as LiveStream;
  window.history.replaceState(null, '', f.path);
  await act(async () => {
    render(
      <ServicesProvider services={{ session, api: new Api(session, fetchFn), stream }}>
        <RouterProvider>
          {f.bare ? (
            ui
          ) : (
            <RegistryProvider>
              <AlarmStoreProvider>{ui}</AlarmStoreProvider>
            </RegistryProvider>
          )}
        </RouterProvider>
      </ServicesProvider>,
    );
  });
  return calls;
}
