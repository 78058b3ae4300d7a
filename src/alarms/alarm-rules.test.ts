import { describe, expect, it } from 'vitest';
import { type AlarmRule, defaultPolicy, holdsBack, policyFor } from './alarm-rules.js';

const rule = (over: Partial<AlarmRule>): AlarmRule => ({
  id: 'r',
  name: 'r',
  enabled: true,
  sensorTypeId: null,
  assetId: null,
  sensorId: null,
  detectors: ['*'],
  ruleIds: null,
  action: 'raise',
  severity: null,
  minScore: 0,
  delayS: 0,
  minOccurrences: 1,
  withinS: 0,
  autoClear: 'on-clear',
  quietS: 0,
  createdAt: 0,
  ...over,
});
const subject = { sensorId: 's1', sensorTypeId: 't1', assetId: 'a1', detector: 'threshold', ruleId: 'low' };

describe('policyFor', () => {
  it('falls back to the built-in defaults: anomalies clear after an hour of quiet, conditions on their clear', () => {
    expect(policyFor([], { ...subject, detector: 'anomaly' })).toEqual(defaultPolicy('anomaly'));
    expect(defaultPolicy('anomaly')).toMatchObject({
      ruleId: null,
      autoClear: 'after-quiet',
      quietMs: 3_600_000,
    });
    expect(policyFor([], subject)).toMatchObject({ ruleId: null, autoClear: 'on-clear' });
  });

  it('prefers the most specific scope: sensor, then asset, then sensor type, then the tenant', () => {
    const rules = [
      rule({ id: 'tenant' }),
      rule({ id: 'type', sensorTypeId: 't1' }),
      rule({ id: 'asset', assetId: 'a1' }),
      rule({ id: 'sensor', sensorId: 's1' }),
    ];
    expect(policyFor(rules, subject).ruleId).toBe('sensor');
    expect(policyFor(rules.slice(0, 3), subject).ruleId).toBe('asset');
    expect(policyFor(rules.slice(0, 2), subject).ruleId).toBe('type');
    expect(policyFor(rules, { ...subject, sensorId: 's2', assetId: 'a2', sensorTypeId: 't2' }).ruleId).toBe(
      'tenant',
    );
  });

  it('within a scope, naming the detector beats *, naming rule ids beats not; the oldest breaks a tie; disabled rules and other detectors do not apply', () => {
    expect(
      policyFor([rule({ id: 'any' }), rule({ id: 'named', detectors: ['threshold'] })], subject).ruleId,
    ).toBe('named');
    expect(
      policyFor(
        [
          rule({ id: 'named', detectors: ['threshold'] }),
          rule({ id: 'ids', detectors: ['threshold'], ruleIds: ['low'] }),
        ],
        subject,
      ).ruleId,
    ).toBe('ids');
    expect(policyFor([rule({ id: 'ids', ruleIds: ['high'] })], subject).ruleId).toBeNull();
    expect(
      policyFor([rule({ id: 'new', createdAt: 2 }), rule({ id: 'old', createdAt: 1 })], subject).ruleId,
    ).toBe('old');
    expect(policyFor([rule({ id: 'off', enabled: false })], subject).ruleId).toBeNull();
    expect(policyFor([rule({ id: 'gaps', detectors: ['heartbeat'] })], subject).ruleId).toBeNull();
  });

  it('converts seconds to milliseconds and says when an alarm is held back', () => {
    const p = policyFor(
      [rule({ delayS: 30, minOccurrences: 3, withinS: 60, quietS: 5, autoClear: 'after-quiet' })],
      subject,
    );
    expect(p).toMatchObject({ delayMs: 30_000, withinMs: 60_000, quietMs: 5000 });
    expect(holdsBack(p)).toBe(true);
    expect(holdsBack(defaultPolicy('threshold'))).toBe(false);
  });
});
