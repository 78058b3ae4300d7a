// @vitest-environment happy-dom
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Asset, Site } from '../api/types';
import { json, renderSignedIn } from '../testing/harness';
import {
  type Channel,
  channelForm,
  createBody,
  emptyChannelForm,
  patchBody,
  routingSummary,
} from './ChannelForm';
import { pointerIs } from './forms';
import { NotificationsPage } from './NotificationsPage';

afterEach(cleanup);

const SITE = '55555555-5555-4555-8555-555555555555';
const ASSET = '66666666-6666-4666-8666-666666666666';
const sites: Site[] = [{ id: SITE, parentId: null, kind: 'zone', key: 'north', name: 'North zone' }];
const assets: Asset[] = [
  { id: ASSET, key: 'pump-2', name: 'Pump 2', kind: 'pump', siteId: SITE, geometry: null },
];

const CHANNEL: Channel = {
  id: 'c1',
  name: 'On call',
  type: 'webhook',
  url: 'https://hooks.example.com/vigil',
  minSeverity: 'minor',
  enabled: true,
  routing: { events: ['raised', 'escalated'], siteIds: [SITE] },
  quietHours: {
    start: '22:00',
    end: '07:00',
    days: [1, 2, 3, 4, 5],
    timeZone: 'Europe/Berlin',
    minSeverity: 'critical',
    during: 'hold',
  },
  rateLimitPerMinute: 10,
};

describe('channel settings as form fields', () => {
  it('turns the form into the routing, quiet hours and rate limit the server takes', () => {
    const f = {
      ...emptyChannelForm('Europe/Berlin'),
      name: ' Night shift ',
      url: ' https://x.example.com ',
      severities: ['major', 'critical'],
      assetIds: [ASSET],
      quiet: true,
      days: ['5', '1'],
      quietMinSeverity: '',
      during: 'drop' as const,
      rateLimit: '0',
    };
    expect(createBody(f)).toEqual({
      name: 'Night shift',
      type: 'webhook',
      url: 'https://x.example.com',
      minSeverity: 'warning',
      routing: { severities: ['major', 'critical'], assetIds: [ASSET] },
      quietHours: { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin', days: [1, 5], during: 'drop' },
      rateLimitPerMinute: 0,
    });
    // No quiet hours, no lists ticked: nothing restricts.
    expect(createBody(emptyChannelForm('UTC'))).toMatchObject({ routing: {}, rateLimitPerMinute: 30 });
    expect(createBody(emptyChannelForm('UTC'))).not.toHaveProperty('quietHours');
  });

  it('patches only what changed, and null turns quiet hours off', () => {
    const form = channelForm(CHANNEL, 'UTC');
    expect(form.timeZone).toBe('Europe/Berlin');
    expect(form.days).toEqual(['1', '2', '3', '4', '5']);
    expect(patchBody(form, CHANNEL)).toEqual({});
    // The same lists in another order are no change.
    expect(patchBody({ ...form, events: ['escalated', 'raised'] }, CHANNEL)).toEqual({});
    expect(patchBody({ ...form, rateLimit: '60', events: [] }, CHANNEL)).toEqual({
      routing: { siteIds: [SITE] },
      rateLimitPerMinute: 60,
    });
    expect(patchBody({ ...form, quiet: false }, CHANNEL)).toEqual({ quietHours: null });
    expect(patchBody({ ...form, url: 'https://other.example.com' }, CHANNEL)).toEqual({
      url: 'https://other.example.com',
    });
  });

  it('summarises a channel’s routing in one line', () => {
    const registry = {
      sensors: [],
      sensorById: new Map(),
      types: new Map(),
      assets: new Map(assets.map((a) => [a.id, a])),
      sites: new Map(sites.map((s) => [s.id, s])),
    };
    expect(routingSummary(CHANNEL, registry)).toBe(
      'events raised, escalated · at North zone · quiet 22:00–07:00 Europe/Berlin (Mon Tue Wed Thu Fri), held below critical · 10/min',
    );
  });

  it('places nested pointers on their field', () => {
    expect(pointerIs('/body/quietHours/timeZone', 'quietHours/timeZone')).toBe(true);
    expect(pointerIs('/body/routing/assetIds/3', 'routing/assetIds')).toBe(true);
    expect(pointerIs('/body/routing/assetIdsX', 'routing/assetIds')).toBe(false);
    expect(pointerIs('/body/name', 'name')).toBe(true);
  });
});

function renderPage(
  permissions: string[],
  api: (method: string, url: string, body: unknown) => Response | undefined,
  channels: Channel[] = [],
) {
  return renderSignedIn(<NotificationsPage />, {
    permissions,
    path: '/admin/notifications',
    sites,
    assets,
    api: (m, url, body) => {
      const own = api(m, url, body);
      if (own) return own;
      if (m === 'GET' && url === '/api/v1/notification-channels') return json(200, { items: channels });
      if (m === 'GET' && url.startsWith('/api/v1/maintenance-windows'))
        return json(200, { items: [], nextCursor: null });
      return undefined;
    },
  });
}

const group = (dialog: HTMLElement, name: string) => within(within(dialog).getByRole('group', { name }));

describe('<NotificationsPage> channels', () => {
  it('offers no create or settings to a role that may only read', async () => {
    await renderPage(['alarms:read'], () => undefined, [CHANNEL]);
    expect(await screen.findByText('On call')).toBeTruthy();
    expect(screen.getByTestId('channel-routing').textContent).toContain('quiet 22:00–07:00');
    expect(screen.queryByRole('button', { name: 'New channel' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Settings/ })).toBeNull();
  });

  it('creates a channel with routing, quiet hours and a rate limit from form fields', async () => {
    const posted: unknown[] = [];
    await renderPage(['alarms:read', 'alarms:manage'], (m, url, body) => {
      if (m === 'POST' && url === '/api/v1/notification-channels') {
        posted.push(body);
        return json(201, { channel: { ...CHANNEL, id: 'c2' }, secret: 'sig_once' });
      }
      return undefined;
    });
    fireEvent.click(await screen.findByRole('button', { name: 'New channel' }));
    const dialog = screen.getByRole('dialog', { name: 'New notification channel' });
    const d = within(dialog);
    fireEvent.change(d.getByLabelText('Name'), { target: { value: 'Night shift' } });
    fireEvent.change(d.getByLabelText('URL'), { target: { value: 'https://hooks.example.com/n' } });
    fireEvent.click(group(dialog, 'Only these severities').getByLabelText('Critical'));
    fireEvent.click(group(dialog, 'Only these severities').getByLabelText('Major'));
    fireEvent.click(group(dialog, 'Only these events').getByLabelText('Raised'));
    fireEvent.click(group(dialog, 'Only alarms of these assets').getByLabelText('Pump 2'));
    fireEvent.click(d.getByLabelText('Keep quiet hours'));
    fireEvent.change(d.getByLabelText('Time zone (IANA)'), { target: { value: 'Europe/Berlin' } });
    fireEvent.change(d.getByLabelText('From'), { target: { value: '21:30' } });
    fireEvent.change(d.getByLabelText('Until'), { target: { value: '06:00' } });
    fireEvent.click(group(dialog, 'Starting on').getByLabelText('Sat'));
    fireEvent.change(d.getByLabelText('The others'), { target: { value: 'drop' } });
    fireEvent.change(d.getByLabelText('Rate limit (deliveries per minute)'), { target: { value: '12' } });
    await act(async () => {
      fireEvent.click(d.getByRole('button', { name: 'Create channel' }));
    });
    expect(posted).toEqual([
      {
        name: 'Night shift',
        type: 'webhook',
        url: 'https://hooks.example.com/n',
        minSeverity: 'warning',
        routing: { severities: ['major', 'critical'], events: ['raised'], assetIds: [ASSET] },
        quietHours: {
          start: '21:30',
          end: '06:00',
          timeZone: 'Europe/Berlin',
          days: [6],
          minSeverity: 'critical',
          during: 'drop',
        },
        rateLimitPerMinute: 12,
      },
    ]);
    expect(screen.getByTestId('secret-value').textContent).toBe('sig_once');
  });

  it('shows the server’s pointer errors next to the routing, quiet-hours and rate-limit fields', async () => {
    await renderPage(['alarms:read', 'alarms:manage'], (m, url) =>
      m === 'POST' && url === '/api/v1/notification-channels'
        ? json(400, {
            status: 400,
            detail: 'The channel settings are not valid',
            errors: [
              {
                pointer: '/body/quietHours/timeZone',
                detail: 'must be an IANA time zone such as Europe/Berlin',
              },
              { pointer: '/body/quietHours/end', detail: 'must differ from start' },
              { pointer: '/body/routing/assetIds/0', detail: 'is not an asset of this tenant' },
              { pointer: '/body/rateLimitPerMinute', detail: 'must be <= 6000' },
              { pointer: '/body/routing/colour', detail: 'must NOT have additional properties' },
            ],
          })
        : undefined,
    );
    fireEvent.click(await screen.findByRole('button', { name: 'New channel' }));
    const dialog = screen.getByRole('dialog', { name: 'New notification channel' });
    const d = within(dialog);
    fireEvent.change(d.getByLabelText('Name'), { target: { value: 'X' } });
    fireEvent.change(d.getByLabelText('URL'), { target: { value: 'https://hooks.example.com/n' } });
    fireEvent.click(d.getByLabelText('Keep quiet hours'));
    fireEvent.change(d.getByLabelText('Time zone (IANA)'), { target: { value: 'Mars/Olympus' } });
    await act(async () => {
      fireEvent.click(d.getByRole('button', { name: 'Create channel' }));
    });
    const describedBy = (el: HTMLElement) =>
      (el.getAttribute('aria-describedby') ?? '')
        .split(' ')
        .map((id) => document.getElementById(id)?.textContent)
        .join(' | ');
    const zone = d.getByLabelText('Time zone (IANA)');
    expect(zone.getAttribute('aria-invalid')).toBe('true');
    expect(describedBy(zone)).toContain('must be an IANA time zone such as Europe/Berlin');
    expect(describedBy(d.getByLabelText('Until'))).toContain('must differ from start');
    expect(describedBy(d.getByLabelText('Rate limit (deliveries per minute)'))).toContain('must be <= 6000');
    const assetsGroup = d.getByRole('group', { name: 'Only alarms of these assets' });
    expect(assetsGroup.getAttribute('aria-invalid')).toBe('true');
    expect(describedBy(assetsGroup)).toContain('is not an asset of this tenant');
    // What no field shows stays in the form's message.
    const alert = d.getByRole('alert');
    expect(alert.textContent).toContain('The channel settings are not valid');
    expect(alert.textContent).toContain('/body/routing/colour');
    expect(alert.textContent).not.toContain('must differ from start');
  });

  it('edits a channel’s settings and sends only what changed', async () => {
    const patched: unknown[] = [];
    await renderPage(
      ['alarms:read', 'alarms:manage'],
      (m, url, body) => {
        if (m === 'PATCH' && url === '/api/v1/notification-channels/c1') {
          patched.push(body);
          return json(200, CHANNEL);
        }
        return undefined;
      },
      [CHANNEL],
    );
    fireEvent.click(await screen.findByRole('button', { name: 'Settings… of On call' }));
    const dialog = screen.getByRole('dialog', { name: 'Settings of On call' });
    const d = within(dialog);
    expect(d.queryByLabelText('Type')).toBeNull();
    expect((d.getByLabelText('Time zone (IANA)') as HTMLInputElement).value).toBe('Europe/Berlin');
    expect((group(dialog, 'Only these events').getByLabelText('Escalated') as HTMLInputElement).checked).toBe(
      true,
    );
    expect(
      (group(dialog, 'Only alarms at these sites').getByLabelText('North zone') as HTMLInputElement).checked,
    ).toBe(true);
    fireEvent.click(group(dialog, 'Only these events').getByLabelText('Escalated'));
    fireEvent.change(d.getByLabelText('Still send from severity'), { target: { value: 'major' } });
    await act(async () => {
      fireEvent.click(d.getByRole('button', { name: 'Save channel' }));
    });
    expect(patched).toEqual([
      {
        routing: { events: ['raised'], siteIds: [SITE] },
        quietHours: {
          start: '22:00',
          end: '07:00',
          timeZone: 'Europe/Berlin',
          days: [1, 2, 3, 4, 5],
          minSeverity: 'major',
          during: 'hold',
        },
      },
    ]);
  });
});
