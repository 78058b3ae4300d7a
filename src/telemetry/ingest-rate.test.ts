import { describe, expect, it } from 'vitest';
import { IngestRate, RATE_HISTORY_S } from './ingest-rate.js';

describe('IngestRate (one instance)', () => {
  it('counts whole seconds that have ended, per tenant, within the window', async () => {
    let now = 1_000_000_000_500;
    const rate = new IngestRate(() => now);
    rate.add('a', 10);
    rate.add('a', 5);
    rate.add('b', 7);
    // The second they arrived in has not ended: nothing yet.
    expect(await rate.rate('a', 60)).toEqual({ readings: 0, perSecond: 0, shared: false });
    now += 1000;
    rate.add('a', 100); // the new second, still filling
    expect(await rate.rate('a', 60)).toEqual({ readings: 15, perSecond: 0.25, shared: false });
    expect((await rate.rate('b', 1)).readings).toBe(7);
    now += 1000;
    expect((await rate.rate('a', 1)).readings).toBe(100);
    expect((await rate.rate('a', 2)).readings).toBe(115);
    expect((await rate.rate('nobody', 60)).readings).toBe(0);
  });

  it('forgets seconds older than its history, reusing their slots', async () => {
    let now = 5_000_000;
    const rate = new IngestRate(() => now);
    rate.add('a', 3);
    now += RATE_HISTORY_S * 1000; // the same slot, a full turn later
    rate.add('a', 4);
    now += 1000;
    expect((await rate.rate('a', RATE_HISTORY_S - 1)).readings).toBe(4);
    rate.add('a', 0);
    rate.add('a', -2);
    expect((await rate.rate('a', RATE_HISTORY_S - 1)).readings).toBe(4);
  });
});
