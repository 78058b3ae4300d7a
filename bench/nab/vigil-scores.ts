import { backtest } from '../../src/detection/backtest/backtest.js';
import type { DetectorConfigDoc } from '../../src/detection/config/detector-config.schema.js';

/** Vigil's detector document for the benchmark: the defaults unless NAB_CONFIG names a file. */
let config: DetectorConfigDoc | undefined;

export function setVigilConfig(doc: DetectorConfigDoc | undefined): void {
  config = doc;
}

/**
 * Vigil's default detector through the backtest path (the production detector code, online, no
 * look-ahead): one score in [0, 1] per row. NAB's probation rows are learned from like any others
 * (they are history the detector sees first); NAB does not score them.
 */
export async function vigilScores(
  timestamps: Float64Array,
  values: Float64Array,
  _info: { probationRows: number; file: string },
): Promise<Float64Array> {
  const out = new Float64Array(timestamps.length);
  let i = 0;
  for (const row of backtest(
    { ts: timestamps, columns: [{ name: 'value', values }] },
    config ? { config } : {},
  )) {
    out[i++] = row.score;
  }
  return out;
}
