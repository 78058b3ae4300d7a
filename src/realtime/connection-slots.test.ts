import { describe, expect, it } from 'vitest';
import { MemorySlots } from './connection-slots.js';

describe('MemorySlots', () => {
  it('holds at most max slots per key, a connection once, and frees them on release', async () => {
    const slots = new MemorySlots();
    expect(await slots.take('u1', 'c1', 2)).toBe(true);
    expect(await slots.take('u1', 'c1', 2)).toBe(true); // the same connection again
    expect(await slots.take('u1', 'c2', 2)).toBe(true);
    expect(await slots.take('u1', 'c3', 2)).toBe(false);
    expect(await slots.take('u2', 'c4', 2)).toBe(true);
    slots.release('u1', 'c1');
    slots.release('u1', 'c1');
    expect(await slots.take('u1', 'c3', 2)).toBe(true);
    expect(await slots.take('u1', 'c5', 2)).toBe(false);
  });
});
