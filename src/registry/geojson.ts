/** Geometry types an asset may have (RFC 7946), with how deeply their coordinates nest. */
const DEPTH: Readonly<Record<string, number>> = {
  Point: 0,
  MultiPoint: 1,
  LineString: 1,
  MultiLineString: 2,
  Polygon: 2,
  MultiPolygon: 3,
};

export const GEOMETRY_TYPES = Object.keys(DEPTH);
const MAX_POSITIONS = 10_000;

/** Why a GeoJSON geometry is not acceptable (RFC 7946, WGS 84 lon/lat), or undefined. */
export function geometryProblem(g: { type: string; coordinates: unknown }): string | undefined {
  const depth = DEPTH[g.type];
  if (depth === undefined) return `type must be one of ${GEOMETRY_TYPES.join(', ')}`;
  let positions = 0;
  const check = (value: unknown, level: number, path: string): string | undefined => {
    if (!Array.isArray(value)) return `${path} must be an array`;
    if (level === 0) {
      if (
        value.length < 2 ||
        value.length > 3 ||
        !value.every((n) => typeof n === 'number' && Number.isFinite(n))
      ) {
        return `${path} must be a position [longitude, latitude(, altitude)]`;
      }
      const [lon, lat] = value as number[];
      if (lon! < -180 || lon! > 180 || lat! < -90 || lat! > 90)
        return `${path} is outside WGS 84 longitude/latitude`;
      positions++;
      return positions > MAX_POSITIONS ? `has more than ${MAX_POSITIONS} positions` : undefined;
    }
    if (value.length === 0) return `${path} must not be empty`;
    for (let i = 0; i < value.length; i++) {
      const problem = check(value[i], level - 1, `${path}/${i}`);
      if (problem) return problem;
    }
    if (g.type === 'LineString' && level === 1 && value.length < 2)
      return `${path} needs at least 2 positions`;
    return undefined;
  };
  return check(g.coordinates, depth, 'coordinates');
}
