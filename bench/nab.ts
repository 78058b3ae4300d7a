/**
 * bench:nab — Vigil on the Numenta Anomaly Benchmark. First proves the TypeScript NAB scorer
 * (src/detection/nab) against NAB's published windowedGaussian results (exit 1 if the normalised
 * scores are more than 0.01 off), then scores bench/nab/vigil-scores.ts on the 58 data files with
 * NAB's corpus-wide threshold sweep and ranks it on NAB's published scoreboard. Prints progress on
 * stderr, then one JSON object as the last line on stdout.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DetectorConfigDoc } from '../src/detection/config/detector-config.schema.js';
import {
  type CorpusFile,
  LABEL_ROW_OVERRIDES,
  loadCorpus,
  loadDetectorScores,
  loadFinalResults,
  loadLabels,
  loadPublishedScores,
  loadThresholds,
} from '../src/detection/nab/nab-corpus.js';
import {
  type CostMatrix,
  detectionsAt,
  firstScoredRow,
  labelWindows,
  normalisedScore,
  nullScore,
  PROFILE_NAMES,
  type ProfileName,
  perfectScore,
  prepareFile,
  prepareSweep,
  type SweepCorpus,
  scoreFile,
  sweepThreshold,
  windowRows,
} from '../src/detection/nab/nab-scorer.js';
import { log } from './harness.js';
import { setVigilConfig, vigilScores } from './nab/vigil-scores.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NAB_DIR = path.resolve(ROOT, process.env.NAB_DIR ?? '../shared/datasets/nab');
const REFERENCE = 'windowedGaussian';
const TOLERANCE = 0.01;
/** JSON keys of the profiles, in PROFILE_NAMES order. */
const KEYS: Record<ProfileName, string> = {
  standard: 'standard',
  reward_low_FP_rate: 'rewardLowFP',
  reward_low_FN_rate: 'rewardLowFN',
};
const SHORT: Record<ProfileName, string> = {
  standard: 'standard',
  reward_low_FP_rate: 'low FP',
  reward_low_FN_rate: 'low FN',
};

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const byProfile = (f: (p: ProfileName) => number, digits: number) =>
  Object.fromEntries(PROFILE_NAMES.map((p) => [KEYS[p], round(f(p), digits)]));
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

if (!existsSync(NAB_DIR)) throw new Error(`NAB not found at ${NAB_DIR} (NAB_DIR)`);
const started = performance.now();

log(`loading NAB from ${NAB_DIR}…`);
const corpus = loadCorpus(NAB_DIR);
const prepared = corpus.files.map((f) => prepareFile(f));
const rows = corpus.files.reduce((s, f) => s + f.timestamps.length, 0);
const windowCount = corpus.files.reduce((s, f) => s + f.windows.length, 0);
log(`  ${corpus.files.length} files, ${rows.toLocaleString('en')} rows, ${windowCount} anomaly windows`);
const normalise = (p: ProfileName, raw: number, profile: CostMatrix = corpus.profiles[p]) =>
  normalisedScore(raw, nullScore(prepared, profile), perfectScore(prepared, profile));

// NAB's labeler made combined_windows.json from combined_labels.json; rebuilding it checks the window rules.
const labels = loadLabels(NAB_DIR);
const rebuilt = corpus.files.filter((f) => {
  const labelRows = LABEL_ROW_OVERRIDES[f.name] ?? (labels[f.name] ?? []).map((t) => f.timestamps.indexOf(t));
  return (
    JSON.stringify(labelWindows(f.timestamps.length, labelRows)) ===
    JSON.stringify(windowRows(f.timestamps, f.windows))
  );
}).length;
log(
  `  windows rebuilt from combined_labels.json by NAB's labeler rules: ${rebuilt}/${corpus.files.length} files`,
);

// a. The scorer against NAB's published windowedGaussian scores.
log(`scorer check on NAB's published ${REFERENCE} results…`);
const published = loadFinalResults(NAB_DIR);
const thresholds = loadThresholds(NAB_DIR)[REFERENCE]!;
const referenceScores = loadDetectorScores(NAB_DIR, REFERENCE, corpus.files);
const atThreshold = {} as Record<ProfileName, number>;
let ok = true;
for (const p of PROFILE_NAMES) {
  const profile = corpus.profiles[p];
  const threshold = thresholds[p].threshold;
  const perFile = new Map(loadPublishedScores(NAB_DIR, REFERENCE, p).map((r) => [r.file, r]));
  let raw = 0;
  let filesEqual = 0;
  prepared.forEach((f, i) => {
    const s = scoreFile(f, detectionsAt(referenceScores[i]!, threshold), profile);
    raw += s.score;
    const q = perFile.get(f.name);
    if (
      q &&
      Math.abs(q.score - s.score) < 1e-6 &&
      q.tp === s.tp &&
      q.fp === s.fp &&
      q.fn === s.fn &&
      q.tn === s.tn
    )
      filesEqual++;
  });
  atThreshold[p] = normalise(p, raw);
  const want = published[REFERENCE]![p];
  const match = Math.abs(atThreshold[p] - want) <= TOLERANCE;
  ok &&= match;
  log(
    `  ${p}: threshold ${threshold}, raw ${raw.toFixed(4)}, normalised ${atThreshold[p].toFixed(4)} vs published ${want.toFixed(4)} ${match ? 'MATCH' : 'MISMATCH'}; per-file score and counts equal for ${filesEqual}/${corpus.files.length} files`,
  );
}
const referenceSweep = prepareSweep(corpus.files.map((f, i) => ({ ...f, scores: referenceScores[i]! })));
for (const p of PROFILE_NAMES) {
  const best = sweepThreshold(referenceSweep, corpus.profiles[p]);
  const score = normalise(p, best.score);
  const want = published[REFERENCE]![p];
  const match = Math.abs(score - want) <= TOLERANCE;
  ok &&= match;
  log(
    `  ${p} by the sweeper: best threshold ${best.threshold}, normalised ${score.toFixed(4)} vs published ${want.toFixed(4)} ${match ? 'MATCH' : 'MISMATCH'}`,
  );
}
const nulls = PROFILE_NAMES.map((p) => `${p} ${nullScore(prepared, corpus.profiles[p])}`).join(', ');
log(`  null detector raw scores: ${nulls}; perfect: ${perfectScore(prepared, corpus.profiles.standard)}`);
if (!ok) {
  log('scorer check FAILED: the re-implemented NAB scorer does not reproduce the published scores');
  process.exit(1);
}

// b. Vigil, scored as NAB scores any detector.
// NAB_CONFIG: a detector document to run instead of the defaults (experiments; the reported
// figures use the defaults).
if (process.env.NAB_CONFIG) {
  setVigilConfig(JSON.parse(readFileSync(process.env.NAB_CONFIG, 'utf8')) as DetectorConfigDoc);
  log(`Vigil's detector document: ${process.env.NAB_CONFIG}`);
}
log('Vigil on the 58 data files…');
const vigilFiles: Array<CorpusFile & { scores: Float64Array }> = [];
let group = '';
let groupStart = performance.now();
let groupRows = 0;
for (const f of corpus.files) {
  const g = path.dirname(f.name);
  if (g !== group) {
    if (group) log(`  ${group}: ${groupRows.toLocaleString('en')} rows, ${seconds(groupStart)} s`);
    group = g;
    groupStart = performance.now();
    groupRows = 0;
  }
  const probationRows = firstScoredRow(f.timestamps.length);
  const scores = await vigilScores(f.timestamps, f.values, { probationRows, file: f.name });
  if (scores.length !== f.timestamps.length) {
    throw new Error(`${f.name}: ${scores.length} scores for ${f.timestamps.length} rows`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (!(scores[i]! >= 0 && scores[i]! <= 1))
      throw new Error(`${f.name}: score ${scores[i]} of row ${i} not in [0, 1]`);
  }
  vigilFiles.push({ ...f, scores });
  groupRows += f.timestamps.length;
}
log(`  ${group}: ${groupRows.toLocaleString('en')} rows, ${seconds(groupStart)} s`);

const sweep: SweepCorpus = prepareSweep(vigilFiles);
const vigil = {} as Record<ProfileName, { score: number; threshold: number }>;
for (const p of PROFILE_NAMES) {
  const best = sweepThreshold(sweep, corpus.profiles[p]);
  vigil[p] = { score: normalise(p, best.score), threshold: best.threshold };
  log(
    `  ${p}: threshold ${best.threshold}, raw ${best.score.toFixed(4)}, normalised ${vigil[p].score.toFixed(2)} (rows TP ${best.tp}, FP ${best.fp}, FN ${best.fn}, TN ${best.tn})`,
  );
}

// The scoreboard: NAB's published normalised scores with Vigil among them.
const board = [
  ...Object.entries(published).map(([name, s]) => ({
    name,
    s: s as Record<ProfileName, number>,
    vigil: false,
  })),
  { name: 'Vigil', s: Object.fromEntries(PROFILE_NAMES.map((p) => [p, vigil[p].score])), vigil: true },
].sort((a, b) => b.s.standard - a.s.standard);
const rank = (p: ProfileName) => 1 + board.filter((d) => !d.vigil && d.s[p] > vigil[p].score).length;
log('');
log(`${'detector'.padEnd(20)}${PROFILE_NAMES.map((p) => SHORT[p].padStart(10)).join('')}`);
for (const d of board) {
  const line = `${d.name.padEnd(20)}${PROFILE_NAMES.map((p) => d.s[p].toFixed(2).padStart(10)).join('')}`;
  log(d.vigil ? `${line}   <- Vigil` : line);
}
log(`Vigil's rank of ${board.length}: ${PROFILE_NAMES.map((p) => `${SHORT[p]} ${rank(p)}`).join(', ')}`);

console.log(
  JSON.stringify({
    scorerCheck: byProfile((p) => atThreshold[p], 4),
    vigil: {
      ...byProfile((p) => vigil[p].score, 3),
      thresholds: Object.fromEntries(PROFILE_NAMES.map((p) => [KEYS[p], vigil[p].threshold])),
      rank: byProfile(rank, 0),
    },
    published: Object.fromEntries(
      Object.entries(published)
        .sort(([, a], [, b]) => b.standard - a.standard)
        .map(([name, s]) => [name, byProfile((p) => s[p], 3)]),
    ),
    files: corpus.files.length,
    seconds: round((performance.now() - started) / 1000, 1),
  }),
);
