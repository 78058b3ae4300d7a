// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Api } from '../api/client';
import type { Device, Me } from '../api/types';
import { ServicesProvider } from '../app/context';
import { RouterProvider } from '../app/router';
import { SessionManager } from '../auth/session';
import type { LiveStream } from '../live/stream';
import { DevicesPage } from './DevicesPage';

afterEach(cleanup);

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const DEVICE: Device = {
  id: 'd1',
  key: 'logger-1',
  name: 'North logger',
  kind: 'logger',
  status: 'active',
  online: true,
  lastSeenAt: null,
  refusedCount: 0,
};

const me = (permissions: string[]): Me => ({
  user: { id: 'u1', email: 'a@example.com', displayName: 'A', isPlatformAdmin: false, totpEnabled: false },
  tenant: { id: 't1', slug: 't', name: 'T', role: 'admin' },
  tenants: [],
  permissions,
  mfaEnrollmentRequired: false,
  sessionId: 's1',
});

/** DevicesPage as a signed-in user with `permissions`, against `api` (path → answer). */
async function renderDevices(
  permissions: string[],
  api: (method: string, url: string, body: unknown) => Response | undefined,
) {
  const calls: string[] = [];
  const fetchFn = async (url: string, init?: RequestInit) => {
    if (url === '/api/v1/auth/refresh') return json(200, { accessToken: 'tok', expiresIn: 900 });
    if (url === '/api/v1/auth/me') return json(200, me(permissions));
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${url}`);
    return api(method, url, init?.body ? JSON.parse(String(init.body)) : undefined) ?? json(404, {});
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
  const stream = {} as unknown as LiveStream;
  window.history.replaceState(null, '', '/admin/devices');
  await act(async () => {
    render(
      <ServicesProvider services={{ session, api: new Api(session, fetchFn), stream }}>
        <RouterProvider>
          <DevicesPage />
        </RouterProvider>
      </ServicesProvider>,
    );
  });
  return calls;
}

describe('<DevicesPage>', () => {
  it('offers no create or quarantine to a role that may only read devices', async () => {
    await renderDevices(['devices:read'], (m, url) =>
      m === 'GET' && url.startsWith('/api/v1/devices')
        ? json(200, { items: [DEVICE], nextCursor: null })
        : undefined,
    );
    expect(await screen.findByText('North logger')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'New device' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Quarantine/ })).toBeNull();
  });

  it('creates a device, issues its credential and shows the token once', async () => {
    const created: unknown[] = [];
    const calls = await renderDevices(
      ['devices:read', 'devices:write', 'devices:credentials'],
      (m, url, body) => {
        if (m === 'GET' && url.startsWith('/api/v1/devices'))
          return json(200, { items: [], nextCursor: null });
        if (m === 'POST' && url === '/api/v1/devices') {
          created.push(body);
          return json(201, { ...DEVICE, id: 'd2', key: 'logger-2' });
        }
        if (m === 'POST' && url === '/api/v1/device-credentials')
          return json(201, { credential: { id: 'c1' }, token: 'vdt_once_only' });
        return undefined;
      },
    );
    expect(await screen.findByText('No devices registered yet.')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'New device' }));
    fireEvent.change(screen.getByLabelText('Key'), { target: { value: 'logger-2' } });
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'South logger' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Create device' }));
    });
    expect(created).toEqual([{ key: 'logger-2', name: 'South logger', kind: 'logger' }]);
    expect(calls).toContain('POST /api/v1/device-credentials');
    expect(screen.getByTestId('secret-value').textContent).toBe('vdt_once_only');
    expect(screen.getByText(/you will not see this again/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'I have stored it' }));
    expect(screen.queryByTestId('secret-value')).toBeNull();
    expect(document.body.textContent).not.toContain('vdt_once_only');
  });

  it('shows the server’s error for a field next to that field', async () => {
    await renderDevices(['devices:read', 'devices:write'], (m, url) => {
      if (m === 'GET') return json(200, { items: [], nextCursor: null });
      if (m === 'POST' && url === '/api/v1/devices')
        return json(400, {
          status: 400,
          detail: 'The request did not pass validation',
          errors: [{ pointer: '/body/key', detail: 'must match pattern' }],
        });
      return undefined;
    });
    fireEvent.click(await screen.findByRole('button', { name: 'New device' }));
    fireEvent.change(screen.getByLabelText('Key'), { target: { value: 'bad key' } });
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'X' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Create device' }));
    });
    const key = screen.getByLabelText('Key');
    expect(key.getAttribute('aria-invalid')).toBe('true');
    expect(
      document.getElementById(key.getAttribute('aria-describedby')!.split(' ').at(-1)!)?.textContent,
    ).toBe('must match pattern');
    expect(screen.getByRole('alert').textContent).toBe('The request did not pass validation');
  });
});
