// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Api } from '../api/client';
import { App } from '../app/App';
import { ServicesProvider } from '../app/context';
import { RouterProvider } from '../app/router';
import type { LiveStream } from '../live/stream';
import { SessionManager } from './session';

afterEach(cleanup);

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function renderApp(fetchFn: (url: string, init?: RequestInit) => Promise<Response>) {
  const session = new SessionManager({
    fetch: fetchFn,
    now: () => Date.now(),
    setTimer: () => 0,
    clearTimer: () => undefined,
    readCookie: () => undefined,
    useCookie: true,
  });
  const stream = { start: () => undefined, stop: () => undefined } as unknown as LiveStream;
  render(
    <ServicesProvider services={{ session, api: new Api(session, fetchFn), stream }}>
      <RouterProvider>
        <App />
      </RouterProvider>
    </ServicesProvider>,
  );
  return session;
}

describe('<App> signed out', () => {
  it('signs in through the authenticator step and says why a code was refused', async () => {
    const bodies: Record<string, string>[] = [];
    const session = renderApp(async (url, init) => {
      if (url !== '/api/v1/auth/login') return json(404, {});
      const body = JSON.parse(String(init?.body)) as Record<string, string>;
      bodies.push(body);
      if (!body.totp)
        return json(401, { status: 401, code: 'MFA_REQUIRED', detail: 'A one-time code is required' });
      return json(401, {
        status: 401,
        code: 'MFA_INVALID',
        detail: 'The one-time code is wrong or already used',
      });
    });
    await act(() => session.start());
    expect(screen.getByRole('heading', { name: 'Sign in to the control room' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'op@example.com' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'a long password' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    });
    expect(screen.getByRole('heading', { name: 'Two-step verification' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Authentication code'), { target: { value: '123456' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    });
    expect(screen.getByRole('alert').textContent).toContain('That code was not accepted');
    expect(bodies.at(-1)).toMatchObject({ email: 'op@example.com', totp: '123456', session: 'cookie' });
    // Back to the first step.
    fireEvent.click(screen.getByRole('button', { name: 'Back' }));
    expect(screen.getByLabelText('Email')).toBeTruthy();
  });

  it('shows the session-expired message on the sign-in form', async () => {
    const session = renderApp(async () => json(404, {}));
    await act(() => session.start());
    act(() => {
      // What the API client does when a renewal is refused while signed in.
      (session as unknown as { current: unknown }).current = { status: 'signed-in' };
      session.expire();
    });
    expect(screen.getByRole('status').textContent).toMatch(/session has expired/);
  });
});
