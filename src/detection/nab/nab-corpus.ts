/**
 * Reading a Numenta Anomaly Benchmark directory (data/, labels/, config/, results/) into the typed
 * arrays nab-scorer.ts works on. NAB's timestamps carry no zone; they are read as UTC, which only
 * has to be consistent between data, windows and results.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type CostMatrix,
  type LabelledFile,
  PROFILE_NAMES,
  type ProfileName,
  type Profiles,
  type Window,
} from './nab-scorer.js';

export interface CorpusFile extends LabelledFile {
  values: Float64Array;
}

export interface NabCorpus {
  dir: string;
  /** In the order of labels/combined_windows.json (sorted by path). */
  files: CorpusFile[];
  profiles: Profiles;
}

const digits = (s: string, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw new SyntaxError(`not a NAB timestamp: ${JSON.stringify(s)}`);
    n = n * 10 + d;
  }
  return n;
};

/** `2014-02-14 14:30:00` or `2014-04-10 07:15:00.000000` → epoch ms, as UTC. */
export function parseNabTimestamp(s: string): number {
  if (s.length < 19 || s[4] !== '-' || s[7] !== '-' || s[13] !== ':' || s[16] !== ':') {
    throw new SyntaxError(`not a NAB timestamp: ${JSON.stringify(s)}`);
  }
  const ms = Date.UTC(
    digits(s, 0, 4),
    digits(s, 5, 7) - 1,
    digits(s, 8, 10),
    digits(s, 11, 13),
    digits(s, 14, 16),
    digits(s, 17, 19),
  );
  if (s.length > 20 && s[19] === '.') return ms + Number(`0${s.slice(19)}`) * 1000;
  return ms;
}

/** Columns of a NAB CSV (plain numbers and timestamps, no quoting) by header name. */
export function readCsvColumns(text: string): Map<string, string[]> {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = (lines[0] ?? '').split(',');
  const columns = header.map(() => [] as string[]);
  for (let r = 1; r < lines.length; r++) {
    const cells = lines[r]!.split(',');
    for (let c = 0; c < header.length; c++) columns[c]!.push(cells[c] ?? '');
  }
  return new Map(header.map((h, c) => [h, columns[c]!]));
}

function column(cols: Map<string, string[]>, name: string, file: string): string[] {
  const col = cols.get(name);
  if (!col) throw new Error(`${file}: no column ${name}`);
  return col;
}

export function numbers(cells: readonly string[], file = 'csv'): Float64Array {
  const out = new Float64Array(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const v = Number(cells[i]);
    if (cells[i] === '' || Number.isNaN(v)) throw new Error(`${file}: row ${i + 1} is not a number`);
    out[i] = v;
  }
  return out;
}

export const timestamps = (cells: readonly string[]): Float64Array =>
  Float64Array.from(cells, parseNabTimestamp);

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

export function parseWindows(json: unknown): Record<string, Window[]> {
  const out: Record<string, Window[]> = {};
  for (const [name, list] of Object.entries(json as Record<string, [string, string][]>)) {
    out[name] = list.map(([a, b]) => [parseNabTimestamp(a), parseNabTimestamp(b)] as const);
  }
  return out;
}

export function parseProfiles(json: unknown): Profiles {
  const raw = json as Record<string, { CostMatrix: CostMatrix }>;
  const out = {} as Profiles;
  for (const name of PROFILE_NAMES) {
    const m = raw[name]?.CostMatrix;
    if (!m) throw new Error(`profiles.json: no profile ${name}`);
    out[name] = { tpWeight: m.tpWeight, fpWeight: m.fpWeight, fnWeight: m.fnWeight, tnWeight: m.tnWeight };
  }
  return out;
}

/** Load data files, windows and profiles. */
export function loadCorpus(dir: string): NabCorpus {
  const windows = parseWindows(readJson(path.join(dir, 'labels', 'combined_windows.json')));
  const files = Object.keys(windows)
    .sort()
    .map((name): CorpusFile => {
      const file = path.join(dir, 'data', name);
      const cols = readCsvColumns(readFileSync(file, 'utf8'));
      return {
        name,
        timestamps: timestamps(column(cols, 'timestamp', file)),
        values: numbers(column(cols, 'value', file), file),
        windows: windows[name]!,
      };
    });
  return { dir, files, profiles: parseProfiles(readJson(path.join(dir, 'config', 'profiles.json'))) };
}

/** `results/<detector>/<group>/<detector>_<file>.csv` for a data file `<group>/<file>.csv`. */
export function resultPath(dir: string, detector: string, name: string): string {
  return path.join(dir, 'results', detector, path.dirname(name), `${detector}_${path.basename(name)}`);
}

/** A detector's published anomaly scores for one data file, checked against the file's timestamps. */
export function parseResultScores(text: string, file: LabelledFile, source = file.name): Float64Array {
  const cols = readCsvColumns(text);
  const ts = column(cols, 'timestamp', source);
  if (ts.length !== file.timestamps.length) {
    throw new Error(`${source}: ${ts.length} rows, the data file has ${file.timestamps.length}`);
  }
  for (let i = 0; i < ts.length; i++) {
    if (parseNabTimestamp(ts[i]!) !== file.timestamps[i])
      throw new Error(`${source}: row ${i + 1} timestamp differs`);
  }
  return numbers(column(cols, 'anomaly_score', source), source);
}

export function loadDetectorScores(
  dir: string,
  detector: string,
  files: readonly LabelledFile[],
): Float64Array[] {
  return files.map((f) => {
    const file = resultPath(dir, detector, f.name);
    return parseResultScores(readFileSync(file, 'utf8'), f, file);
  });
}

export interface PublishedFileScore {
  profile: string;
  file: string;
  threshold: number;
  score: number;
  tp: number;
  tn: number;
  fp: number;
  fn: number;
  total: number;
}

/** `results/<detector>/<detector>_<profile>_scores.csv`: per-file raw scores; the Totals row is left out. */
export function parsePublishedScores(text: string): PublishedFileScore[] {
  const cols = readCsvColumns(text);
  const get = (name: string) => column(cols, name, 'scores csv');
  const files = get('File');
  const profiles = get('Profile');
  const out: PublishedFileScore[] = [];
  for (let i = 0; i < files.length; i++) {
    if (!files[i]) continue;
    const n = (name: string) => Number(get(name)[i]);
    out.push({
      profile: profiles[i]!,
      file: files[i]!,
      threshold: n('Threshold'),
      score: n('Score'),
      tp: n('TP'),
      tn: n('TN'),
      fp: n('FP'),
      fn: n('FN'),
      total: n('Total_Count'),
    });
  }
  return out;
}

export function loadPublishedScores(
  dir: string,
  detector: string,
  profile: ProfileName,
): PublishedFileScore[] {
  const file = path.join(dir, 'results', detector, `${detector}_${profile}_scores.csv`);
  return existsSync(file) ? parsePublishedScores(readFileSync(file, 'utf8')) : [];
}

/** config/thresholds.json: detector → profile → { threshold, score }. */
export function loadThresholds(
  dir: string,
): Record<string, Record<ProfileName, { threshold: number; score: number }>> {
  return readJson(path.join(dir, 'config', 'thresholds.json')) as Record<
    string,
    Record<ProfileName, { threshold: number; score: number }>
  >;
}

/** results/final_results.json: detector → profile → normalised score. */
export function loadFinalResults(dir: string): Record<string, Record<ProfileName, number>> {
  return readJson(path.join(dir, 'results', 'final_results.json')) as Record<
    string,
    Record<ProfileName, number>
  >;
}

/**
 * Labels that NAB's labeler replaced by hand after combining (LabelCombiner.editPoorLabels): row
 * indices used for the windows instead of those in combined_labels.json.
 */
export const LABEL_ROW_OVERRIDES: Readonly<Record<string, readonly number[]>> = {
  'realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv': [249, 339],
};

/** labels/combined_labels.json: the labelled anomaly timestamps of each file (before windowing). */
export function loadLabels(dir: string): Record<string, number[]> {
  const raw = readJson(path.join(dir, 'labels', 'combined_labels.json')) as Record<string, string[]>;
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.map(parseNabTimestamp)]));
}
