import { describe, expect, it } from 'vitest';
import { coversTime } from './maintenance-windows.js';

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.UTC(2026, 0, 5, 2); // a Monday, 02:00 UTC

describe('maintenance window occurrences', () => {
  it('once: from start (inclusive) to end (exclusive)', () => {
    const w = { startsAt: T0, endsAt: T0 + 2 * H, recurrence: 'none' as const, until: null };
    expect([T0 - 1, T0, T0 + 2 * H - 1, T0 + 2 * H, T0 + D].map((t) => coversTime(w, t))).toEqual([
      false,
      true,
      true,
      false,
      false,
    ]);
  });

  it('daily and weekly repeats, until the end of recurrence', () => {
    const daily = { startsAt: T0, endsAt: T0 + 2 * H, recurrence: 'daily' as const, until: T0 + 3 * D };
    expect(coversTime(daily, T0 + D + H)).toBe(true);
    expect(coversTime(daily, T0 + D + 3 * H)).toBe(false);
    expect(coversTime(daily, T0 + 2 * D + H)).toBe(true);
    expect(coversTime(daily, T0 + 3 * D + H)).toBe(false); // the occurrence starting at `until` is not
    const weekly = { startsAt: T0, endsAt: T0 + 4 * H, recurrence: 'weekly' as const, until: null };
    expect(coversTime(weekly, T0 + 7 * D + 3 * H)).toBe(true);
    expect(coversTime(weekly, T0 + D + H)).toBe(false);
    expect(coversTime(weekly, T0 + 700 * D + H)).toBe(true);
  });
});
