import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/catalogue.js';
import { ConnectionLimits } from './connection-limits.js';

describe('ConnectionLimits', () => {
  it('admits up to the limit per key, refuses with 429 beyond, and frees a slot on release (once)', () => {
    const limits = new ConnectionLimits(2);
    const a1 = limits.acquire('user:a');
    limits.acquire('user:a');
    limits.acquire('user:b');
    let refused: unknown;
    try {
      limits.acquire('user:a');
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).status).toBe(429);
    expect((refused as AppError).extra.fields).toMatchObject({ limit: 'ws-connections', scope: 'user' });
    a1();
    a1();
    expect(limits.count('user:a')).toBe(1);
    expect(() => limits.acquire('user:a')).not.toThrow();
    expect(() => limits.acquire('user:a')).toThrow(AppError);
  });
});
