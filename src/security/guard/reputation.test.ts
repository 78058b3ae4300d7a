import { describe, expect, it } from 'vitest';
import { ReputationCache } from './reputation.js';

describe('ReputationCache', () => {
  it('never asks about local addresses, remembers failures briefly, and reports them', async () => {
    const asked: string[] = [];
    const errors: string[] = [];
    const cache = new ReputationCache(
      {
        lookup: async (ip) => {
          asked.push(ip);
          if (ip === '203.0.113.66') throw new Error('service down');
          return 0.4;
        },
      },
      60_000,
      (err) => errors.push(err.message),
    );
    for (const ip of ['127.0.0.1', '10.1.2.3', '192.168.0.9', '::1']) expect(cache.risk(ip)).toBe(0);
    expect(cache.risk('203.0.113.5')).toBe(0);
    await cache.settled('203.0.113.5');
    expect(cache.risk('203.0.113.5')).toBe(0.4);
    cache.risk('203.0.113.66');
    await cache.settled('203.0.113.66');
    expect(cache.risk('203.0.113.66')).toBe(0);
    expect(asked).toEqual(['203.0.113.5', '203.0.113.66']);
    expect(errors).toEqual(['service down']);
  });
});
