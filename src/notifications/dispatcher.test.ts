import { describe, expect, it } from 'vitest';
import { backoffMs } from './dispatcher.js';

describe('delivery backoff', () => {
  it('doubles from 2 s to a 1 h cap, with ±50 % jitter', () => {
    const mid = (n: number) => backoffMs(n, () => 0.5);
    expect([1, 2, 3, 4].map(mid)).toEqual([2000, 4000, 8000, 16000]);
    expect(mid(30)).toBe(3_600_000);
    expect(backoffMs(3, () => 0)).toBe(4000);
    expect(backoffMs(3, () => 0.999999)).toBeCloseTo(12000, -1);
  });
});
