import { useMemo } from 'react';
import type { Asset, Geometry, Severity } from '../api/types';
import { useRouter } from '../app/router';
import { SEVERITY_LABEL } from '../ui/Severity';

type Position = readonly [number, number];

interface Shape {
  readonly asset: Asset;
  readonly points: Position[];
  readonly lines: Position[][];
  readonly polygons: Position[][];
}

/** Every position of a GeoJSON geometry, by kind (points, lines, polygon rings). */
export function flatten(g: Geometry | null): Omit<Shape, 'asset'> {
  const out = { points: [] as Position[], lines: [] as Position[][], polygons: [] as Position[][] };
  const pos = (c: unknown): Position | null =>
    Array.isArray(c) && typeof c[0] === 'number' && typeof c[1] === 'number' ? [c[0], c[1]] : null;
  const line = (c: unknown): Position[] =>
    Array.isArray(c) ? c.map(pos).filter((p): p is Position => p !== null) : [];
  const walk = (geo: Geometry | null | undefined) => {
    if (!geo) return;
    const c = geo.coordinates;
    switch (geo.type) {
      case 'Point': {
        const p = pos(c);
        if (p) out.points.push(p);
        break;
      }
      case 'MultiPoint':
        out.points.push(...line(c));
        break;
      case 'LineString':
        out.lines.push(line(c));
        break;
      case 'MultiLineString':
        if (Array.isArray(c)) for (const l of c) out.lines.push(line(l));
        break;
      case 'Polygon':
        if (Array.isArray(c) && c[0]) out.polygons.push(line(c[0]));
        break;
      case 'MultiPolygon':
        if (Array.isArray(c))
          for (const poly of c) if (Array.isArray(poly) && poly[0]) out.polygons.push(line(poly[0]));
        break;
      case 'GeometryCollection':
        for (const sub of geo.geometries ?? []) walk(sub);
        break;
    }
  };
  walk(g);
  return out;
}

const W = 720;
const PAD = 64;

/** Longitude/latitude to the drawing: equirectangular, scaled by the latitude so shapes keep their form. */
export function projection(all: readonly Position[], width = W, pad = PAD) {
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of all) {
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  const k = Math.cos((((minY + maxY) / 2) * Math.PI) / 180) || 1;
  const spanX = Math.max((maxX - minX) * k, 1e-9);
  const spanY = Math.max(maxY - minY, 1e-9);
  const scale = Math.min((width - 2 * pad) / spanX, (width * 0.7 - 2 * pad) / spanY);
  const height = Math.max(260, spanY * scale + 2 * pad);
  const offX = (width - spanX * scale) / 2;
  const offY = (height - spanY * scale) / 2;
  return {
    height,
    at: ([x, y]: Position): [number, number] => [offX + (x - minX) * k * scale, offY + (maxY - y) * scale],
  };
}

/**
 * Symbols closer than they can be drawn (two pumps in one station) are pushed apart a little, so
 * each stays visible and selectable; the schematic is a diagram, not a survey.
 */
export function spread(
  items: readonly { id: string; at: [number, number] }[],
  min = 34,
): Map<string, [number, number]> {
  const pos = items.map((i) => [...i.at] as [number, number]);
  for (let round = 0; round < 30; round++) {
    let moved = false;
    for (let a = 0; a < pos.length; a++) {
      for (let b = a + 1; b < pos.length; b++) {
        const pa = pos[a]!;
        const pb = pos[b]!;
        let dx = pb[0] - pa[0];
        let dy = pb[1] - pa[1];
        let d = Math.hypot(dx, dy);
        if (d >= min) continue;
        if (d < 1e-6) {
          dx = 1;
          dy = 0;
          d = 1;
        }
        const push = (min - d) / 2 + 0.5;
        pa[0] -= (dx / d) * push;
        pa[1] -= (dy / d) * push;
        pb[0] += (dx / d) * push;
        pb[1] += (dy / d) * push;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return new Map(items.map((i, k) => [i.id, pos[k]!]));
}

/** The symbol of an asset kind, centred on 0,0 (about 24 px). */
function KindSymbol({ kind }: { kind: string }) {
  switch (kind) {
    case 'reservoir':
      return <path d="M-16 -8 H16 V10 H-16 Z M-16 -2 H16" />;
    case 'tank':
      return <path d="M-10 -12 H10 V12 H-10 Z M-10 2 H10" />;
    case 'pump':
      return (
        <>
          <circle r="11" />
          <path d="M-5 -7 L8 0 L-5 7 Z" />
        </>
      );
    case 'valve':
      return <path d="M-11 -8 L11 8 V-8 L-11 8 Z" />;
    case 'meter':
      return (
        <>
          <circle r="10" />
          <path d="M-5 5 V-5 L0 1 L5 -5 V5" />
        </>
      );
    default:
      return <rect x="-9" y="-9" width="18" height="18" rx="3" />;
  }
}

/** The alarm marker beside a symbol: the severity's shape, so state is never colour alone. */
function AlarmMarker({ severity }: { severity: Severity }) {
  const d: Record<Severity, string> = {
    critical: 'M0 -9 9 0 0 9 -9 0Z',
    major: 'M0 -9 9 7 -9 7Z',
    minor: 'M-7 -7 H7 V7 H-7Z',
    warning: 'M-7 0 A7 7 0 1 0 7 0 A7 7 0 1 0 -7 0Z',
    info: 'M-6 0 A6 6 0 1 0 6 0 A6 6 0 1 0 -6 0Z',
  };
  return <path className={`marker sev-fill-${severity}`} d={d[severity]} />;
}

interface SchematicProps {
  readonly assets: readonly Asset[];
  readonly worst: ReadonlyMap<string, Severity>;
  readonly siteName: (siteId: string | null) => string | undefined;
}

/**
 * The network drawn from the assets' GeoJSON as plain SVG (no map tiles): pipelines as lines,
 * areas as outlines, point assets as ISA-style symbols in grey, each with its worst active alarm
 * (shape and colour) — select one to see its sensors.
 */
export function Schematic({ assets, worst, siteName }: SchematicProps) {
  const { navigate } = useRouter();
  const shapes = useMemo(
    () =>
      assets
        .map((asset) => ({ asset, ...flatten(asset.geometry) }))
        .filter((s) => s.points.length + s.lines.length + s.polygons.length > 0),
    [assets],
  );
  const all = shapes.flatMap((s) => [...s.points, ...s.lines.flat(), ...s.polygons.flat()]);
  if (all.length === 0) return null;
  const { height, at } = projection(all);
  const spots = spread(
    shapes.flatMap((s) => s.points.map((p, i) => ({ id: `${s.asset.id}:${i}`, at: at(p) }))),
  );

  // Labels: below, above, right or left of the symbol, whichever overlaps nothing placed yet.
  // Symbols (and their alarm markers) are obstacles for labels too.
  const placed: { x: number; y: number; w: number; h: number }[] = [...spots.values()].map(([x, y]) => ({
    x: x - 14,
    y: y - 26,
    w: 40,
    h: 40,
  }));
  const label = (x: number, y: number, text: string) => {
    const w = text.length * 7.6 + 6;
    const h = 16;
    const options = [
      { x: x - w / 2, y: y + 18, anchor: 'middle' as const },
      { x: x - w / 2, y: y - 30 - h, anchor: 'middle' as const },
      { x: x + 30, y: y - h / 2, anchor: 'start' as const },
      { x: x - 18 - w, y: y - h / 2, anchor: 'end' as const },
      { x: x - w / 2, y: y + 36, anchor: 'middle' as const },
      { x: x - w / 2, y: y - 48 - h, anchor: 'middle' as const },
    ];
    const free = (o: { x: number; y: number }) =>
      placed.every((p) => o.x + w < p.x || p.x + p.w < o.x || o.y + h < p.y || p.y + p.h < o.y);
    const o = options.find(free) ?? options[0]!;
    placed.push({ x: o.x, y: o.y, w, h });
    const tx = o.anchor === 'middle' ? o.x + w / 2 : o.anchor === 'start' ? o.x : o.x + w;
    return { x: tx, y: o.y + 12, anchor: o.anchor };
  };

  const open = (a: Asset) => navigate(`/sensors?asset=${encodeURIComponent(a.id)}`);
  const toPath = (line: Position[], close = false) =>
    line.map((p, i) => `${i === 0 ? 'M' : 'L'}${at(p)[0].toFixed(1)} ${at(p)[1].toFixed(1)}`).join(' ') +
    (close ? ' Z' : '');

  const ordered = [...shapes].sort((a, b) => b.lines.length - a.lines.length);
  return (
    // biome-ignore lint/a11y/useSemanticElements: an SVG drawing cannot be a <fieldset>
    <svg
      className="schematic"
      viewBox={`0 0 ${W} ${height.toFixed(0)}`}
      role="group"
      aria-label="Network schematic: assets coloured by their worst active alarm"
    >
      {ordered.map(({ asset, points, lines, polygons }) => {
        const sev = worst.get(asset.id);
        const site = siteName(asset.siteId);
        const state = sev ? `${SEVERITY_LABEL[sev]} alarm` : 'normal';
        const name = `${asset.name}${site ? `, ${site}` : ''}: ${state}`;
        const anchor = points[0] ?? lines[0]?.[Math.floor(lines[0].length / 2)] ?? polygons[0]?.[0];
        const [ax, ay] = points[0] ? spots.get(`${asset.id}:0`)! : anchor ? at(anchor) : [0, 0];
        const lbl = label(ax, ay, asset.name);
        return (
          // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>
          <g
            key={asset.id}
            className={`asset asset-${asset.kind} ${sev ? `asset-alarm sev-stroke-${sev}` : ''}`}
            role="button"
            tabIndex={0}
            aria-label={`${name}. Show its sensors`}
            data-asset={asset.key}
            data-state={sev ?? 'normal'}
            onClick={() => open(asset)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                open(asset);
              }
            }}
          >
            <title>{name}</title>
            {polygons.map((ring, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rings have no identity
              <path key={`p${i}`} className="area" d={toPath(ring, true)} />
            ))}
            {lines.map((line, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: lines have no identity
              <path key={`l${i}`} className="pipe" d={toPath(line)} />
            ))}
            {points.map((_p, i) => {
              const [x, y] = spots.get(`${asset.id}:${i}`)!;
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: positions have no identity
                <g key={`s${i}`} className="symbol" transform={`translate(${x.toFixed(1)} ${y.toFixed(1)})`}>
                  <KindSymbol kind={asset.kind} />
                </g>
              );
            })}
            {sev && anchor ? (
              <g transform={`translate(${(ax + 16).toFixed(1)} ${(ay - 16).toFixed(1)})`}>
                <AlarmMarker severity={sev} />
              </g>
            ) : null}
            <text className="asset-label" x={lbl.x} y={lbl.y} textAnchor={lbl.anchor}>
              {asset.name}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
