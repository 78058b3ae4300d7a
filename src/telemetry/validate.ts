import type { ItemRejection, ParsedBatch } from './formats/batch.js';

/** What ingestion needs to know about a sensor, looked up by id or key. */
export interface SensorInfo {
  readonly id: string;
  readonly key: string;
  readonly deviceId: string | null;
  readonly deviceStatus: 'active' | 'inactive' | 'quarantined' | null;
  readonly active: boolean;
  readonly validMin: number | null;
  readonly validMax: number | null;
}

/** Resolves a tenant's sensors by id or key (a cache in front of the registry in production). */
export interface SensorDirectory {
  resolve(tenantId: string, refs: readonly string[]): Promise<Map<string, SensorInfo>>;
}

/** Who sent the batch: a device writes only its own sensors; an API key any sensor of its tenant. */
export type IngestSource =
  | { readonly kind: 'device'; readonly tenantId: string; readonly deviceId: string }
  | { readonly kind: 'api-key'; readonly tenantId: string };

export interface IngestLimits {
  /** Oldest accepted reading, relative to receipt (default 30 days). */
  readonly maxBackfillMs: number;
  /** Newest accepted reading, relative to receipt (default 5 minutes: clock skew). */
  readonly maxFutureMs: number;
}

export const DEFAULT_LIMITS: IngestLimits = {
  maxBackfillMs: 30 * 24 * 3600 * 1000,
  maxFutureMs: 5 * 60 * 1000,
};

/** Readings ready to store: resolved sensor ids in columns, plus every refusal so far. */
export interface ValidatedBatch {
  readonly count: number;
  readonly sensorId: string[];
  readonly ts: Float64Array;
  readonly value: Float64Array;
  readonly quality: Uint8Array;
  readonly index: Uint32Array;
  readonly rejected: ItemRejection[];
  /** Readings refused because their device is quarantined, per device (to count on the device). */
  readonly quarantinedRefusals: ReadonlyMap<string, number>;
  /** Devices whose sensors have accepted readings here (their last-seen time moves on commit). */
  readonly devicesSeen: ReadonlySet<string>;
}

const SUSPECT = 1;

/**
 * Checks each parsed reading against the registry and the clock: the sensor must exist in the
 * source's tenant and be active; a device may only write its own sensors; a quarantined device's
 * readings are refused (and counted); timestamps must fall within the backfill window. Values
 * outside the sensor type's valid range are kept, marked `suspect` — they may be real events.
 */
export async function validateBatch(
  batch: ParsedBatch,
  source: IngestSource,
  directory: SensorDirectory,
  receivedAt: number,
  limits: IngestLimits = DEFAULT_LIMITS,
): Promise<ValidatedBatch> {
  const sensors = await directory.resolve(source.tenantId, [...new Set(batch.sensor)]);
  const rejected = [...batch.rejected];
  const keep: number[] = [];
  const sensorId: string[] = [];
  const quarantined = new Map<string, number>();
  const devicesSeen = new Set<string>();
  const oldest = receivedAt - limits.maxBackfillMs;
  const newest = receivedAt + limits.maxFutureMs;
  for (let i = 0; i < batch.count; i++) {
    const index = batch.index[i]!;
    const ref = batch.sensor[i]!;
    const info = sensors.get(ref);
    if (!info?.active) {
      rejected.push({ index, code: 'UNKNOWN_SENSOR', detail: `no active sensor ${ref} in this tenant` });
      continue;
    }
    if (source.kind === 'device' && info.deviceId !== source.deviceId) {
      rejected.push({ index, code: 'NOT_OWNED', detail: `sensor ${info.key} belongs to another device` });
      continue;
    }
    if (info.deviceStatus === 'quarantined') {
      rejected.push({
        index,
        code: 'DEVICE_QUARANTINED',
        detail: `the device of sensor ${info.key} is quarantined`,
      });
      quarantined.set(info.deviceId!, (quarantined.get(info.deviceId!) ?? 0) + 1);
      continue;
    }
    const ts = batch.ts[i]!;
    if (ts < oldest) {
      rejected.push({
        index,
        code: 'TIMESTAMP_TOO_OLD',
        detail: `older than the backfill limit (${new Date(oldest).toISOString()})`,
      });
      continue;
    }
    if (ts > newest) {
      rejected.push({
        index,
        code: 'TIMESTAMP_IN_FUTURE',
        detail: `later than ${new Date(newest).toISOString()}`,
      });
      continue;
    }
    keep.push(i);
    sensorId.push(info.id);
    if (info.deviceId) devicesSeen.add(info.deviceId);
  }
  const n = keep.length;
  const out = {
    ts: new Float64Array(n),
    value: new Float64Array(n),
    quality: new Uint8Array(n),
    index: new Uint32Array(n),
  };
  for (let j = 0; j < n; j++) {
    const i = keep[j]!;
    const info = sensors.get(batch.sensor[i]!)!;
    const value = batch.value[i]!;
    out.ts[j] = batch.ts[i]!;
    out.value[j] = value;
    out.index[j] = batch.index[i]!;
    const outside =
      (info.validMin !== null && value < info.validMin) || (info.validMax !== null && value > info.validMax);
    out.quality[j] = outside ? Math.max(batch.quality[i]!, SUSPECT) : batch.quality[i]!;
  }
  rejected.sort((a, b) => a.index - b.index);
  return { count: n, sensorId, ...out, rejected, quarantinedRefusals: quarantined, devicesSeen };
}
