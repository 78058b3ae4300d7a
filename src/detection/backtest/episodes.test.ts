import { describe, expect, it } from 'vitest';
import type { BacktestRow } from './backtest.js';
import { type Episode, EpisodeTracker } from './episodes.js';

const row = (score: number, fired: string[] = [], explanation = ''): BacktestRow => ({
  score,
  pointScore: score,
  raised: false,
  anomaly: score >= 0.7,
  fired,
  explanation,
});

describe('EpisodeTracker', () => {
  it('folds consecutive anomalous rows into one episode with its peak, detectors and counts', () => {
    const seen: Episode[] = [];
    const t = new EpisodeTracker((e) => seen.push(e));
    t.add(1, 5, row(0.1));
    t.add(2, 9, row(0.8, ['ewma'], 'first'));
    t.add(3, 12, row(0.95, ['shift', 'ewma'], 'peak'));
    t.add(4, 8, row(0.75, ['range']));
    t.add(5, 5, row(0.2));
    t.add(6, 13, row(0.9, ['range'], 'again'));
    expect(seen).toHaveLength(1);
    t.close();
    expect(seen).toEqual([
      {
        from: 2,
        to: 4,
        rows: 3,
        peakAt: 3,
        peakScore: 0.95,
        peakValue: 12,
        detectors: ['ewma', 'range', 'shift'],
        explanation: 'peak',
      },
      {
        from: 6,
        to: 6,
        rows: 1,
        peakAt: 6,
        peakScore: 0.9,
        peakValue: 13,
        detectors: ['range'],
        explanation: 'again',
      },
    ]);
    expect(t.summary()).toEqual({
      anomalyRows: 4,
      episodes: 2,
      byDetector: { ewma: 1, range: 2, shift: 1 },
      maxScore: 0.95,
    });
  });

  it('counts nothing when no row is anomalous, and closing twice adds nothing', () => {
    const t = new EpisodeTracker();
    t.add(1, 1, row(0.69));
    t.close();
    t.close();
    expect(t.summary()).toEqual({ anomalyRows: 0, episodes: 0, byDetector: {}, maxScore: 0.69 });
  });
});
