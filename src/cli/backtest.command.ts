import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Value } from 'typebox/value';
import { backtest } from '../detection/backtest/backtest.js';
import { CsvTableError, csvCell, readCsvTable } from '../detection/backtest/csv-table.js';
import { type DetectorConfigDoc, DetectorConfigSchema } from '../detection/config/detector-config.schema.js';
import { checkDoc } from '../detection/config/effective-config.js';
import { CliError } from './context.js';

interface BacktestOpts {
  csv: string;
  timeColumn?: string;
  columns?: string;
  config?: string;
  out?: string;
  threshold?: string;
  trainRows?: string;
  progress: boolean;
}

async function readConfig(file: string): Promise<DetectorConfigDoc> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new CliError(`--config ${file}: ${(err as Error).message}`);
  }
  if (!Value.Check(DetectorConfigSchema, doc)) {
    const problems = [...Value.Errors(DetectorConfigSchema, doc)]
      .slice(0, 10)
      .map((e) => `  ${e.instancePath || '/'}: ${e.message}`);
    throw new CliError(`--config ${file} is not a valid detector document:\n${problems.join('\n')}`);
  }
  const problems = checkDoc(doc);
  if (problems.length > 0)
    throw new CliError(`--config ${file}:\n${problems.map((p) => `  ${p.pointer}: ${p.detail}`).join('\n')}`);
  return doc;
}

function number(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
  integer: boolean,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
    throw new CliError(
      `${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got "${raw}"`,
    );
  return n;
}

/** A progress bar on stderr (only on a terminal unless --progress is forced). */
function progressBar(enabled: boolean): (done: number, total: number) => void {
  let last = -1;
  return (done, total) => {
    if (!enabled) return;
    const pct = Math.floor((100 * done) / total);
    if (pct === last && done !== total) return;
    last = pct;
    const width = 30;
    const filled = Math.round((width * done) / total);
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${done}/${total} rows`,
    );
    if (done === total) process.stderr.write('\n');
  };
}

export function registerBacktest(program: Command): void {
  program
    .command('backtest')
    .description(
      'Run the production detectors over a CSV file, online (no look-ahead), one output row per input row',
    )
    .requiredOption('--csv <file>', 'input CSV with a header line')
    .option('--time-column <name>', 'the time column (default: one named timestamp/time/ts, else the first)')
    .option(
      '--columns <a,b,...>',
      'sensor columns to score (default: all but the time column); several = one asset',
    )
    .option('--config <file>', 'detector document (JSON, the same schema as the API)')
    .option('--out <file>', 'output CSV (default: standard output)')
    .option('--threshold <score>', "anomaly threshold on the 0-1 score (default: the document's, else 0.7)")
    .option('--train-rows <n>', 'the first n rows are training history only: learned from, never flagged')
    .option('--progress', 'show the progress bar even when stderr is not a terminal', false)
    .action(async (opts: BacktestOpts) => {
      const config = opts.config ? await readConfig(opts.config) : undefined;
      const threshold = number('--threshold', opts.threshold, 0.05, 1, false);
      const trainRows = number('--train-rows', opts.trainRows, 0, Number.MAX_SAFE_INTEGER, true);
      let text: string;
      try {
        text = await readFile(opts.csv, 'utf8');
      } catch (err) {
        throw new CliError(`--csv ${opts.csv}: ${(err as Error).message}`);
      }
      let table: ReturnType<typeof readCsvTable>;
      try {
        table = readCsvTable(text, {
          ...(opts.timeColumn ? { timeColumn: opts.timeColumn } : {}),
          ...(opts.columns ? { columns: opts.columns.split(',').map((c) => c.trim()) } : {}),
        });
      } catch (err) {
        if (err instanceof CsvTableError) throw new CliError(`--csv ${opts.csv}: ${err.message}`);
        throw err;
      }
      const out = opts.out ? createWriteStream(opts.out) : process.stdout;
      const write = (s: string) =>
        out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r()));
      await write(`${csvCell(table.timeColumn)},score,anomaly,detectors,explanation\n`);
      const progress = progressBar(opts.progress || process.stderr.isTTY === true);
      let r = 0;
      let anomalies = 0;
      for (const row of backtest(table, {
        ...(config ? { config } : {}),
        ...(threshold !== undefined ? { threshold } : {}),
        ...(trainRows !== undefined ? { trainRows } : {}),
        onProgress: progress,
      })) {
        if (row.anomaly) anomalies++;
        await write(
          `${csvCell(table.timeText[r]!)},${row.score.toFixed(6)},${row.anomaly ? 1 : 0},${csvCell(row.fired.join(' '))},${csvCell(row.explanation)}\n`,
        );
        r++;
      }
      if (opts.out)
        await new Promise<void>((resolve, reject) =>
          (out as ReturnType<typeof createWriteStream>).end((err?: Error | null) =>
            err ? reject(err) : resolve(),
          ),
        );
      process.stderr.write(
        `${r} rows scored${table.outOfOrder > 0 ? ` (${table.outOfOrder} out of time order, scored as late readings)` : ''}, ${anomalies} anomalies${opts.out ? `, written to ${opts.out}` : ''}\n`,
      );
    });
}
