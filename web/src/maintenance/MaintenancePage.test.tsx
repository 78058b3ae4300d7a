// @vitest-environment happy-dom
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alarm, Asset, WorkOrder } from '../api/types';
import { json, ME_ID, renderSignedIn } from '../testing/harness';
import { MaintenancePage, WorkOrderDetail } from './MaintenancePage';
import { WorkOrdersPanel } from './WorkOrdersPanel';
import { isLate, maintenanceHref, nextStatuses } from './work-orders';

afterEach(cleanup);

const ASSET_A = '11111111-1111-4111-8111-111111111111';
const ASSET_B = '22222222-2222-4222-8222-222222222222';
const ALARM = '33333333-3333-4333-8333-333333333333';
const INCIDENT = '44444444-4444-4444-8444-444444444444';

const assets: Asset[] = [
  { id: ASSET_A, key: 'pump-1', name: 'Pump 1', kind: 'pump', siteId: null, geometry: null },
  { id: ASSET_B, key: 'tank-1', name: 'Town tank', kind: 'tank', siteId: null, geometry: null },
];

const order = (over: Partial<WorkOrder>): WorkOrder => ({
  id: 'w1',
  assetId: ASSET_A,
  title: 'Replace bearing',
  status: 'planned',
  notes: '',
  assigneeId: null,
  alarmId: null,
  incidentId: null,
  plannedFor: null,
  startedAt: null,
  doneAt: null,
  createdBy: ME_ID,
  createdAt: '2026-11-20T10:00:00.000Z',
  ...over,
});

const ALARM_ROW: Alarm = {
  id: ALARM,
  sensorId: null,
  assetId: ASSET_A,
  severity: 'major',
  status: 'open',
  title: 'Pump 1 vibration high',
  occurrences: 1,
  raisedAt: '2026-11-20T09:00:00.000Z',
  lastSeenAt: '2026-11-20T09:00:00.000Z',
};

const ORDERS = [
  order({ id: 'w1', title: 'Replace bearing', status: 'planned', alarmId: ALARM }),
  order({ id: 'w2', title: 'Inspect seals', status: 'in_progress', incidentId: INCIDENT }),
  order({ id: 'w3', title: 'Clean tank', status: 'done', assetId: ASSET_B }),
];

describe('work order helpers', () => {
  it('moves forward only, and knows a late plan', () => {
    expect(nextStatuses('planned')).toEqual(['in_progress', 'done']);
    expect(nextStatuses('in_progress')).toEqual(['done']);
    expect(nextStatuses('done')).toEqual([]);
    expect(nextStatuses('bogus')).toEqual([]);
    const now = Date.parse('2026-11-21T00:00:00Z');
    expect(isLate(order({ plannedFor: '2026-11-20T00:00:00Z' }), now)).toBe(true);
    expect(isLate(order({ plannedFor: '2026-11-22T00:00:00Z' }), now)).toBe(false);
    expect(isLate(order({ plannedFor: '2026-11-20T00:00:00Z', status: 'in_progress' }), now)).toBe(false);
    expect(maintenanceHref({ asset: 'a', create: true, alarm: 'x', title: 'Fix it' })).toBe(
      '/maintenance?asset=a&new=1&alarm=x&title=Fix+it',
    );
    expect(maintenanceHref({})).toBe('/maintenance');
  });
});

describe('<MaintenancePage>', () => {
  it('lists work orders with links to their alarm and incident, and offers no actions to a reader', async () => {
    const calls = await renderSignedIn(<MaintenancePage />, {
      permissions: ['alarms:read'],
      path: '/maintenance',
      assets,
      alarms: [ALARM_ROW],
      api: (m, url) => {
        if (m === 'GET' && url.startsWith('/api/v1/maintenance')) return json(200, { items: ORDERS });
        if (m === 'GET' && url.startsWith('/api/v1/incidents'))
          return json(200, { items: [{ id: INCIDENT, title: 'Old Town leak' }] });
        return undefined;
      },
    });
    expect(await screen.findByRole('link', { name: 'Replace bearing' })).toBeTruthy();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Maintenance log');
    const first = screen.getByRole('link', { name: 'Replace bearing' }).closest('tr')!;
    expect(
      within(first).getByRole('link', { name: 'Alarm: Pump 1 vibration high' }).getAttribute('href'),
    ).toBe(`/alarms/${ALARM}`);
    const second = screen.getByRole('link', { name: 'Inspect seals' }).closest('tr')!;
    expect(
      within(second)
        .getByRole('link', { name: /Old Town leak/ })
        .getAttribute('href'),
    ).toBe(`/incidents/${INCIDENT}`);
    expect(screen.queryByRole('link', { name: 'New work order' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Start work|Mark done/ })).toBeNull();
    expect(calls.some((c) => c.url === '/api/v1/maintenance?limit=200')).toBe(true);
    // Filter by status: asks the server again and keeps the choice in the address.
    await act(async () => {
      fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'in_progress' } });
    });
    expect(window.location.search).toBe('?status=in_progress');
    expect(calls.some((c) => c.url === '/api/v1/maintenance?status=in_progress&limit=200')).toBe(true);
  });

  it('shows the asset’s log and only the allowed next states, and moves a work order on', async () => {
    const patched: unknown[] = [];
    await renderSignedIn(<MaintenancePage />, {
      permissions: ['alarms:read', 'incidents:write'],
      path: `/maintenance?asset=${ASSET_A}`,
      assets,
      api: (m, url, body) => {
        if (m === 'GET' && url.startsWith('/api/v1/maintenance'))
          return json(200, { items: ORDERS.filter((o) => o.assetId === ASSET_A) });
        if (m === 'PATCH' && url === '/api/v1/maintenance/w1') {
          patched.push(body);
          return json(200, { ...ORDERS[0], status: 'in_progress' });
        }
        if (m === 'GET' && url.startsWith('/api/v1/incidents')) return json(200, { items: [] });
        return undefined;
      },
    });
    expect(
      (await screen.findByRole('heading', { level: 1, name: 'Maintenance log of Pump 1' })).textContent,
    ).toBeTruthy();
    await screen.findByRole('link', { name: 'Replace bearing' });
    const planned = screen.getByRole('link', { name: 'Replace bearing' }).closest('tr')!;
    const inProgress = screen.getByRole('link', { name: 'Inspect seals' }).closest('tr')!;
    expect(
      within(planned)
        .getAllByRole('button')
        .map((b) => b.textContent),
    ).toEqual(['Start work: Replace bearing', 'Mark done: Replace bearing']);
    expect(
      within(inProgress)
        .getAllByRole('button')
        .map((b) => b.textContent),
    ).toEqual(['Mark done: Inspect seals']);
    await act(async () => {
      fireEvent.click(within(planned).getByRole('button', { name: /Start work/ }));
    });
    expect(patched).toEqual([{ status: 'in_progress' }]);
    expect(screen.getByText('“Replace bearing” is now in progress.')).toBeTruthy();
  });

  it('opens the create form prefilled from an alarm and shows the server’s field errors beside the fields', async () => {
    const posted: unknown[] = [];
    let fail = true;
    await renderSignedIn(<MaintenancePage />, {
      permissions: ['alarms:read', 'incidents:write'],
      path: maintenanceHref({ asset: ASSET_A, create: true, alarm: ALARM, title: 'Pump 1 vibration high' }),
      assets,
      api: (m, url, body) => {
        if (m === 'GET' && url.startsWith('/api/v1/maintenance')) return json(200, { items: [] });
        if (m === 'GET' && url === `/api/v1/alarms/${ALARM}`)
          return json(200, { alarm: ALARM_ROW, history: [] });
        if (m === 'GET' && url.startsWith('/api/v1/incidents')) return json(200, { items: [] });
        if (m === 'POST' && url === '/api/v1/maintenance') {
          posted.push(body);
          if (fail) {
            fail = false;
            return json(400, {
              status: 400,
              detail: 'Unknown references',
              errors: [
                { pointer: '/body/title', detail: 'must NOT have more than 200 characters' },
                { pointer: '/body/alarmId', detail: 'is not an alarm of this tenant' },
              ],
            });
          }
          return json(201, order({ id: 'w9', title: 'Pump 1 vibration high', alarmId: ALARM }));
        }
        return undefined;
      },
    });
    const dialog = await screen.findByRole('dialog', { name: 'New work order' });
    expect((within(dialog).getByLabelText('Asset') as HTMLSelectElement).value).toBe(ASSET_A);
    expect((within(dialog).getByLabelText('Title') as HTMLInputElement).value).toBe('Pump 1 vibration high');
    expect(await within(dialog).findByLabelText('Alarm: Pump 1 vibration high')).toBeTruthy();
    expect((within(dialog).getByLabelText('Alarm: Pump 1 vibration high') as HTMLInputElement).checked).toBe(
      true,
    );
    fireEvent.change(within(dialog).getByLabelText('Notes (optional)'), {
      target: { value: 'Check the DE bearing' },
    });
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Create work order' }));
    });
    const title = within(dialog).getByLabelText('Title');
    expect(title.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(title.getAttribute('aria-describedby')!)?.textContent).toBe(
      'must NOT have more than 200 characters',
    );
    expect(within(dialog).getByText('is not an alarm of this tenant')).toBeTruthy();
    expect(within(dialog).getByRole('alert').textContent).toBe('Unknown references');
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Create work order' }));
    });
    expect(posted[1]).toEqual({
      assetId: ASSET_A,
      title: 'Pump 1 vibration high',
      notes: 'Check the DE bearing',
      alarmId: ALARM,
    });
    expect(window.location.search).toBe(`?asset=${ASSET_A}`);
    expect(screen.getByText('Work order “Pump 1 vibration high” created.')).toBeTruthy();
  });
});

describe('<WorkOrderDetail>', () => {
  it('shows the facts and links, and moves on only to the allowed state', async () => {
    const patched: unknown[] = [];
    await renderSignedIn(<WorkOrderDetail id="w2" />, {
      permissions: ['alarms:read', 'incidents:write'],
      path: '/maintenance/w2',
      assets,
      api: (m, url, body) => {
        if (m === 'GET' && url === '/api/v1/maintenance/w2')
          return json(
            200,
            order({ id: 'w2', status: 'in_progress', incidentId: INCIDENT, notes: 'Seal leaks' }),
          );
        if (m === 'GET' && url === `/api/v1/incidents/${INCIDENT}`)
          return json(200, {
            incident: { id: INCIDENT, title: 'Old Town leak' },
            alarmIds: [],
            timeline: [],
          });
        if (m === 'PATCH' && url === '/api/v1/maintenance/w2') {
          patched.push(body);
          return json(200, order({ id: 'w2', status: 'done' }));
        }
        return undefined;
      },
    });
    expect(await screen.findByRole('heading', { level: 1, name: 'Replace bearing' })).toBeTruthy();
    expect((await screen.findByRole('link', { name: 'Old Town leak' })).getAttribute('href')).toBe(
      `/incidents/${INCIDENT}`,
    );
    expect(screen.getByText('Seal leaks')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Start work' })).toBeNull();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Mark done' }));
    });
    expect(patched).toEqual([{ status: 'done' }]);
  });

  it('says so when the work order does not exist', async () => {
    await renderSignedIn(<WorkOrderDetail id="nope" />, {
      permissions: ['alarms:read'],
      path: '/maintenance/nope',
      api: (m, url) =>
        m === 'GET' && url === '/api/v1/maintenance/nope'
          ? json(404, { status: 404, detail: 'No such work order' })
          : undefined,
    });
    expect((await screen.findByRole('alert')).textContent).toContain('No such work order');
  });
});

describe('<WorkOrdersPanel>', () => {
  it('lists an alarm’s work orders and links “Create work order” prefilled, for those who may', async () => {
    await renderSignedIn(
      <WorkOrdersPanel alarmId={ALARM} assetId={ASSET_A} title="Pump 1 vibration high" />,
      {
        permissions: ['alarms:read', 'incidents:write'],
        path: `/alarms/${ALARM}`,
        assets,
        api: (m, url) =>
          m === 'GET' && url.startsWith('/api/v1/maintenance?alarmId=')
            ? json(200, { items: [ORDERS[0]] })
            : undefined,
      },
    );
    expect(await screen.findByRole('link', { name: 'Replace bearing' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Create work order' }).getAttribute('href')).toBe(
      maintenanceHref({ asset: ASSET_A, create: true, alarm: ALARM, title: 'Pump 1 vibration high' }),
    );
    expect(screen.getByRole('link', { name: 'Maintenance log of Pump 1' }).getAttribute('href')).toBe(
      `/maintenance?asset=${ASSET_A}`,
    );
  });

  it('offers no create link without incidents:write', async () => {
    await renderSignedIn(<WorkOrdersPanel incidentId={INCIDENT} assetId={null} />, {
      permissions: ['alarms:read'],
      path: `/incidents/${INCIDENT}`,
      api: (m, url) =>
        m === 'GET' && url.startsWith('/api/v1/maintenance') ? json(200, { items: [] }) : undefined,
    });
    expect(await screen.findByText('No work orders for this incident.')).toBeTruthy();
    expect(screen.queryByRole('link', { name: 'Create work order' })).toBeNull();
  });
});
