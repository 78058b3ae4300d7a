import { backtest } from '../../src/detection/backtest/backtest.js';
import type { DetectorConfigDoc } from '../../src/detection/config/detector-config.schema.js';

/** Vigil's detector document for the benchmark: the defaults unless NAB_CONFIG names a file. */
let config: DetectorConfigDoc | undefined;

export function setVigilConfig(doc: DetectorConfigDoc | undefined): void {
  config = doc;
}

/**
 * Which of a backtest row's scores NAB sees (NAB_SCORE):
 * - `point` (default): the point anomaly score, what the pipeline stores a point anomaly for. NAB
 *   labels anomalies in the values and counts every flagged row as a separate detection.
 * - `events`: also 1 on a row where a condition (heartbeat gap, flatline, rule) was raised: every
 *   event the pipeline would emit. NAB does not label data gaps or stuck values (its traffic files
 *   have hundreds of gaps), so the heartbeat and flatline alarms count as false positives here.
 * - `score`: the ensemble score, 1 on every row while a condition is active (a stuck series of
 *   4,000 rows is then 4,000 detections).
 */
const MODE = (process.env.NAB_SCORE ?? 'point') as 'point' | 'events' | 'score';
if (!['point', 'events', 'score'].includes(MODE))
  throw new Error(`NAB_SCORE: ${MODE}: point, events or score`);

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
    out[i++] = MODE === 'score' ? row.score : MODE === 'events' && row.raised ? 1 : row.pointScore;
  }
  return out;
}
