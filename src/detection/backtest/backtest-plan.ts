import type { Db } from '../../db/database.js';
import { AppError } from '../../http/errors/catalogue.js';
import { findAsset } from '../../registry/assets.repository.js';
import { findSensor } from '../../registry/sensors.repository.js';
import type { QueryService } from '../../telemetry/query/query.service.js';
import { MAX_RANGE_READINGS } from '../../telemetry/storage/readings.repository.js';
import type { SeriesIds } from '../../telemetry/storage/series-ids.js';
import { currentConfigs, type DetectorConfigVersion } from '../config/detector-config.repository.js';
import type { DetectorConfigDoc } from '../config/detector-config.schema.js';
import { effectiveConfig } from '../config/effective-config.js';
import { MAX_ASSET_MODEL_SENSORS } from '../models/training-data.js';
import type { BacktestInput, BacktestOptions } from './backtest.js';

/** What a run asked for (its stored params). */
export interface BacktestParams {
  readonly from: string;
  readonly to: string;
  readonly config: DetectorConfigDoc | null;
  readonly threshold: number | null;
  readonly compare: boolean;
}

/** Everything a run scores: the table, the options of each pass, and how to describe it. */
export interface BacktestPlan {
  /** `Pump 2 vibration (pump-2/vibration)`, `the asset Old Town inlet meter (2 sensors)`. */
  readonly label: string;
  /** Which documents score it, for the log. */
  readonly documents: string;
  readonly input: BacktestInput;
  readonly scoring: BacktestOptions;
  /** The configured documents' pass, when a candidate is compared with them. */
  readonly current: BacktestOptions | null;
  readonly threshold: number;
  /** Rows in the window before BACKTEST_MAX_ROWS kept the newest. */
  readonly rowsInWindow: number;
  /** A row's value for its episode (a sensor's reading; NaN for an asset's several). */
  value(row: number): number;
  /** What the live pipeline stored for the target between two times. */
  storedAnomalies(from: number, to: number): Promise<number>;
}

export interface PlanDeps {
  readonly db: Db;
  readonly queries: QueryService;
  readonly seriesIds: SeriesIds;
}

const describeDoc = (v: DetectorConfigVersion | undefined, what: string) =>
  v ? `${what} document v${v.version}` : undefined;

/** Anomalies the live pipeline stored for the sensors (and the asset) between two times. */
async function countAnomalies(
  db: Db,
  tenantId: string,
  target: { sensorIds: readonly string[]; assetId?: string },
  from: number,
  to: number,
): Promise<number> {
  const r = await db
    .selectFrom('anomalies')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('tenant_id', '=', tenantId)
    .where((eb) =>
      eb.or([
        eb('sensor_id', 'in', target.sensorIds),
        ...(target.assetId === undefined ? [] : [eb('asset_id', '=', target.assetId)]),
      ]),
    )
    .where('ts', '>=', from)
    .where('ts', '<=', to)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The newest `maxRows` of a table. */
function newestRows(input: BacktestInput, maxRows: number): BacktestInput {
  const skip = Math.max(0, input.ts.length - maxRows);
  if (skip === 0) return input;
  return {
    ts: input.ts.subarray(skip),
    columns: input.columns.map((c) => ({ name: c.name, values: c.values.subarray(skip) })),
  };
}

/** The range reads' own limit, said in terms of a backtest. */
async function read<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError && err.code === 'UNPROCESSABLE')
      throw new Error(
        `the window holds more than ${MAX_RANGE_READINGS.toLocaleString('en-GB')} stored readings of ${what}; choose a shorter one`,
      );
    throw err;
  }
}

/**
 * A sensor's backtest: its readings in the window, scored with its sensor type's and sensor's
 * documents as the pipeline layers them, or with a candidate in the sensor document's place.
 */
export async function planSensor(
  deps: PlanDeps,
  tenantId: string,
  sensorId: string,
  p: BacktestParams,
  maxRows: number,
): Promise<BacktestPlan> {
  const { db } = deps;
  const sensor = await findSensor(db, tenantId, sensorId);
  if (!sensor) throw new Error('the sensor was deleted');
  const docs = await currentConfigs(db, tenantId, [
    { scope: 'sensor_type', targetId: sensor.typeId },
    { scope: 'sensor', targetId: sensor.id },
  ]);
  const typeDoc = docs.get(`sensor_type:${sensor.typeId}`);
  const sensorDoc = docs.get(`sensor:${sensor.id}`);
  const current = effectiveConfig(typeDoc?.document, sensorDoc?.document);
  // A candidate takes the sensor document's place, over the sensor type's.
  const candidate = p.config === null ? null : effectiveConfig(typeDoc?.document, p.config);
  const base = describeDoc(typeDoc, 'sensor type') ?? 'the defaults';
  const series = (await deps.seriesIds.lookup([sensor.id])).get(sensor.id);
  const from = Date.parse(p.from);
  const to = Date.parse(p.to);
  const run =
    series === undefined ? null : await read(sensor.key, () => deps.queries.range(series, from, to));
  if (!run || run.ts.length === 0)
    throw new Error(`no readings of ${sensor.key} between ${p.from} and ${p.to}`);
  const input = newestRows({ ts: run.ts, columns: [{ name: sensor.key, values: run.value }] }, maxRows);
  const values = input.columns[0]!.values;
  const threshold = p.threshold === null ? {} : { threshold: p.threshold };
  return {
    label: `${sensor.name} (${sensor.key})`,
    documents: candidate
      ? `the candidate document over ${base}`
      : [base, describeDoc(sensorDoc, 'sensor')].filter(Boolean).join(' + '),
    input,
    scoring: { effective: candidate ?? current, ...threshold },
    current: candidate && p.compare ? { effective: current } : null,
    threshold: p.threshold ?? (candidate ?? current).threshold,
    rowsInWindow: run.ts.length,
    value: (r) => values[r]!,
    storedAnomalies: (a, b) => countAnomalies(db, tenantId, { sensorIds: [sensor.id] }, a, b),
  };
}

/** Several sorted series on their common timeline: a row per distinct time, NaN where one has none. */
export function alignSeries(
  series: readonly { name: string; ts: Float64Array; values: Float64Array }[],
): BacktestInput {
  const all = new Float64Array(series.reduce((n, s) => n + s.ts.length, 0));
  let k = 0;
  for (const s of series) {
    all.set(s.ts, k);
    k += s.ts.length;
  }
  all.sort();
  let unique = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) all[unique++] = all[i]!;
  const ts = all.slice(0, unique);
  const columns = series.map((s) => {
    const values = new Float64Array(unique).fill(Number.NaN);
    let j = 0;
    for (let i = 0; i < s.ts.length; i++) {
      while (ts[j]! < s.ts[i]!) j++;
      values[j] = s.values[i]!;
    }
    return { name: s.name, values };
  });
  return { ts, columns };
}

/**
 * An asset's backtest: its sensors' readings side by side on their common timeline, each sensor
 * scored with its own documents and the asset with its document (its rules and model), or with a
 * candidate in the asset document's place — as the pipeline runs them.
 */
export async function planAsset(
  deps: PlanDeps,
  tenantId: string,
  assetId: string,
  p: BacktestParams,
  maxRows: number,
): Promise<BacktestPlan> {
  const { db } = deps;
  const asset = await findAsset(db, tenantId, assetId);
  if (!asset) throw new Error('the asset was deleted');
  const members = await db
    .selectFrom('sensors')
    .select(['id', 'key', 'type_id'])
    .where('tenant_id', '=', tenantId)
    .where('asset_id', '=', assetId)
    .orderBy('key')
    .execute();
  if (members.length === 0) throw new Error(`the asset ${asset.name} has no sensors`);
  if (members.length > MAX_ASSET_MODEL_SENSORS)
    throw new Error(`the asset ${asset.name} has more than ${MAX_ASSET_MODEL_SENSORS} sensors`);
  const docs = await currentConfigs(db, tenantId, [
    { scope: 'asset', targetId: assetId },
    ...members.flatMap((m) => [
      { scope: 'sensor_type' as const, targetId: m.type_id },
      { scope: 'sensor' as const, targetId: m.id },
    ]),
  ]);
  const columnConfigs = members.map((m) =>
    effectiveConfig(docs.get(`sensor_type:${m.type_id}`)?.document, docs.get(`sensor:${m.id}`)?.document),
  );
  const assetVersion = docs.get(`asset:${assetId}`);
  const assetDoc = assetVersion?.document ?? null;
  const from = Date.parse(p.from);
  const to = Date.parse(p.to);
  const seriesOf = await deps.seriesIds.lookup(members.map((m) => m.id));
  const wanted = new Map<number, { from: number; to: number }>();
  for (const m of members) {
    const s = seriesOf.get(m.id);
    if (s !== undefined) wanted.set(s, { from, to });
  }
  const runs = await read(`the asset ${asset.name}`, () => deps.queries.ranges(wanted));
  const series = members.map((m) => {
    const run = runs.get(seriesOf.get(m.id) ?? -1);
    return {
      name: m.key,
      ts: run?.ts ?? new Float64Array(0),
      values: run?.value ?? new Float64Array(0),
    };
  });
  const aligned = alignSeries(series);
  if (aligned.ts.length === 0)
    throw new Error(`no readings of the asset ${asset.name} between ${p.from} and ${p.to}`);
  const input = newestRows(aligned, maxRows);
  const threshold = p.threshold === null ? {} : { threshold: p.threshold };
  const scoringDoc = p.config ?? assetDoc;
  const ids = members.map((m) => m.id);
  return {
    label: `the asset ${asset.name} (${members.length} sensor${members.length === 1 ? '' : 's'}: ${members.map((m) => m.key).join(', ')})`,
    documents: `${p.config ? 'the candidate asset document' : (describeDoc(assetVersion, 'asset') ?? 'no asset document')} and each sensor's own documents`,
    input,
    scoring: { columnConfigs, assetDoc: scoringDoc, ...threshold },
    current: p.config && p.compare ? { columnConfigs, assetDoc } : null,
    threshold: p.threshold ?? effectiveConfig(scoringDoc).threshold,
    rowsInWindow: aligned.ts.length,
    value: () => Number.NaN,
    storedAnomalies: (a, b) => countAnomalies(db, tenantId, { sensorIds: ids, assetId }, a, b),
  };
}
