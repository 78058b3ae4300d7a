import { statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Config } from '../config/config.js';

export interface LoopDelay {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** How long the figures were measured over. */
  readonly windowS: number;
}

const ms = (ns: number) => Math.round(ns / 1e4) / 100;

/**
 * Event-loop delay over windows (perf_hooks' histogram): `take()` returns the figures since the
 * previous take and starts a new window.
 */
export class LoopDelayWindow {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private since: number;

  constructor(private readonly clock: () => number = Date.now) {
    this.histogram.enable();
    this.since = clock();
  }

  take(): LoopDelay {
    const h = this.histogram;
    const now = this.clock();
    const out =
      h.count > 0
        ? { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) }
        : { p50Ms: 0, p99Ms: 0, maxMs: 0 };
    const windowS = Math.round((now - this.since) / 100) / 10;
    h.reset();
    this.since = now;
    return { ...out, windowS };
  }

  close(): void {
    this.histogram.disable();
  }
}

/** CPU use of this process between calls, as a percentage of one core. */
export class CpuMeter {
  private last = process.cpuUsage();
  private lastAt = performance.now();

  percent(): number {
    const now = performance.now();
    const used = process.cpuUsage(this.last);
    const elapsedUs = (now - this.lastAt) * 1000;
    this.last = process.cpuUsage();
    this.lastAt = now;
    return elapsedUs <= 0 ? 0 : Math.round((1000 * (used.user + used.system)) / elapsedUs) / 10;
  }
}

export function memoryStats() {
  const m = process.memoryUsage();
  return {
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    heapTotalBytes: m.heapTotal,
    heapLimitBytes: getHeapStatistics().heap_size_limit,
    externalBytes: m.external,
    systemFreeBytes: os.freemem(),
    systemTotalBytes: os.totalmem(),
  };
}

export function systemLoad() {
  const [l1, l5, l15] = os.loadavg();
  return { cores: os.availableParallelism(), loadAvg: { m1: l1 ?? 0, m5: l5 ?? 0, m15: l15 ?? 0 } };
}

/**
 * The directory whose filesystem matters for disk space: the SQLite database file's (normally
 * DATA_DIR). Undefined on PostgreSQL (the database server's disk is not this process's to see)
 * and for an in-memory database.
 */
export function dataDirectory(config: Config): string | undefined {
  const db = config.database;
  if (db.dialect !== 'sqlite' || db.path === ':memory:') return undefined;
  return path.dirname(db.path);
}

export interface DiskStats {
  readonly path: string;
  readonly totalBytes: number;
  readonly freeBytes: number;
  readonly usedPercent: number;
  readonly freePercent: number;
}

/** Space of the filesystem holding `dir` (free = available to this unprivileged process). */
export async function diskStats(dir: string): Promise<DiskStats> {
  const s = await statfs(dir);
  const totalBytes = s.blocks * s.bsize;
  const freeBytes = s.bavail * s.bsize;
  const freePercent = totalBytes === 0 ? 100 : (100 * freeBytes) / totalBytes;
  return {
    path: dir,
    totalBytes,
    freeBytes,
    usedPercent: Math.round((100 - freePercent) * 10) / 10,
    freePercent: Math.round(freePercent * 10) / 10,
  };
}
