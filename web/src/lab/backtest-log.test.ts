import { describe, expect, it } from 'vitest';
import {
  applyLabMessage,
  describeExplanation,
  describeProgress,
  LIVE_RUNS_KEPT,
  type LiveRun,
  type LogLine,
  logLineOf,
  mergeLog,
} from './backtest-log';

const line = (seq: number, message = `line ${seq}`): LogLine => ({
  seq,
  at: '2026-11-25T00:00:00.000Z',
  level: 'info',
  message,
});

describe('backtest log', () => {
  it('merges the stored log and the live lines once each, in sequence order', () => {
    const live = mergeLog([], [line(3), line(4)]);
    const merged = mergeLog(live, [line(1), line(2), line(3)]);
    expect(merged.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    expect(mergeLog(merged, [line(2), line(4)])).toBe(merged);
    expect(mergeLog([], [line(5), line(5)]).map((l) => l.seq)).toEqual([5]);
  });

  it('reads a stream payload as a log line, and ignores what is not one', () => {
    expect(logLineOf({ runId: 'r', seq: 2, at: 0, level: 'warn', message: 'Cancelled' })).toEqual({
      seq: 2,
      at: '1970-01-01T00:00:00.000Z',
      level: 'warn',
      message: 'Cancelled',
    });
    expect(logLineOf({ runId: 'r', rowsDone: 4 })).toBeNull();
  });

  it('describes progress', () => {
    expect(describeProgress({ status: 'queued', rowsDone: 0, rowsTotal: 0 })).toBe('Waiting in the queue');
    expect(describeProgress({ status: 'running', rowsDone: 1250, rowsTotal: 5000 })).toBe(
      '1,250 of 5,000 readings (25 %)',
    );
  });
});

describe('describeExplanation', () => {
  it("reads the detectors' JSON as observed and expected, and leaves the rest", () => {
    expect(
      describeExplanation(
        'threshold(vibration-high) raised; {"observed":7.38,"expected":{"low":5.002585,"high":8.795015,"from":"seasonal"},"detectors":[]}',
      ),
    ).toBe('threshold(vibration-high) raised; observed 7.38, expected 5.003–8.795 (seasonal)');
    expect(describeExplanation('a/flow:{"observed":1,"expected":{"low":2,"high":3}}')).toBe(
      'a/flow:observed 1, expected 2–3',
    );
    expect(describeExplanation('{not json')).toBe('{not json');
    expect(describeExplanation('{"score":1}')).toBe('{"score":1}');
  });
});

describe('applyLabMessage', () => {
  const log = (runId: string, seq: number) => ({
    type: 'backtest.log',
    payload: { runId, seq, at: 0, level: 'info', message: `line ${seq}` },
  });
  it("keeps each run's lines, progress and status", () => {
    let runs: ReadonlyMap<string, LiveRun> = new Map();
    runs = applyLabMessage(runs, log('r1', 2));
    runs = applyLabMessage(runs, log('r1', 1));
    runs = applyLabMessage(runs, {
      type: 'backtest.progress',
      payload: { runId: 'r1', rowsDone: 5, rowsTotal: 10 },
    });
    runs = applyLabMessage(runs, { type: 'backtest.status', payload: { runId: 'r1', status: 'succeeded' } });
    expect(runs.get('r1')).toEqual({
      lines: [line(1).seq, line(2).seq].map((seq) => ({
        seq,
        at: '1970-01-01T00:00:00.000Z',
        level: 'info',
        message: `line ${seq}`,
      })),
      progress: { rowsDone: 5, rowsTotal: 10 },
      status: 'succeeded',
    });
    // A message that changes nothing keeps the same map (no re-render).
    expect(applyLabMessage(runs, log('r1', 1))).toBe(runs);
    expect(applyLabMessage(runs, { type: 'backtest.log', payload: { seq: 1 } })).toBe(runs);
  });

  it('keeps the runs heard of most recently', () => {
    let runs: ReadonlyMap<string, LiveRun> = new Map();
    for (let i = 0; i <= LIVE_RUNS_KEPT; i++) runs = applyLabMessage(runs, log(`r${i}`, 1));
    expect(runs.size).toBe(LIVE_RUNS_KEPT);
    expect(runs.has('r0')).toBe(false);
    expect(runs.has(`r${LIVE_RUNS_KEPT}`)).toBe(true);
  });
});
