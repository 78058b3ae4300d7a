import { describe, expect, it } from 'vitest';
import { isQuiet, isTimeZone, type QuietHours, quietDecision, quietEnd, wallClock } from './quiet-hours.js';

const at = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();

describe('quiet hours', () => {
  const night: QuietHours = { start: '22:00', end: '07:00', timeZone: 'UTC' };

  it('reads the wall clock of the zone', () => {
    // 2026-11-25 is a Wednesday; Tokyo is UTC+9 (no DST).
    expect(wallClock(at('2026-11-25T20:30:00Z'), 'Asia/Tokyo')).toEqual({ day: 4, minute: 5 * 60 + 30 });
    expect(wallClock(at('2026-11-25T00:00:00Z'), 'UTC')).toEqual({ day: 3, minute: 0 });
  });

  it('validates zone names with Intl', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
  });

  it('crosses midnight: quiet from the evening to the next morning', () => {
    expect(isQuiet(night, at('2026-11-25T21:59:00Z'))).toBe(false);
    expect(isQuiet(night, at('2026-11-25T22:00:00Z'))).toBe(true);
    expect(isQuiet(night, at('2026-11-26T03:00:00Z'))).toBe(true);
    expect(isQuiet(night, at('2026-11-26T06:59:59Z'))).toBe(true);
    expect(isQuiet(night, at('2026-11-26T07:00:00Z'))).toBe(false);
    expect(iso(quietEnd(night, at('2026-11-25T23:17:42Z')))).toBe('2026-11-26T07:00:00.000Z');
    expect(iso(quietEnd(night, at('2026-11-26T06:59:30Z')))).toBe('2026-11-26T07:00:00.000Z');
    // Not quiet: now.
    expect(quietEnd(night, at('2026-11-26T12:00:00Z'))).toBe(at('2026-11-26T12:00:00Z'));
  });

  it('a window within one day', () => {
    const lunch: QuietHours = { start: '12:00', end: '13:30', timeZone: 'UTC' };
    expect(isQuiet(lunch, at('2026-11-25T11:59:00Z'))).toBe(false);
    expect(isQuiet(lunch, at('2026-11-25T13:00:00Z'))).toBe(true);
    expect(iso(quietEnd(lunch, at('2026-11-25T12:05:00Z')))).toBe('2026-11-25T13:30:00.000Z');
  });

  it('days are the days a quiet period starts on (its morning belongs to the day before)', () => {
    // Weeknights only: Monday–Friday evenings (2026-11-27 is a Friday).
    const weeknights: QuietHours = { ...night, days: [1, 2, 3, 4, 5] };
    expect(isQuiet(weeknights, at('2026-11-27T23:00:00Z'))).toBe(true); // Friday night
    expect(isQuiet(weeknights, at('2026-11-28T06:00:00Z'))).toBe(true); // Saturday morning, after Friday
    expect(isQuiet(weeknights, at('2026-11-28T23:00:00Z'))).toBe(false); // Saturday night
    expect(isQuiet(weeknights, at('2026-11-30T06:00:00Z'))).toBe(false); // Monday morning, after Sunday
    expect(isQuiet(weeknights, at('2026-11-30T22:30:00Z'))).toBe(true); // Monday night
  });

  it('ends at 07:00 local on the night Berlin springs forward (07:00 CEST is 05:00 UTC)', () => {
    const berlin: QuietHours = { ...night, timeZone: 'Europe/Berlin' };
    // 2026-03-28 23:00 CET = 22:00 UTC; clocks jump 02:00 → 03:00 on 2026-03-29.
    expect(isQuiet(berlin, at('2026-03-28T22:00:00Z'))).toBe(true);
    expect(iso(quietEnd(berlin, at('2026-03-28T22:00:00Z')))).toBe('2026-03-29T05:00:00.000Z');
    expect(isQuiet(berlin, at('2026-03-29T04:59:00Z'))).toBe(true);
    expect(isQuiet(berlin, at('2026-03-29T05:00:00Z'))).toBe(false);
  });

  it('ends at 07:00 local on the night Berlin falls back (07:00 CET is 06:00 UTC)', () => {
    const berlin: QuietHours = { ...night, timeZone: 'Europe/Berlin' };
    // 2026-10-24 23:00 CEST = 21:00 UTC; clocks go 03:00 → 02:00 on 2026-10-25.
    expect(iso(quietEnd(berlin, at('2026-10-24T21:00:00Z')))).toBe('2026-10-25T06:00:00.000Z');
  });

  it('an end inside the hour that is skipped comes when the clocks jump', () => {
    // 01:30–02:30 Berlin on 2026-03-29: at 01:45 CET (00:45 UTC) it is quiet; 02:30 never happens,
    // the wall clock reads 03:00 CEST at 01:00 UTC.
    const q: QuietHours = { start: '01:30', end: '02:30', timeZone: 'Europe/Berlin' };
    expect(iso(quietEnd(q, at('2026-03-29T00:45:00Z')))).toBe('2026-03-29T01:00:00.000Z');
  });

  it('an end inside the hour that repeats comes at its first occurrence', () => {
    // 2026-10-25: 02:00–02:59 Berlin happens twice (CEST, then CET). 01:00–02:30 ends at 02:30 CEST.
    const q: QuietHours = { start: '01:00', end: '02:30', timeZone: 'Europe/Berlin' };
    expect(iso(quietEnd(q, at('2026-10-24T23:15:00Z')))).toBe('2026-10-25T00:30:00.000Z');
  });

  it('decides: send, hold until the end, drop, or let a severe notice through', () => {
    const t = at('2026-11-25T23:00:00Z');
    expect(quietDecision(null, 'major', t)).toEqual({ kind: 'send' });
    expect(quietDecision(night, 'major', at('2026-11-25T12:00:00Z'))).toEqual({ kind: 'send' });
    expect(quietDecision(night, 'major', t)).toEqual({ kind: 'hold', until: at('2026-11-26T07:00:00Z') });
    expect(quietDecision({ ...night, during: 'drop' }, 'major', t)).toEqual({ kind: 'drop' });
    expect(quietDecision({ ...night, minSeverity: 'critical' }, 'critical', t)).toEqual({ kind: 'send' });
    expect(quietDecision({ ...night, minSeverity: 'critical' }, 'major', t).kind).toBe('hold');
  });
});
