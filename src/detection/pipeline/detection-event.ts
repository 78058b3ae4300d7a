import type { DbOrTrx } from '../../db/database.js';
import type { Severity } from '../config/detector-config.schema.js';

/** What detection hands on (to storage, the alarm stage and live clients). */
export interface DetectionEvent {
  readonly tenantId: string;
  readonly sensorId: string;
  readonly assetId: string | null;
  /** The reading's own timestamp (for a gap: when it became one). */
  readonly ts: number;
  readonly value: number;
  /** A single anomalous reading, or a condition (rule, flatline, gap) beginning or ending. */
  readonly kind: 'point' | 'raised' | 'cleared';
  readonly detector: string;
  readonly ruleId: string | null;
  readonly severity: Severity | null;
  readonly score: number;
  readonly confidence: number;
  readonly detectors: readonly string[];
  readonly explanation: Readonly<Record<string, unknown>>;
}

export type DetectionListener = (events: readonly DetectionEvent[]) => void;

/** Runs in the transaction storing new anomalies; returns what to run once it commits. */
export type StoredHook = (trx: DbOrTrx, events: readonly DetectionEvent[]) => Promise<() => void>;
