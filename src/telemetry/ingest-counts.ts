import { AppError } from '../http/errors/catalogue.js';
import type { ParsedBatch } from './formats/batch.js';

/**
 * What ingestion answered since the process started, over every transport (cumulative; the
 * monitoring API and the self-monitor take differences over time windows). Readings refused
 * because of the request (4xx: invalid items, quota, oversize) are `rejected`; readings not
 * stored because of Vigil or a dependency (5xx, e.g. the database unreachable) are `failed`.
 */
export class IngestCounts {
  accepted = 0;
  duplicates = 0;
  rejected = 0;
  failed = 0;
  /** Batches that failed as a whole for a server-side reason. */
  failedBatches = 0;

  stored(result: { accepted: number; duplicates: number; rejected: readonly unknown[] }): void {
    this.accepted += result.accepted;
    this.duplicates += result.duplicates;
    this.rejected += result.rejected.length;
  }

  refused(batch: ParsedBatch, err: unknown): void {
    const items = batch.count + batch.rejected.length;
    if (err instanceof AppError && err.status < 500) this.rejected += items;
    else {
      this.failed += items;
      this.failedBatches++;
    }
  }

  snapshot(): IngestTotals {
    const { accepted, duplicates, rejected, failed, failedBatches } = this;
    return { accepted, duplicates, rejected, failed, failedBatches };
  }
}

export interface IngestTotals {
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly failed: number;
  readonly failedBatches: number;
}
