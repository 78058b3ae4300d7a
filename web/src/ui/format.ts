const toDate = (t: string | number | Date) => (t instanceof Date ? t : new Date(t));

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
});
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** 14:03:07 */
export const formatTime = (t: string | number | Date) => timeFmt.format(toDate(t));
/** 24 Nov, 14:03 */
export const formatDateTime = (t: string | number | Date) => dateTimeFmt.format(toDate(t));
/** 24 Nov 2026, 14:03:07 (for titles and screen readers) */
export const formatFull = (t: string | number | Date) => fullFmt.format(toDate(t));

/** "just now", "4 min ago", "3 h ago", "2 d ago" */
export function formatAgo(t: string | number, now: number): string {
  const ms = now - toDate(t).getTime();
  if (ms < 10_000) return 'just now';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} d ago`;
}

/** A reading for people: significant digits by magnitude, then the unit. */
export function formatValue(v: number | null | undefined, unit?: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const abs = Math.abs(v);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  const text = v.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit ? `${text} ${unit}` : text;
}

export function formatRate(perSecond: number | null): string {
  if (perSecond === null) return '—';
  return perSecond >= 100 ? Math.round(perSecond).toLocaleString() : perSecond.toFixed(1);
}

export const capitalise = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

/** `alarm.acknowledged` / `status` history kinds as words. */
export const words = (s: string) => capitalise(s.replace(/[._-]+/g, ' '));
