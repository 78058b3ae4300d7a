// @vitest-environment happy-dom
import { cleanup, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { json, renderSignedIn } from '../testing/harness';
import { App } from './App';

afterEach(cleanup);

const api = (m: string, url: string) =>
  m === 'GET' && url.startsWith('/api/v1/maintenance') ? json(200, { items: [] }) : undefined;

describe('<App> signed in', () => {
  it('links the maintenance log in the main navigation and opens it (its own chunk)', async () => {
    await renderSignedIn(<App />, { permissions: ['alarms:read'], path: '/maintenance', api, bare: true });
    const nav = screen.getByRole('navigation', { name: 'Main' });
    const link = within(nav).getByRole('link', { name: 'Maintenance' });
    expect(link.getAttribute('href')).toBe('/maintenance');
    expect(link.getAttribute('aria-current')).toBe('page');
    expect(await screen.findByRole('heading', { level: 1, name: 'Maintenance log' })).toBeTruthy();
    expect(await screen.findByText('No work orders yet.')).toBeTruthy();
  });

  it('neither links nor opens it without alarms:read', async () => {
    await renderSignedIn(<App />, { permissions: ['tenant:read'], path: '/maintenance', api, bare: true });
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).queryByRole('link', { name: 'Maintenance' })).toBeNull();
    expect(screen.getByRole('heading', { level: 1, name: 'Not available to your role' })).toBeTruthy();
  });
});
