import type { Place } from '../registry/place.js';

/** Where an alarm is (see registry/place.ts). */
export type NoticePlace = Place;

export const SEVERITIES = ['info', 'warning', 'minor', 'major', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What an alarm change can tell a channel (AlarmNotice.event). */
export const NOTICE_EVENTS = ['raised', 'resolved', 'flapping', 'escalated', 'reminder'] as const;
export type NoticeEvent = (typeof NOTICE_EVENTS)[number];

/** Position of a severity in `info` < … < `critical`; an unknown one ranks lowest. */
export function severityRank(severity: string): number {
  return Math.max(0, (SEVERITIES as readonly string[]).indexOf(severity));
}

/**
 * Which notices a channel wants, on top of its minimum severity. Every list that is present must
 * match; `siteIds` and `assetIds` together describe one place (the alarm's asset is listed, or is
 * in one of the sites or below it). Absent lists do not restrict.
 */
export interface ChannelRouting {
  readonly severities?: readonly Severity[];
  readonly events?: readonly NoticeEvent[];
  readonly siteIds?: readonly string[];
  readonly assetIds?: readonly string[];
}

export function parseRouting(text: string | null): ChannelRouting {
  if (!text) return {};
  const value: unknown = JSON.parse(text);
  return value !== null && typeof value === 'object' ? (value as ChannelRouting) : {};
}

/** Whether matching this routing needs the alarm's place (a registry lookup). */
export function needsPlace(r: ChannelRouting): boolean {
  return r.siteIds !== undefined || r.assetIds !== undefined;
}

/**
 * Whether a channel takes a notice. `place` is only read when the routing names sites or assets;
 * an alarm with no asset matches no such channel.
 */
export function routeAllows(
  r: ChannelRouting,
  minSeverity: string,
  notice: { readonly event: string; readonly severity: string },
  place: NoticePlace | undefined,
): boolean {
  if (severityRank(notice.severity) < severityRank(minSeverity)) return false;
  if (r.severities && !(r.severities as readonly string[]).includes(notice.severity)) return false;
  if (r.events && !(r.events as readonly string[]).includes(notice.event)) return false;
  if (needsPlace(r)) {
    if (!place?.assetId) return false;
    const asset = place.assetId;
    const byAsset = r.assetIds?.includes(asset) ?? false;
    const bySite = r.siteIds?.some((s) => place.siteIds.includes(s)) ?? false;
    if (!byAsset && !bySite) return false;
  }
  return true;
}
