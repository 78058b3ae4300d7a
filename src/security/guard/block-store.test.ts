import { describe, expect, it } from 'vitest';
import { ESCALATION_MS, MemoryBlockStore } from './block-store.js';

describe('MemoryBlockStore', () => {
  it('escalates 1 min → 10 min → 1 h → 24 h within a day, and blocks expire', async () => {
    const store = new MemoryBlockStore();
    const now = Date.now();
    const lengths = [];
    for (let i = 0; i < 5; i++) lengths.push((await store.block('203.0.113.9', 'sqli', now)).until - now);
    expect(lengths).toEqual([...ESCALATION_MS, ESCALATION_MS[3]]);
    // A block that ended is gone.
    await store.block('203.0.113.10', 'xss', now - 2 * ESCALATION_MS[0]);
    expect(await store.get('203.0.113.10')).toBeNull();
    expect((await store.list(now)).map((b) => b.ip)).toEqual(['203.0.113.9']);
    // A day later the count starts again.
    expect((await store.block('203.0.113.9', 'sqli', now + 86_400_001)).offense).toBe(1);
  });
});
