import { isDatabaseUnavailable } from '../db/errors.js';
import { AppError, ERROR_CATALOGUE } from '../http/errors/catalogue.js';
import type { ItemRejection, ParsedBatch } from '../telemetry/formats/batch.js';
import type { IngestResult } from '../telemetry/ingest.service.js';
import type { IngestProtocol, Metrics } from './metrics.js';

/** Per-item codes (telemetry/formats/batch.ts ItemCode); with the error catalogue, the `reason` label's whole range. */
const ITEM_CODES = new Set([
  'MISSING_SENSOR',
  'NOT_NUMERIC',
  'NOT_FINITE',
  'INVALID_TIMESTAMP',
  'INVALID_QUALITY',
  'TIMESTAMP_TOO_OLD',
  'TIMESTAMP_IN_FUTURE',
  'UNKNOWN_SENSOR',
  'NOT_OWNED',
  'DEVICE_QUARANTINED',
  'DUPLICATE',
]);

/** A bounded label value: a known item or error code, else OTHER. */
export function rejectionReason(code: string): string {
  return ITEM_CODES.has(code) || Object.hasOwn(ERROR_CATALOGUE, code) ? code : 'OTHER';
}

function tally(rejected: readonly ItemRejection[]): Map<string, number> | undefined {
  if (rejected.length === 0) return undefined;
  const out = new Map<string, number>();
  for (const r of rejected) {
    const reason = rejectionReason(r.code);
    out.set(reason, (out.get(reason) ?? 0) + 1);
  }
  return out;
}

/** Counts a stored batch: accepted, duplicates and each refused item by its code. */
export function countIngested(metrics: Metrics, protocol: IngestProtocol, result: IngestResult): void {
  metrics.ingested(protocol, result.accepted, result.duplicates, tally(result.rejected));
}

/**
 * Counts a batch that failed as a whole: when none of its readings could be accepted (422),
 * by each item's code; otherwise all its readings under the request's error code (RATE_LIMITED,
 * DEPENDENCY_UNAVAILABLE…; INTERNAL for an unexpected error).
 */
export function countIngestFailure(
  metrics: Metrics,
  protocol: IngestProtocol,
  batch: ParsedBatch,
  err: unknown,
): void {
  const items = (err instanceof AppError ? err.extra.fields?.rejected : undefined) as
    | ItemRejection[]
    | undefined;
  if (Array.isArray(items) && items.length > 0) {
    metrics.ingested(protocol, 0, 0, tally(items));
    return;
  }
  const count = batch.count + batch.rejected.length;
  if (count === 0) return;
  const reason =
    err instanceof AppError
      ? rejectionReason(err.code)
      : isDatabaseUnavailable(err)
        ? 'DEPENDENCY_UNAVAILABLE'
        : 'INTERNAL';
  metrics.ingested(protocol, 0, 0, new Map([[reason, count]]));
}
