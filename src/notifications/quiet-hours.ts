import { type Severity, severityRank } from './routing.js';

const MIN = 60_000;
const DAY_MINUTES = 1440;

/**
 * A channel's quiet period, by the wall clock of `timeZone`: from `start` to `end` (HH:MM; an end
 * before the start crosses midnight), beginning on `days` (0 = Sunday; absent: every day).
 * Notices of `minSeverity` or above still pass; the others wait for the end (`hold`) or are
 * suppressed (`drop`).
 */
export interface QuietHours {
  readonly start: string;
  readonly end: string;
  readonly days?: readonly number[];
  readonly timeZone: string;
  readonly minSeverity?: Severity;
  readonly during?: 'hold' | 'drop';
}

export type QuietDecision =
  | { readonly kind: 'send' }
  | { readonly kind: 'hold'; readonly until: number }
  | { readonly kind: 'drop' };

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
// Building a DateTimeFormat costs far more than formatting with one.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Local weekday (0 = Sunday) and minute of the day of instant `t` in `timeZone`. */
export function wallClock(t: number, timeZone: string): { day: number; minute: number } {
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const p of formatter(timeZone).formatToParts(t)) {
    if (p.type === 'weekday') day = WEEKDAYS[p.value] ?? 0;
    else if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return { day, minute: hour * 60 + minute };
}

export function clockMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/** Whether `t` is in the quiet hours: decided by the local wall clock alone, so DST needs no special case. */
export function isQuiet(q: QuietHours, t: number): boolean {
  const { day, minute } = wallClock(t, q.timeZone);
  const start = clockMinutes(q.start);
  const end = clockMinutes(q.end);
  const startsOn = (d: number) => !q.days || q.days.includes(d);
  if (start < end) return startsOn(day) && minute >= start && minute < end;
  // Crossing midnight: the evening part, or the morning after a day it started on.
  return (minute >= start && startsOn(day)) || (minute < end && startsOn((day + 6) % 7));
}

/**
 * The first instant at or after `t` that is not quiet. Jumps by the wall-clock minutes left until
 * `end` (exact unless a DST change lies between), then bisects to the minute: a dozen Intl calls,
 * not a minute-by-minute walk.
 */
export function quietEnd(q: QuietHours, t: number): number {
  if (!isQuiet(q, t)) return t;
  const end = clockMinutes(q.end);
  // Every zone's offset is whole minutes, so quietness changes only on UTC minute boundaries.
  let lo = Math.floor(t / MIN) * MIN;
  // Each round reaches `end` on the wall clock; more than one only when clocks went back.
  for (let round = 0; round < 4; round++) {
    const wait = (end - wallClock(lo, q.timeZone).minute + DAY_MINUTES) % DAY_MINUTES || DAY_MINUTES;
    let hi = lo + wait * MIN;
    if (isQuiet(q, hi)) {
      lo = hi;
      continue;
    }
    // Clocks going forward can end it before `hi`: find the first loud minute in (lo, hi].
    while (hi - lo > MIN) {
      const mid = lo + Math.floor((hi - lo) / MIN / 2) * MIN;
      if (isQuiet(q, mid)) lo = mid;
      else hi = mid;
    }
    return hi;
  }
  return lo;
}

/** What to do with a notice of `severity` at `now` on a channel with these quiet hours. */
export function quietDecision(q: QuietHours | null, severity: string, now: number): QuietDecision {
  if (!q) return { kind: 'send' };
  if (q.minSeverity && severityRank(severity) >= severityRank(q.minSeverity)) return { kind: 'send' };
  if (!isQuiet(q, now)) return { kind: 'send' };
  return q.during === 'drop' ? { kind: 'drop' } : { kind: 'hold', until: quietEnd(q, now) };
}

export function parseQuietHours(text: string | null): QuietHours | null {
  if (!text) return null;
  const value: unknown = JSON.parse(text);
  return value !== null && typeof value === 'object' ? (value as QuietHours) : null;
}
