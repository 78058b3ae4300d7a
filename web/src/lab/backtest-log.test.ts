import { describe, expect, it } from 'vitest';
import { describeExplanation, describeProgress, type LogLine, logLineOf, mergeLog } from './backtest-log';

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
