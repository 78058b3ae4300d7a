import { describe, expect, it } from 'vitest';
import { RecentIndex } from './recent-index.js';

describe('RecentIndex', () => {
  it('answers above the floor taken from the watermark when it first meets a series', () => {
    const watermarks = new Map([[1, 1000]]);
    const index = new RecentIndex((s) => watermarks.get(s)!);
    expect(index.covers(1, 1000)).toBe(false);
    expect(index.covers(1, 1001)).toBe(true);
    watermarks.set(1, 1003);
    index.addCommitted([1, 1, 1], [999, 1001, 1003]);
    expect(index.has(1, 1001)).toBe(true);
    expect(index.has(1, 1003)).toBe(true);
    expect(index.has(1, 1002)).toBe(false);
    // At or below the floor the index knows nothing, even of what was added.
    expect(index.covers(1, 999)).toBe(false);
    expect(index.has(1, 999)).toBe(false);
  });

  it('trims a series that grows past its bound by raising its floor to the watermark', () => {
    const watermarks = new Map([
      [1, 0],
      [2, 0],
    ]);
    const index = new RecentIndex((s) => watermarks.get(s)!, { perSeries: 3, total: 100 });
    index.covers(1, 1);
    watermarks.set(1, 4);
    index.addCommitted([1, 1, 1, 1], [1, 2, 3, 4]);
    // Four passed the bound of three: everything committed so far is now below the floor.
    expect(index.covers(1, 4)).toBe(false);
    expect(index.covers(1, 5)).toBe(true);
    expect(index.has(1, 5)).toBe(false);
  });

  it('trims every series once the total passes its bound', () => {
    const watermarks = new Map([
      [1, 0],
      [2, 0],
    ]);
    const index = new RecentIndex((s) => watermarks.get(s)!, { perSeries: 100, total: 3 });
    index.covers(1, 1);
    index.covers(2, 1);
    watermarks.set(1, 2);
    watermarks.set(2, 2);
    index.addCommitted([1, 1, 2, 2], [1, 2, 1, 2]);
    expect(index.covers(1, 2)).toBe(false);
    expect(index.covers(2, 2)).toBe(false);
    expect(index.covers(2, 3)).toBe(true);
  });
});
