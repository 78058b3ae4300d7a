import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Pressure } from '../http/request-limits.js';

/**
 * Samples the process once a second: event-loop delay (p99 of the last second, from perf_hooks'
 * histogram) and heap in use. Requests read the last sample, so checking costs nothing per request.
 */
export class ProcessPressure implements Pressure {
  private readonly histogram = monitorEventLoopDelay({ resolution: 20 });
  private readonly timer: NodeJS.Timeout;
  private delayMs = 0;
  private heapUsed = 0;
  readonly heapLimitBytes = getHeapStatistics().heap_size_limit;

  constructor() {
    this.histogram.enable();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
    this.sample();
  }

  eventLoopDelayMs(): number {
    return this.delayMs;
  }

  heapUsedBytes(): number {
    return this.heapUsed;
  }

  close(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  private sample(): void {
    this.delayMs = this.histogram.count > 0 ? this.histogram.percentile(99) / 1e6 : 0;
    this.histogram.reset();
    this.heapUsed = process.memoryUsage().heapUsed;
  }
}
