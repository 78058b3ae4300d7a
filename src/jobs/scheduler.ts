import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Services } from '../services.js';
import { type JobDefinition, runLeaseMs } from './job.js';
import {
  abandonExpiredRuns,
  claimRun,
  finishRun,
  hasActiveRun,
  recordAttempt,
} from './job-runs.repository.js';
import { openGate, type RunGate } from './run-gate.js';

export type RunOutcome =
  | { readonly status: 'skipped'; readonly reason: 'claimed-elsewhere' | 'overlap' | 'stopping' }
  | {
      readonly status: 'succeeded' | 'failed' | 'timed_out';
      readonly runId: number;
      readonly attempts: number;
    };

// setTimeout overflows past ~24.8 days; far-off runs are re-planned after this long.
const MAX_TIMER_MS = 60 * 60 * 1000;

class TimeoutError extends Error {}

export interface SchedulerOptions {
  readonly clock?: () => number;
  /** Called with every run's outcome, skipped ones included (metrics, tests). */
  readonly onOutcome?: (job: string, scheduledFor: number, outcome: RunOutcome) => void;
}

/**
 * Runs registered jobs on their cron schedules. Every instance may run a scheduler: each
 * scheduled slot is claimed in the database (and first gated in Redis when configured), so it
 * runs exactly once across the cluster, with its outcome recorded in job_runs.
 */
export class Scheduler {
  private readonly jobs = new Map<string, { job: JobDefinition; cron: Cron; timer?: NodeJS.Timeout }>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly stopController = new AbortController();
  private started = false;
  private readonly log: Logger;
  private readonly clock: () => number;

  constructor(
    private readonly services: Services,
    private readonly gate: RunGate = openGate,
    private readonly options: SchedulerOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.log = services.logger.child({ component: 'scheduler' });
  }

  register(job: JobDefinition): this {
    if (this.jobs.has(job.name)) throw new Error(`job ${job.name} is already registered`);
    if (job.timeoutMs <= 0 || job.retries < 0 || job.backoffMs < 0)
      throw new Error(`job ${job.name}: bad retry policy`);
    // Throws on an invalid expression: a typo fails at start, not silently never runs.
    const cron = new Cron(job.schedule, { timezone: 'UTC', paused: true });
    this.jobs.set(job.name, { job, cron });
    return this;
  }

  list(): JobDefinition[] {
    return [...this.jobs.values()].map((e) => e.job);
  }

  /** Next scheduled slot of a job after `from`. */
  nextSlot(name: string, from = new Date(this.clock())): Date | null {
    return this.entry(name).cron.nextRun(from);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const abandoned = await abandonExpiredRuns(this.services.database.db, this.clock()).catch(
      (err: Error) => {
        this.log.warn({ err: err.message }, 'could not sweep abandoned job runs');
        return 0;
      },
    );
    if (abandoned > 0) this.log.warn({ abandoned }, 'marked job runs of stopped instances as abandoned');
    for (const name of this.jobs.keys()) this.plan(name, new Date(this.clock()));
    this.log.info({ jobs: [...this.jobs.keys()] }, 'scheduler started');
  }

  /** Stops planning new runs, aborts running ones' signals after `graceMs`, and waits for them. */
  async stop(graceMs = 10_000): Promise<void> {
    for (const entry of this.jobs.values()) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = undefined;
    }
    this.started = false;
    if (this.inFlight.size === 0) return;
    const grace = setTimeout(() => this.stopController.abort(new Error('shutting down')), graceMs);
    await Promise.allSettled([...this.inFlight]);
    clearTimeout(grace);
  }

  /** Runs a job now, outside its schedule (the CLI's `jobs run`); still claimed and recorded. */
  runNow(name: string): Promise<RunOutcome> {
    return this.runSlot(name, this.clock());
  }

  /**
   * Claims and executes the run of `name` for the slot `scheduledFor` (epoch ms). Safe to call
   * from any number of instances at once: one executes, the rest return `claimed-elsewhere`.
   */
  runSlot(name: string, scheduledFor: number): Promise<RunOutcome> {
    const promise = this.execute(this.entry(name).job, scheduledFor);
    this.inFlight.add(promise);
    // Not `finally`: that derives a second promise which would reject unhandled.
    promise.then(
      (outcome) => {
        this.inFlight.delete(promise);
        this.options.onOutcome?.(name, scheduledFor, outcome);
      },
      () => void this.inFlight.delete(promise),
    );
    return promise;
  }

  private entry(name: string) {
    const entry = this.jobs.get(name);
    if (!entry) throw new Error(`unknown job ${name}`);
    return entry;
  }

  private plan(name: string, after: Date): void {
    const entry = this.entry(name);
    const next = entry.cron.nextRun(after);
    if (!next || !this.started) return;
    const delay = next.getTime() - this.clock();
    if (delay > MAX_TIMER_MS) {
      entry.timer = setTimeout(() => this.plan(name, after), MAX_TIMER_MS);
    } else {
      entry.timer = setTimeout(
        () => {
          // Plan the following slot first so a slow run never delays the schedule.
          this.plan(name, next);
          this.runSlot(name, next.getTime()).catch((err: Error) =>
            this.log.error({ err, job: name }, 'job run could not be recorded'),
          );
        },
        Math.max(0, delay),
      );
    }
    entry.timer.unref();
  }

  private async execute(job: JobDefinition, scheduledFor: number): Promise<RunOutcome> {
    if (this.stopController.signal.aborted) return { status: 'skipped', reason: 'stopping' };
    const { db } = this.services.database;
    const lease = runLeaseMs(job);
    if (!(await this.gate.tryEnter(job.name, scheduledFor)))
      return { status: 'skipped', reason: 'claimed-elsewhere' };
    const startedAt = this.clock();
    if (!job.allowOverlap && (await hasActiveRun(db, job.name, startedAt)))
      return { status: 'skipped', reason: 'overlap' };
    const runId = await claimRun(db, {
      job: job.name,
      scheduledFor,
      instanceId: this.services.config.instanceId,
      now: startedAt,
      leaseUntil: startedAt + lease,
    });
    if (runId === undefined) return { status: 'skipped', reason: 'claimed-elsewhere' };

    const log = this.log.child({ job: job.name, runId });
    let attempt = 0;
    let status: 'succeeded' | 'failed' | 'timed_out' = 'failed';
    let error: string | null = null;
    while (attempt <= job.retries) {
      attempt++;
      await recordAttempt(db, runId, attempt);
      try {
        await this.attempt(job, { attempt, scheduledFor, log });
        status = 'succeeded';
        error = null;
        break;
      } catch (err) {
        status = err instanceof TimeoutError ? 'timed_out' : 'failed';
        error = err instanceof Error ? err.message : String(err);
        log.warn({ attempt, err: error }, 'job attempt failed');
        if (attempt > job.retries || this.stopController.signal.aborted) break;
        await sleep(job.backoffMs * 2 ** (attempt - 1), this.stopController.signal);
      }
    }
    const finishedAt = this.clock();
    await finishRun(db, runId, { status, finishedAt, durationMs: finishedAt - startedAt, error });
    log[status === 'succeeded' ? 'info' : 'error'](
      { status, attempts: attempt, durationMs: finishedAt - startedAt },
      'job run finished',
    );
    return { status, runId, attempts: attempt };
  }

  private async attempt(
    job: JobDefinition,
    ctx: { attempt: number; scheduledFor: number; log: Logger },
  ): Promise<void> {
    const controller = new AbortController();
    const onStop = () => controller.abort(this.stopController.signal.reason);
    this.stopController.signal.addEventListener('abort', onStop, { once: true });
    let timer: NodeJS.Timeout | undefined;
    // Settles on timeout and on shutdown alike, so neither waits for a handler that ignores its signal.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => controller.abort(new TimeoutError(`timed out after ${job.timeoutMs} ms`)),
        job.timeoutMs,
      );
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    try {
      // Racing the timeout means a handler that ignores its signal still cannot hold the run open.
      await Promise.race([
        job.handler({
          signal: controller.signal,
          attempt: ctx.attempt,
          scheduledFor: new Date(ctx.scheduledFor),
          log: ctx.log,
          services: this.services,
        }),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
      this.stopController.signal.removeEventListener('abort', onStop);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
