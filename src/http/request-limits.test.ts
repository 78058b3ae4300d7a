import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerErrorHandling } from './errors/error-handler.js';
import { jsonDepthExceeded, loadSheddingPlugin } from './request-limits.js';

describe('jsonDepthExceeded', () => {
  it('finds where nesting passes the limit, ignoring brackets in strings and escaped quotes', () => {
    expect(jsonDepthExceeded('{"a":[1,{"b":2}]}', 3)).toBe(-1);
    expect(jsonDepthExceeded('{"a":[1,{"b":2}]}', 2)).toBe(8);
    expect(jsonDepthExceeded('["[[[[[[", "\\"[[[["]', 1)).toBe(-1);
    expect(jsonDepthExceeded('['.repeat(1_000_000), 32)).toBe(32);
  });
});

describe('load shedding by memory and event-loop delay', () => {
  const app = async (pressure: { heap: number; delay: number }) => {
    const a = Fastify();
    registerErrorHandling(a, { exposeStacks: false });
    await a.register(loadSheddingPlugin, {
      maxUrlBytes: 8192,
      limits: { maxInFlight: 0, maxHeapUsedBytes: 1000, maxEventLoopDelayMs: 200 },
      pressure: { heapUsedBytes: () => pressure.heap, eventLoopDelayMs: () => pressure.delay },
    });
    a.get('/work', async () => ({ ok: true }));
    a.get('/healthz', { config: { rateLimit: false } }, async () => ({ ok: true }));
    return a;
  };

  it('sheds past either bound with 503 naming the cause, never the probes, and serves again once it eases', async () => {
    const p = { heap: 10, delay: 5 };
    const a = await app(p);
    expect((await a.inject('/work')).statusCode).toBe(200);
    p.heap = 5000;
    const mem = await a.inject('/work');
    expect(mem.statusCode).toBe(503);
    expect(mem.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', overload: 'memory' });
    expect((await a.inject('/healthz')).statusCode).toBe(200);
    p.heap = 10;
    p.delay = 500;
    expect((await a.inject('/work')).json()).toMatchObject({ overload: 'event-loop delay' });
    p.delay = 5;
    expect((await a.inject('/work')).statusCode).toBe(200);
    await a.close();
  });
});
