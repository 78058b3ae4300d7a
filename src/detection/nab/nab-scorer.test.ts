import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  parseNabTimestamp,
  parsePublishedScores,
  parseResultScores,
  parseWindows,
  readCsvColumns,
  timestamps,
} from './nab-corpus.js';
import {
  type CostMatrix,
  detectionsAt,
  firstScoredRow,
  type LabelledFile,
  labelWindows,
  MAX_TP,
  NAB_PROFILES,
  normalisedScore,
  nullScore,
  PROFILE_NAMES,
  type ProfileName,
  perfectScore,
  probationRows,
  type ScoredFile,
  scaledSigmoid,
  scoreFile,
  sweepThreshold,
  windowRows,
} from './nab-scorer.js';

const STEP = 300_000; // 5 minutes, NAB's usual spacing
const standard = NAB_PROFILES.standard;

/** A file of `rows` rows with windows given as inclusive row ranges. */
function synthetic(rows: number, windows: Array<[number, number]>, name = 'synthetic.csv'): LabelledFile {
  return {
    name,
    timestamps: Float64Array.from({ length: rows }, (_, i) => 1_400_000_000_000 + i * STEP),
    windows: windows.map(([a, b]) => [1_400_000_000_000 + a * STEP, 1_400_000_000_000 + b * STEP] as const),
  };
}

function at(rows: number, ...detected: number[]): Uint8Array {
  const d = new Uint8Array(rows);
  for (const i of detected) d[i] = 1;
  return d;
}

describe('NAB scaled sigmoid and probation', () => {
  it('scores the left edge of a window 0.98661, its right edge 0 and far false positives -1', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661429815, 10);
    expect(MAX_TP).toBe(scaledSigmoid(-1));
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661429815, 10);
    expect(scaledSigmoid(3)).toBe(-1);
    expect(scaledSigmoid(2.999)).toBeGreaterThan(-1);
  });

  it('is min(floor(0.15 N), 750) rows', () => {
    expect(probationRows(4032)).toBe(604);
    expect(probationRows(1243)).toBe(186);
    expect(probationRows(22695)).toBe(750);
    expect(firstScoredRow(1000)).toBe(150);
  });
});

describe('scoreFile', () => {
  // 1,000 rows: rows 0-149 are probation; one window of 10 rows.
  const file = synthetic(1000, [[400, 409]]);

  it('costs -fnWeight for a missed window and counts rows after probation only', () => {
    expect(scoreFile(file, at(1000), standard)).toEqual({ score: -1, tp: 0, fp: 0, fn: 10, tn: 840 });
    expect(scoreFile(file, at(1000), NAB_PROFILES.reward_low_FN_rate).score).toBe(-2);
  });

  it('gives tpWeight for a detection on the first row of the window, less later', () => {
    expect(scoreFile(file, at(1000, 400), standard).score).toBeCloseTo(1, 12);
    expect(scoreFile(file, at(1000, 409), standard).score).toBeCloseTo(scaledSigmoid(-0.1) / MAX_TP, 12);
    const double: CostMatrix = { ...standard, tpWeight: 2 };
    expect(scoreFile(file, at(1000, 400), double).score).toBeCloseTo(2, 12);
  });

  it('counts only the earliest detection of a window, but every detected row', () => {
    const s = scoreFile(file, at(1000, 405, 402, 408), standard);
    expect(s.score).toBeCloseTo(scaledSigmoid(-(409 - 402 + 1) / 10) / MAX_TP, 12);
    expect(s).toMatchObject({ tp: 3, fn: 7, fp: 0 });
  });

  it('costs -fpWeight for a false positive before the first window', () => {
    const s = scoreFile(file, at(1000, 200), standard);
    expect(s.score).toBeCloseTo(-1 - 0.11, 12);
    expect(s).toMatchObject({ fp: 1, tn: 839 });
    expect(scoreFile(file, at(1000, 200), NAB_PROFILES.reward_low_FP_rate).score).toBeCloseTo(-1.22, 12);
  });

  it('weights a false positive after a window by the sigmoid of its distance in window widths', () => {
    // 6 rows past the window's last row, width 10: p = 6 / (10 - 1).
    const near = scoreFile(file, at(1000, 415), standard).score + 1;
    expect(near).toBeCloseTo(0.11 * scaledSigmoid(6 / 9), 12);
    expect(near).toBeGreaterThan(-0.11);
    expect(near).toBeLessThan(0);
    // 3 widths or more past the window: a full -fpWeight.
    expect(scoreFile(file, at(1000, 409 + 27), standard).score + 1).toBeCloseTo(-0.11, 12);
  });

  it('measures a false positive from the closest preceding window', () => {
    const two = synthetic(1000, [
      [300, 309],
      [600, 619],
    ]);
    const s = scoreFile(two, at(1000, 300, 625), standard);
    expect(s.score).toBeCloseTo(1 + 0.11 * scaledSigmoid(6 / 19) - 1, 12);
  });

  it('ignores the probation period, also inside a window that starts there', () => {
    expect(scoreFile(file, at(1000, 10, 149), standard)).toEqual(scoreFile(file, at(1000), standard));
    const early = synthetic(1000, [[140, 159]]);
    expect(scoreFile(early, at(1000, 145), standard).score).toBe(-1);
    // A detection after probation keeps its position in the whole window.
    expect(scoreFile(early, at(1000, 145, 155), standard).score).toBeCloseTo(
      scaledSigmoid(-(159 - 155 + 1) / 20) / MAX_TP,
      12,
    );
    expect(scoreFile(early, at(1000), standard)).toMatchObject({ fn: 10 });
  });

  it('accepts booleans and rejects detections of the wrong length', () => {
    const d = Array.from({ length: 1000 }, (_, i) => i === 400);
    expect(scoreFile(file, d, standard).score).toBeCloseTo(1, 12);
    expect(() => scoreFile(file, at(999), standard)).toThrow(RangeError);
  });

  it('finds window rows by time, inclusive at both ends', () => {
    const f = synthetic(100, [[20, 29]]);
    expect(windowRows(f.timestamps, f.windows)).toEqual([[20, 29]]);
    const between: LabelledFile = { ...f, windows: [[f.timestamps[20]! - 1, f.timestamps[29]! + 1]] };
    expect(windowRows(between.timestamps, between.windows)).toEqual([[20, 29]]);
  });
});

describe('normalisation', () => {
  const files = [
    synthetic(1000, [[400, 409]]),
    synthetic(
      2000,
      [
        [500, 520],
        [1500, 1600],
      ],
      'b.csv',
    ),
  ];

  it('puts the null detector at 0 and the perfect one at 100', () => {
    for (const p of PROFILE_NAMES) {
      const profile = NAB_PROFILES[p];
      const nul = nullScore(files, profile);
      const perfect = perfectScore(files, profile);
      expect(nul).toBe(-3 * profile.fnWeight);
      expect(perfect).toBe(3 * profile.tpWeight);
      const perfectRaw =
        scoreFile(files[0]!, at(1000, 400), profile).score +
        scoreFile(files[1]!, at(2000, 500, 1500), profile).score;
      expect(normalisedScore(perfectRaw, nul, perfect)).toBeCloseTo(100, 10);
      expect(normalisedScore(nul, nul, perfect)).toBe(0);
    }
  });
});

describe('sweepThreshold', () => {
  // A tiny deterministic generator, so the test does not depend on Math.random.
  function lcg(seed: number) {
    let s = seed;
    return () => {
      s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
      return s / 2 ** 31;
    };
  }

  function corpus(seed: number): ScoredFile[] {
    const rnd = lcg(seed);
    const a = synthetic(400, [[150, 169]], 'a.csv');
    const b = synthetic(
      600,
      [
        [200, 229],
        [400, 419],
      ],
      'b.csv',
    );
    // Scores on a coarse grid so that many rows tie; higher inside windows, so a real optimum exists.
    const scores = (f: LabelledFile) =>
      Float64Array.from(f.timestamps, (_, i) => {
        const inWindow = windowRows(f.timestamps, f.windows).some(([l, r]) => i >= l && i <= r);
        return Math.round(Math.min(1, rnd() * 0.8 + (inWindow ? 0.25 : 0)) * 20) / 20;
      });
    return [a, b].map((f) => ({ ...f, scores: scores(f) }));
  }

  /** The best corpus score over every distinct threshold, by scoring each file from scratch. */
  function bruteForce(files: ScoredFile[], profile: CostMatrix) {
    const thresholds = [
      1.1,
      ...new Set(files.flatMap((f) => Array.from(f.scores).slice(firstScoredRow(f.scores.length)))),
    ];
    thresholds.sort((x, y) => y - x);
    let best = { threshold: Number.NaN, score: -Infinity };
    for (const t of thresholds) {
      const score = files.reduce((s, f) => s + scoreFile(f, detectionsAt(f.scores, t), profile).score, 0);
      if (score > best.score + 1e-12) best = { threshold: t, score };
    }
    return best;
  }

  it('finds the same best threshold and score as scoring every threshold separately', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const files = corpus(seed);
      for (const p of PROFILE_NAMES) {
        const swept = sweepThreshold(files, NAB_PROFILES[p]);
        const brute = bruteForce(files, NAB_PROFILES[p]);
        expect(swept.threshold).toBe(brute.threshold);
        expect(swept.score).toBeCloseTo(brute.score, 10);
        const counts = files
          .map((f) => scoreFile(f, detectionsAt(f.scores, swept.threshold), NAB_PROFILES[p]))
          .reduce((s, c) => ({ tp: s.tp + c.tp, fp: s.fp + c.fp, fn: s.fn + c.fn, tn: s.tn + c.tn }), {
            tp: 0,
            fp: 0,
            fn: 0,
            tn: 0,
          });
        expect(swept).toMatchObject(counts);
      }
    }
  });

  it('keeps no detection (threshold 1.1) when every detection costs', () => {
    const f = synthetic(1000, [[400, 409]]);
    const scores = new Float64Array(1000);
    scores[200] = 0.9;
    const best = sweepThreshold([{ ...f, scores }], standard);
    expect(best).toMatchObject({ threshold: 1.1, score: -1, tp: 0, fp: 0 });
  });

  it('prefers the highest threshold among equal scores', () => {
    const f = synthetic(1000, [[400, 409]]);
    const scores = new Float64Array(1000);
    scores[400] = 0.9; // earliest row of the window: the best there is
    scores[405] = 0.7; // a later detection in the same window adds nothing
    expect(sweepThreshold([{ ...f, scores }], standard).threshold).toBe(0.9);
  });

  it('rejects NaN scores', () => {
    const f = synthetic(1000, [[400, 409]]);
    const scores = new Float64Array(1000);
    scores[500] = Number.NaN;
    expect(() => sweepThreshold([{ ...f, scores }], standard)).toThrow(/NaN/);
  });
});

describe('labelWindows (NAB labeler)', () => {
  it('centres a window of 10 % of the file / number of labels on each label', () => {
    // 1,000 rows, 2 labels: 50 rows each, 25 either side.
    expect(labelWindows(1000, [300, 700])).toEqual([
      [275, 325],
      [675, 725],
    ]);
  });

  it('merges overlapping windows, as NAB does once per pair', () => {
    expect(labelWindows(1000, [300, 320])).toEqual([[275, 345]]);
    // Three overlapping windows: NAB's loop moves on after a merge, so the third stays separate.
    expect(labelWindows(3000, [1000, 1050, 1100])).toEqual([
      [950, 1100],
      [1050, 1150],
    ]);
  });

  it('drops the first window when it starts inside probation', () => {
    expect(labelWindows(1000, [160, 700])).toEqual([[675, 725]]);
    expect(labelWindows(1000, [])).toEqual([]);
  });
});

describe('NAB timestamps', () => {
  it('reads NAB timestamps as UTC, with or without microseconds', () => {
    expect(parseNabTimestamp('2014-02-14 14:30:00')).toBe(Date.UTC(2014, 1, 14, 14, 30));
    expect(parseNabTimestamp('2014-04-10 07:15:00.000000')).toBe(Date.UTC(2014, 3, 10, 7, 15));
    expect(parseNabTimestamp('2011-07-15 06:15:01.500000')).toBe(Date.UTC(2011, 6, 15, 6, 15, 1, 500));
    expect(() => parseNabTimestamp('14/02/2014 14:30')).toThrow(SyntaxError);
  });
});

describe("NAB's published windowedGaussian results (test/fixtures/nab)", () => {
  const dir = fileURLToPath(new URL('../../../test/fixtures/nab/', import.meta.url));
  const read = (name: string) => readFileSync(`${dir}${name}`, 'utf8');
  const windows = parseWindows(JSON.parse(read('windows.json')));
  const thresholds = JSON.parse(read('thresholds.json')) as Record<ProfileName, { threshold: number }>;
  const published = parsePublishedScores(read('windowedGaussian_scores.csv'));

  it.each(Object.keys(windows))('reproduces the published score and counts of %s', (name) => {
    const text = read(`windowedGaussian_${name.split('/')[1]}`);
    const file: LabelledFile = {
      name,
      timestamps: timestamps(readCsvColumns(text).get('timestamp')!),
      windows: windows[name]!,
    };
    const scores = parseResultScores(text, file);
    for (const p of PROFILE_NAMES) {
      const want = published.find((r) => r.file === name && r.profile === p);
      expect(want, `${name} ${p}`).toBeDefined();
      const got = scoreFile(file, detectionsAt(scores, thresholds[p].threshold), NAB_PROFILES[p]);
      expect(Math.abs(got.score - want!.score), `${name} ${p}`).toBeLessThan(1e-6);
      expect({ tp: got.tp, fp: got.fp, fn: got.fn, tn: got.tn }).toEqual({
        tp: want!.tp,
        fp: want!.fp,
        fn: want!.fn,
        tn: want!.tn,
      });
    }
  });
});
