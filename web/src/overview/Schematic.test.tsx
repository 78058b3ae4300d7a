// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Asset } from '../api/types';
import { RouterProvider } from '../app/router';
import { SeverityBadge } from '../ui/Severity';
import { flatten, projection, Schematic, spread } from './Schematic';

afterEach(cleanup);

const asset = (id: string, kind: string, geometry: Asset['geometry']): Asset => ({
  id,
  key: id,
  name: `Asset ${id}`,
  kind,
  siteId: null,
  geometry,
});

describe('the network schematic', () => {
  it('draws each asset from its GeoJSON and says its alarm state in words', () => {
    const assets = [
      asset('pump', 'pump', { type: 'Point', coordinates: [4.36, 50.853] }),
      asset('pump-b', 'pump', { type: 'Point', coordinates: [4.3601, 50.853] }),
      asset('main', 'pipeline', {
        type: 'LineString',
        coordinates: [
          [4.35, 50.85],
          [4.375, 50.86],
        ],
      }),
      asset('nowhere', 'tank', null),
    ];
    render(
      <RouterProvider>
        <Schematic assets={assets} worst={new Map([['pump', 'critical']])} siteName={() => 'Zone A'} />
      </RouterProvider>,
    );
    const pump = screen.getByRole('button', { name: /Asset pump, Zone A: Critical alarm/ });
    expect(pump.getAttribute('data-state')).toBe('critical');
    expect(screen.getByRole('button', { name: /Asset main, Zone A: normal/ })).toBeTruthy();
    expect(screen.queryByRole('button', { name: /nowhere/ })).toBeNull();
    // Keyboard: Enter opens the asset's sensors.
    fireEvent.keyDown(pump, { key: 'Enter' });
    expect(window.location.pathname + window.location.search).toBe('/sensors?asset=pump');
  });

  it('projects into the drawing and pushes overlapping symbols apart', () => {
    const { at, height } = projection([
      [0, 0],
      [1, 1],
    ]);
    const [x0, y0] = at([0, 0]);
    const [x1, y1] = at([1, 1]);
    expect(x1).toBeGreaterThan(x0);
    expect(y1).toBeLessThan(y0); // north is up
    expect(height).toBeGreaterThan(0);
    const spots = spread([
      { id: 'a', at: [100, 100] },
      { id: 'b', at: [101, 100] },
    ]);
    const [a, b] = [spots.get('a')!, spots.get('b')!];
    expect(Math.hypot(a[0] - b[0], a[1] - b[1])).toBeGreaterThanOrEqual(34);
  });

  it('flattens multi-geometries', () => {
    const f = flatten({
      type: 'GeometryCollection',
      geometries: [
        { type: 'MultiPoint', coordinates: [[1, 2]] },
        {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 0],
              [1, 1],
              [0, 0],
            ],
          ],
        },
      ],
    });
    expect(f.points).toEqual([[1, 2]]);
    expect(f.polygons[0]).toHaveLength(4);
  });
});

describe('<SeverityBadge>', () => {
  it('shows priority by shape and word, never colour alone', () => {
    render(<SeverityBadge severity="major" />);
    const badge = screen.getByTitle('Priority 2: Major');
    expect(badge.textContent).toBe('Major');
    expect(badge.querySelector('svg path')).toBeTruthy();
  });
});
