import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/migrator.js';
import type { JobDefinition } from '../src/jobs/job.js';
import { listRuns } from '../src/jobs/job-runs.repository.js';
import { createScheduler } from '../src/jobs/jobs.js';
import { GATE_TTL_MS, RedisRunGate } from '../src/jobs/run-gate.js';
import { type RunOutcome, Scheduler } from '../src/jobs/scheduler.js';
import { closeServices, createServices, type Services } from '../src/services.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './helpers/databases.js';
import { REDIS_URL, testConfig } from './helpers/env.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function sharedDatabase(dialect: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  const db = await createTestDatabase(dialect);
  cleanups.push(() => db.drop());
  return db;
}

/** One "instance": its own services (own pool / connection) over the shared database. */
async function instance(db: TestDatabase, name: string, env: Record<string, string> = {}): Promise<Services> {
  const services = createServices(
    testConfig({ DATABASE_URL: db.url, INSTANCE_ID: name, ...env }),
    pino({ level: 'silent' }),
  );
  cleanups.push(() => closeServices(services));
  await migrateToLatest(services.database.db);
  return services;
}

function job(overrides: Partial<JobDefinition> & Pick<JobDefinition, 'handler'>): JobDefinition {
  return {
    name: 'test.job',
    description: 'test',
    schedule: '* * * * * *',
    timeoutMs: 5_000,
    retries: 0,
    backoffMs: 1,
    ...overrides,
  };
}

describe.each(DIALECTS)('scheduler on %s', (dialect) => {
  it('records a successful run with its duration and instance', async () => {
    const services = await instance(await sharedDatabase(dialect), 'a');
    const seen: Date[] = [];
    const scheduler = new Scheduler(services).register(
      job({
        handler: async (ctx) => {
          seen.push(ctx.scheduledFor);
        },
      }),
    );
    const outcome = await scheduler.runSlot('test.job', Date.UTC(2026, 0, 1));
    expect(outcome).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(seen).toEqual([new Date(Date.UTC(2026, 0, 1))]);
    const [run] = await listRuns(services.database.db, { job: 'test.job', limit: 10 });
    expect(run).toMatchObject({
      job: 'test.job',
      status: 'succeeded',
      attempts: 1,
      instanceId: 'a',
      error: null,
      scheduledFor: new Date(Date.UTC(2026, 0, 1)),
    });
    expect(run?.durationMs).toBeGreaterThanOrEqual(0);
    expect(run?.finishedAt).toBeInstanceOf(Date);
  });

  it('retries with backoff and records the final failure', async () => {
    const services = await instance(await sharedDatabase(dialect), 'a');
    const attempts: number[] = [];
    const scheduler = new Scheduler(services).register(
      job({
        retries: 2,
        handler: async (ctx) => {
          attempts.push(ctx.attempt);
          throw new Error(`boom ${ctx.attempt}`);
        },
      }),
    );
    expect(await scheduler.runSlot('test.job', 1)).toMatchObject({ status: 'failed', attempts: 3 });
    expect(attempts).toEqual([1, 2, 3]);
    const [run] = await listRuns(services.database.db, { limit: 1 });
    expect(run).toMatchObject({ status: 'failed', attempts: 3, error: 'boom 3' });
  });

  it('succeeds on a retry after a transient failure', async () => {
    const services = await instance(await sharedDatabase(dialect), 'a');
    const scheduler = new Scheduler(services).register(
      job({
        retries: 3,
        handler: async (ctx) => {
          if (ctx.attempt < 2) throw new Error('transient');
        },
      }),
    );
    expect(await scheduler.runSlot('test.job', 1)).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('times out a handler that ignores its signal, and aborts the signal', async () => {
    const services = await instance(await sharedDatabase(dialect), 'a');
    let aborted = false;
    const scheduler = new Scheduler(services).register(
      job({
        timeoutMs: 50,
        handler: (ctx) =>
          new Promise<void>(() => {
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
            });
          }),
      }),
    );
    expect(await scheduler.runSlot('test.job', 1)).toMatchObject({ status: 'timed_out', attempts: 1 });
    expect(aborted).toBe(true);
    const [run] = await listRuns(services.database.db, { limit: 1 });
    expect(run).toMatchObject({ status: 'timed_out', error: 'timed out after 50 ms' });
  });

  it('stops within its grace period even if a handler ignores its signal', async () => {
    const services = await instance(await sharedDatabase(dialect), 'a');
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const scheduler = new Scheduler(services).register(
      job({
        timeoutMs: 10 * 60_000,
        handler: () => {
          started();
          return new Promise<void>(() => {});
        },
      }),
    );
    const outcome = scheduler.runSlot('test.job', 1);
    await running;
    await scheduler.stop(10);
    expect(await outcome).toMatchObject({ status: 'failed', attempts: 1 });
    const [run] = await listRuns(services.database.db, { limit: 1 });
    expect(run).toMatchObject({ status: 'failed', error: 'shutting down' });
  });

  it('marks runs of a dead instance abandoned once their lease expires', async () => {
    const db = await sharedDatabase(dialect);
    const services = await instance(db, 'a');
    await services.database.db
      .insertInto('job_runs')
      .values({
        job: 'test.job',
        scheduled_for: 1,
        instance_id: 'dead',
        status: 'running',
        started_at: 1,
        lease_until: 2,
      })
      .execute();
    const scheduler = createScheduler(services, []);
    await scheduler.start();
    await scheduler.stop();
    const [run] = await listRuns(services.database.db, { limit: 1 });
    expect(run).toMatchObject({ status: 'abandoned', instanceId: 'dead' });
  });

  it('rejects (without an unhandled rejection) when the run cannot be recorded', async () => {
    const db = await sharedDatabase(dialect);
    const services = createServices(testConfig({ DATABASE_URL: db.url }), pino({ level: 'silent' }));
    cleanups.push(() => closeServices(services));
    const scheduler = new Scheduler(services).register(job({ handler: async () => {} }));
    await expect(scheduler.runSlot('test.job', 1)).rejects.toThrow(/job_runs/);
  });

  it('rejects an invalid cron expression at registration', async () => {
    const services = await instance(await sharedDatabase(dialect), 'a');
    expect(() =>
      new Scheduler(services).register(job({ schedule: '61 * * * *', handler: async () => {} })),
    ).toThrow();
  });
});

describe('two instances sharing PostgreSQL', () => {
  it('run each slot exactly once when both try it at the same moment', async () => {
    const db = await sharedDatabase('postgres');
    const calls: string[] = [];
    const make = async (name: string) => {
      const services = await instance(db, name);
      return createScheduler(services, [
        job({
          allowOverlap: true,
          handler: async (ctx) => {
            calls.push(`${name}@${ctx.scheduledFor.getTime()}`);
          },
        }),
      ]);
    };
    const [a, b] = await Promise.all([make('a'), make('b')]);
    const slots = Array.from({ length: 25 }, (_, i) => Date.UTC(2026, 0, 1, 0, 0, i));
    const outcomes = await Promise.all(
      slots.flatMap((slot) => [a.runSlot('test.job', slot), b.runSlot('test.job', slot)]),
    );

    expect(outcomes.filter((o) => o.status === 'succeeded')).toHaveLength(slots.length);
    expect(outcomes.filter((o) => o.status === 'skipped')).toHaveLength(slots.length);
    expect(calls).toHaveLength(slots.length);
    const ranSlots = calls.map((c) => Number(c.split('@')[1])).sort((x, y) => x - y);
    expect(ranSlots).toEqual(slots);
  });

  it('run each cron tick once while both schedulers are running', async () => {
    const db = await sharedDatabase('postgres');
    const calls: number[] = [];
    const attempted: Record<string, Map<number, RunOutcome['status']>> = { a: new Map(), b: new Map() };
    const schedulers = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const services = await instance(db, name);
        return createScheduler(
          services,
          [
            job({
              handler: async (ctx) => {
                calls.push(ctx.scheduledFor.getTime());
              },
            }),
          ],
          { onOutcome: (_job, slot, outcome) => attempted[name]?.set(slot, outcome.status) },
        );
      }),
    );
    await Promise.all(schedulers.map((s) => s.start()));
    // Wait for three recorded ticks (bounded by the test timeout, not asserted on time).
    const services = await instance(db, 'observer');
    let runs = await listRuns(services.database.db, { job: 'test.job', limit: 100 });
    while (runs.filter((r) => r.status !== 'running').length < 3) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      runs = await listRuns(services.database.db, { job: 'test.job', limit: 100 });
    }
    await Promise.all(schedulers.map((s) => s.stop()));
    runs = await listRuns(services.database.db, { job: 'test.job', limit: 100 });

    const slots = runs.map((r) => r.scheduledFor.getTime());
    expect(new Set(slots).size).toBe(slots.length);
    expect([...calls].sort()).toEqual([...slots].sort());
    for (const slot of slots) expect(slot % 1000).toBe(0);
    // Exactly one instance ran each recorded slot; the other skipped it — or, on a loaded machine,
    // had not reached that tick yet (whether a timer fires in time is not what this test is about).
    for (const slot of slots) {
      const statuses = [attempted.a?.get(slot), attempted.b?.get(slot)].filter((s) => s !== undefined);
      expect(statuses.filter((s) => s === 'succeeded')).toHaveLength(1);
      expect(statuses.every((s) => s === 'succeeded' || s === 'skipped')).toBe(true);
    }
    // And the two did compete: some slot was tried by both.
    expect(slots.some((slot) => attempted.a?.has(slot) && attempted.b?.has(slot))).toBe(true);
  });
});

describe('Redis run gate', () => {
  it('lets one caller per slot through and falls back to open when Redis is down', async () => {
    const redis = new Redis(REDIS_URL);
    cleanups.push(() => redis.quit());
    const prefix = `vigil:test:${Date.now()}:`;
    const gateA = new RedisRunGate(redis, 'a', prefix);
    const gateB = new RedisRunGate(redis, 'b', prefix);
    const results = await Promise.all([gateA.tryEnter('j', 1), gateB.tryEnter('j', 1)]);
    expect(results.sort()).toEqual([false, true]);
    expect(await redis.pttl(`${prefix}j:1`)).toBeGreaterThan(20_000);
    expect(await redis.pttl(`${prefix}j:1`)).toBeLessThanOrEqual(GATE_TTL_MS);
    expect(await gateB.tryEnter('j', 2)).toBe(true);

    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    down.on('error', () => {});
    expect(await new RedisRunGate(down, 'c').tryEnter('j', 1)).toBe(true);
    down.disconnect();
  });

  it('gates scheduler runs across instances configured with REDIS_URL', async () => {
    const db = await sharedDatabase('sqlite');
    const env = { REDIS_URL };
    const a = await instance(db, 'ra', env);
    const b = await instance(db, 'rb', env);
    const calls: string[] = [];
    const def = job({ name: `test.redis.${Date.now()}`, allowOverlap: true, handler: async () => {} });
    const sa = createScheduler(a, [{ ...def, handler: async () => void calls.push('a') }]);
    const sb = createScheduler(b, [{ ...def, handler: async () => void calls.push('b') }]);
    const outcomes = await Promise.all([sa.runSlot(def.name, 5000), sb.runSlot(def.name, 5000)]);
    expect(calls).toHaveLength(1);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['skipped', 'succeeded']);
    // The loser was turned away by the Redis gate (owner recorded there), not only by the database.
    const redis = new Redis(REDIS_URL);
    cleanups.push(() => redis.quit());
    expect(await redis.get(`vigil:job:${def.name}:5000`)).toBe(calls[0] === 'a' ? 'ra' : 'rb');
    expect(outcomes.find((o) => o.status === 'skipped')).toEqual({
      status: 'skipped',
      reason: 'claimed-elsewhere',
    });
  });
});
