import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backtest } from '../src/detection/backtest/backtest.js';
import { readCsvTable, splitCsvLine } from '../src/detection/backtest/csv-table.js';
import { tempDir } from './helpers/env.js';

/** A NAB file (MIT licence, test/fixtures/nab/LICENSE.txt): traffic speed with labelled anomalies. */
const FIXTURE = 'test/fixtures/nab/windowedGaussian_speed_7578.csv';

function vigil(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'backtest', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function rows(csv: string): string[][] {
  return csv
    .trim()
    .split('\n')
    .map((l) => splitCsvLine(l));
}

describe('vigil backtest', () => {
  it('scores a NAB file online with the production code: one row out per row in, history rows never flagged', () => {
    const out = path.join(tempDir(), 'scores.csv');
    const r = vigil([
      '--csv',
      FIXTURE,
      '--columns',
      'value',
      '--train-rows',
      '200',
      '--out',
      out,
      '--progress',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('100%');
    const input = readFileSync(FIXTURE, 'utf8');
    const table = readCsvTable(input, { columns: ['value'] });
    const got = rows(readFileSync(out, 'utf8'));
    expect(got[0]).toEqual(['timestamp', 'score', 'anomaly', 'detectors', 'explanation']);
    expect(got.length - 1).toBe(table.ts.length);
    expect(
      got.slice(1, 201).every((row) => row[1] === '0.000000' && row[2] === '0' && row[4] === 'training'),
    ).toBe(true);
    // The same scores as the library called in process (the CLI adds nothing of its own).
    const direct = [...backtest(table, { trainRows: 200 })];
    expect(got.slice(1).map((row) => row[1])).toEqual(direct.map((d) => d.score.toFixed(6)));
    expect(got.slice(1).map((row) => row[0])).toEqual(table.timeText);
    const flagged = got.slice(1).filter((row) => row[2] === '1');
    expect(flagged.length).toBeGreaterThan(0);
    for (const row of flagged) {
      expect(Number(row[1])).toBeGreaterThanOrEqual(0.7);
      expect(row[3]!.length).toBeGreaterThan(0);
      expect(row[4]).toContain('"observed"');
    }
    expect(r.stderr).toContain(`${table.ts.length} rows scored, ${flagged.length} anomalies`);
  });

  it('several columns are one asset: per-column detectors, asset rules from --config, --threshold', () => {
    const dir = tempDir();
    const csv = path.join(dir, 'pump.csv');
    const lines = ['time,pressure,flow'];
    for (let i = 0; i < 300; i++) {
      const t = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
      const pressure = i >= 250 && i < 260 ? 0.5 : 3 + 0.05 * Math.sin(i / 5);
      const flow = i >= 255 && i < 270 ? 0.1 : 2 + 0.05 * Math.cos(i / 7);
      lines.push(`${t},${pressure.toFixed(4)},${i === 100 ? '' : flow.toFixed(4)}`);
    }
    writeFileSync(csv, `${lines.join('\n')}\n`);
    const config = path.join(dir, 'detectors.json');
    writeFileSync(
      config,
      JSON.stringify({
        assetRules: [
          {
            id: 'dry-run',
            op: 'and',
            conditions: [
              { sensor: 'pressure', when: 'below', value: 1 },
              { sensor: 'flow', when: 'below', value: 0.5 },
            ],
          },
        ],
      }),
    );
    const r = vigil(['--csv', csv, '--config', config]);
    expect(r.code, r.stderr).toBe(0);
    const got = rows(r.stdout);
    expect(got.length).toBe(301);
    const at = (i: number) => got[i + 1]!;
    expect(at(254)[3]).not.toContain('asset-rule');
    expect(at(255)[3]).toContain('asset-rule(dry-run)');
    expect(at(255)[4]).toContain('asset-rule(dry-run) raised');
    expect(at(260)[4]).toContain('asset-rule(dry-run) cleared');
    // Per-column detectors are named by column.
    expect(at(250)[3]).toMatch(/pressure:/);
    // A missing cell is no reading, not a zero.
    expect(at(100)[3]).not.toMatch(/flow:/);

    const strict = rows(vigil(['--csv', csv, '--config', config, '--threshold', '1']).stdout);
    const loose = rows(vigil(['--csv', csv, '--config', config, '--threshold', '0.3']).stdout);
    const count = (xs: string[][]) => xs.slice(1).filter((x) => x[2] === '1').length;
    expect(count(loose)).toBeGreaterThan(count(strict));
  });

  it('refuses bad input with a clear message and exit 1', () => {
    const dir = tempDir();
    expect(vigil(['--csv', path.join(dir, 'missing.csv')])).toMatchObject({ code: 1 });
    expect(vigil(['--csv', FIXTURE, '--columns', 'nope']).stderr).toContain('no column "nope"');
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ rules: [{ id: 'r', when: 'below', value: 2, clear: 1 }] }));
    const r = vigil(['--csv', FIXTURE, '--columns', 'value', '--config', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/rules/0/clear');
    writeFileSync(bad, JSON.stringify({ ewma: { alpha: 7 } }));
    expect(vigil(['--csv', FIXTURE, '--columns', 'value', '--config', bad]).stderr).toContain('/ewma/alpha');
    expect(vigil(['--csv', FIXTURE, '--threshold', '2']).stderr).toContain('--threshold');
    const backwards = path.join(dir, 'backwards.csv');
    writeFileSync(backwards, 'ts,v\n2,1\nnope,1\n');
    expect(vigil(['--csv', backwards]).stderr).toContain('line 3: "nope" is not a time');
  });
});
