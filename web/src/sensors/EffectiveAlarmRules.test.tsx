// @vitest-environment happy-dom
import { cleanup, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmRule, Asset, EffectiveAlarmPolicy } from '../api/types';
import { json, renderSignedIn } from '../testing/harness';
import { clearing, duration, EffectiveAlarmRules, holdBack } from './EffectiveAlarmRules';

afterEach(cleanup);

const SENSOR = '77777777-7777-4777-8777-777777777777';
const ASSET = '88888888-8888-4888-8888-888888888888';
const assets: Asset[] = [
  { id: ASSET, key: 'pump-2', name: 'Pump 2', kind: 'pump', siteId: null, geometry: null },
];

const policy = (over: Partial<EffectiveAlarmPolicy>): EffectiveAlarmPolicy => ({
  detector: 'threshold',
  alarmRuleId: null,
  action: 'raise',
  severity: null,
  minScore: 0,
  delayS: 0,
  minOccurrences: 1,
  withinS: 0,
  autoClear: 'on-clear',
  quietS: 0,
  ...over,
});

const rule = (over: Partial<AlarmRule>): AlarmRule => ({
  id: 'r1',
  name: 'Rule',
  enabled: true,
  sensorTypeId: null,
  assetId: null,
  sensorId: null,
  detectors: ['anomaly'],
  ruleIds: null,
  action: 'raise',
  severity: null,
  minScore: 0,
  delayS: 0,
  minOccurrences: 1,
  withinS: 0,
  autoClear: 'after-quiet',
  quietS: 3600,
  createdAt: '2026-11-01T00:00:00.000Z',
  ...over,
});

const EFFECTIVE = {
  sensorId: SENSOR,
  items: [
    policy({
      detector: 'anomaly',
      alarmRuleId: 'r-asset',
      severity: 'major',
      minScore: 0.8,
      minOccurrences: 3,
      withinS: 600,
      autoClear: 'after-quiet',
      quietS: 3600,
    }),
    policy({ detector: 'threshold' }),
    policy({ detector: 'heartbeat', alarmRuleId: 'r-tenant', action: 'ignore' }),
    policy({ detector: 'flatline', delayS: 300, autoClear: 'manual' }),
  ],
  byRuleId: [
    rule({
      id: 'r-limit',
      name: 'High pressure is critical',
      sensorId: SENSOR,
      detectors: ['threshold'],
      ruleIds: ['high'],
      severity: 'critical',
      autoClear: 'on-clear',
      quietS: 0,
    }),
  ],
};

describe('alarm rules in effect', () => {
  it('says what holds an alarm back and how it clears', () => {
    expect(duration(90)).toBe('90 s');
    expect(duration(300)).toBe('5 min');
    expect(duration(7200)).toBe('2 h');
    expect(holdBack(policy({}))).toBe('at once');
    expect(holdBack(policy({ minScore: 0.8, delayS: 120, minOccurrences: 3, withinS: 600 }))).toBe(
      'score ≥ 0.8, lasting 2 min, 3 times within 10 min',
    );
    expect(clearing({ autoClear: 'after-quiet', quietS: 3600 })).toBe('after 1 h quiet');
    expect(clearing({ autoClear: 'on-clear', quietS: 0 })).toBe('when it clears');
  });

  it('shows which rule decides each detector’s output for the sensor', async () => {
    const calls = await renderSignedIn(<EffectiveAlarmRules sensorId={SENSOR} />, {
      permissions: ['alarms:read'],
      path: `/sensors/${SENSOR}`,
      assets,
      api: (m, url) => {
        if (m !== 'GET') return undefined;
        if (url === `/api/v1/sensors/${SENSOR}/alarm-rules/effective`) return json(200, EFFECTIVE);
        if (url === '/api/v1/alarm-rules/r-asset')
          return json(200, rule({ id: 'r-asset', name: 'Pump anomalies', assetId: ASSET }));
        if (url === '/api/v1/alarm-rules/r-tenant')
          return json(200, rule({ id: 'r-tenant', name: 'No heartbeat alarms', detectors: ['heartbeat'] }));
        return undefined;
      },
    });
    const table = await screen.findByRole('table');
    const row = (detector: string) =>
      within(table.querySelector(`tr[data-detector="${detector}"]`) as HTMLElement);
    expect(row('anomaly').getByText('Pump anomalies')).toBeTruthy();
    expect(row('anomaly').getByText('asset Pump 2')).toBeTruthy();
    expect(row('anomaly').getByText('Major')).toBeTruthy();
    expect(row('anomaly').getByText('score ≥ 0.8, 3 times within 10 min')).toBeTruthy();
    expect(row('anomaly').getByText('after 1 h quiet')).toBeTruthy();
    expect(row('threshold').getByText('Built-in default')).toBeTruthy();
    expect(row('threshold').getByText('at once')).toBeTruthy();
    expect(row('heartbeat').getByText('No heartbeat alarms')).toBeTruthy();
    expect(row('heartbeat').getByText('whole tenant')).toBeTruthy();
    expect(row('heartbeat').getByText('Not raised (ignored)')).toBeTruthy();
    expect(row('flatline').getByText('lasting 5 min')).toBeTruthy();
    expect(row('flatline').getByText('by hand')).toBeTruthy();
    // Rules for particular limits are listed under the table.
    const limits = screen.getByText('High pressure is critical').closest('li')!;
    expect(limits.textContent).toContain('this sensor');
    expect(limits.textContent).toContain('high');
    expect(within(limits).getByText('Critical')).toBeTruthy();
    // Each deciding rule is fetched once; the built-in default needs none.
    expect(calls.filter((c) => c.url.startsWith('/api/v1/alarm-rules/')).map((c) => c.url)).toEqual([
      '/api/v1/alarm-rules/r-asset',
      '/api/v1/alarm-rules/r-tenant',
    ]);
    expect(screen.queryByRole('link', { name: 'Alarm rules in administration' })).toBeNull();
  });

  it('says so when the rules cannot be loaded', async () => {
    await renderSignedIn(<EffectiveAlarmRules sensorId={SENSOR} />, {
      permissions: ['alarms:read'],
      path: `/sensors/${SENSOR}`,
      api: (m, url) =>
        m === 'GET' && url.endsWith('/alarm-rules/effective')
          ? json(404, { status: 404, detail: 'No such sensor' })
          : undefined,
    });
    expect((await screen.findByRole('alert')).textContent).toContain('No such sensor');
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
  });
});
