import { describe, expect, it } from 'vitest';
import { alignSeries } from './backtest-plan.js';

const f = (...v: number[]) => Float64Array.from(v);

describe('alignSeries', () => {
  it('puts several series on their common timeline, NaN where one has no reading', () => {
    const t = alignSeries([
      { name: 'a', ts: f(1, 3, 5), values: f(10, 30, 50) },
      { name: 'b', ts: f(2, 3, 6), values: f(20, 31, 60) },
      { name: 'c', ts: f(), values: f() },
    ]);
    expect([...t.ts]).toEqual([1, 2, 3, 5, 6]);
    expect(t.columns.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    expect([...t.columns[0]!.values]).toEqual([10, Number.NaN, 30, 50, Number.NaN]);
    expect([...t.columns[1]!.values]).toEqual([Number.NaN, 20, 31, Number.NaN, 60]);
    expect(t.columns[2]!.values.every(Number.isNaN)).toBe(true);
  });

  it('is empty without readings', () => {
    expect(alignSeries([{ name: 'a', ts: f(), values: f() }]).ts.length).toBe(0);
  });
});
