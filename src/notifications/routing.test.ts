import { describe, expect, it } from 'vitest';
import { type NoticePlace, routeAllows, severityRank } from './routing.js';

const raised = { event: 'raised', severity: 'major' };
const pump: NoticePlace = { assetId: 'pump-1', siteIds: ['zone-3', 'plant-1'] };

describe('channel routing', () => {
  it('ranks severities', () => {
    expect(severityRank('critical')).toBeGreaterThan(severityRank('major'));
    expect(severityRank('nonsense')).toBe(0);
  });

  it('keeps the minimum severity and adds severities and events', () => {
    expect(routeAllows({}, 'warning', raised, undefined)).toBe(true);
    expect(routeAllows({}, 'critical', raised, undefined)).toBe(false);
    expect(routeAllows({ severities: ['critical', 'minor'] }, 'info', raised, undefined)).toBe(false);
    expect(routeAllows({ severities: ['major'] }, 'info', raised, undefined)).toBe(true);
    expect(routeAllows({ events: ['escalated'] }, 'info', raised, undefined)).toBe(false);
    expect(routeAllows({ events: ['raised', 'escalated'] }, 'info', raised, undefined)).toBe(true);
  });

  it('routes by asset or by a site at or above the asset', () => {
    expect(routeAllows({ siteIds: ['plant-1'] }, 'info', raised, pump)).toBe(true);
    expect(routeAllows({ siteIds: ['plant-2'] }, 'info', raised, pump)).toBe(false);
    expect(routeAllows({ assetIds: ['pump-1'] }, 'info', raised, pump)).toBe(true);
    expect(routeAllows({ assetIds: ['pump-2'], siteIds: ['zone-3'] }, 'info', raised, pump)).toBe(true);
    // No asset: no place to match.
    expect(routeAllows({ siteIds: ['plant-1'] }, 'info', raised, { assetId: null, siteIds: [] })).toBe(false);
  });
});
