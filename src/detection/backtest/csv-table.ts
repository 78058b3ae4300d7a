import type { BacktestInput } from './backtest.js';

/** A CSV file read for a backtest: the table, and each row's time cell as written. */
export interface CsvTable extends BacktestInput {
  readonly timeColumn: string;
  readonly timeText: readonly string[];
  /** Rows not newer than a row before them: scored as late readings, as the pipeline would. */
  readonly outOfOrder: number;
}

export class CsvTableError extends Error {}

const TIME_NAMES = ['timestamp', 'time', 'ts', 'datetime', 'date'];

/** Splits one CSV line (RFC 4180 quoting; no newlines inside quotes). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Epoch ms of a time cell: epoch seconds or ms, RFC 3339, or `YYYY-MM-DD HH:MM:SS` (taken as UTC). */
export function parseTime(cell: string): number {
  const s = cell.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    // Below 1e11 it can only be seconds (1e11 ms is 1973; 1e11 s is the year 5138).
    return Math.abs(n) < 1e11 ? n * 1000 : n;
  }
  const iso = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s) ? `${s.replace(' ', 'T')}Z` : s;
  return Date.parse(iso);
}

/**
 * Reads a CSV with a header line. The time column is `timeColumn`, else the first column named
 * like a time, else the first column; the sensor columns are `columns`, else every other one.
 * Empty cells are missing readings. Times must be readable; rows that go back in time are kept
 * (the detectors treat them as late readings, as in production) and counted.
 */
export function readCsvTable(
  text: string,
  opts: { timeColumn?: string; columns?: readonly string[] } = {},
): CsvTable {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.length < 2) throw new CsvTableError('the CSV file needs a header line and at least one row');
  const header = splitCsvLine(lines[0]!).map((h) => h.trim());
  const timeColumn =
    opts.timeColumn ?? header.find((h) => TIME_NAMES.includes(h.toLowerCase())) ?? header[0]!;
  const ti = header.indexOf(timeColumn);
  if (ti < 0) throw new CsvTableError(`no column "${timeColumn}" (the header has: ${header.join(', ')})`);
  const names = opts.columns ?? header.filter((h, i) => i !== ti && h.length > 0);
  const indexes = names.map((n) => {
    const i = header.indexOf(n);
    if (i < 0) throw new CsvTableError(`no column "${n}" (the header has: ${header.join(', ')})`);
    if (i === ti) throw new CsvTableError(`"${n}" is the time column`);
    return i;
  });
  if (indexes.length === 0) throw new CsvTableError('no sensor columns to score');
  const rows = lines.length - 1;
  const ts = new Float64Array(rows);
  const columns = names.map((name) => ({ name, values: new Float64Array(rows) }));
  const timeText: string[] = new Array(rows);
  let newest = Number.NEGATIVE_INFINITY;
  let outOfOrder = 0;
  for (let r = 0; r < rows; r++) {
    const cells = splitCsvLine(lines[r + 1]!);
    const line = r + 2;
    const t = parseTime(cells[ti] ?? '');
    if (!Number.isFinite(t)) throw new CsvTableError(`line ${line}: "${cells[ti] ?? ''}" is not a time`);
    if (t <= newest) outOfOrder++;
    else newest = t;
    ts[r] = t;
    timeText[r] = cells[ti]!;
    indexes.forEach((ci, k) => {
      const cell = (cells[ci] ?? '').trim();
      const v = cell === '' ? Number.NaN : Number(cell);
      if (cell !== '' && !Number.isFinite(v))
        throw new CsvTableError(`line ${line}, column "${names[k]}": "${cell}" is not a number`);
      columns[k]!.values[r] = v;
    });
  }
  return { ts, columns, timeColumn, timeText, outOfOrder };
}

/** One CSV cell, quoted when it needs to be. */
export function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
