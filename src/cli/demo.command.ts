import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { startDemo } from '../demo/demo.js';
import { CliError, loadCliConfig } from './context.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run Vigil on its embedded default with a simulated water network streaming live readings')
    .option('--history-hours <n>', 'hours of history to send at start (one reading a minute)', '24')
    .option('--interval-s <n>', 'seconds between live readings of each sensor', '5')
    .action(async (opts: { historyHours: string; intervalS: string }) => {
      const historyHours = Number(opts.historyHours);
      const intervalS = Number(opts.intervalS);
      if (!Number.isFinite(historyHours) || historyHours < 0 || historyHours > 24 * 30) {
        throw new CliError('--history-hours must be between 0 and 720');
      }
      if (!Number.isFinite(intervalS) || intervalS < 1 || intervalS > 3600) {
        throw new CliError('--interval-s must be between 1 and 3600');
      }
      // Unless told otherwise the demo lives in its own directory and starts fresh each time.
      if (!process.env.DATA_DIR && !process.env.DATABASE_URL) {
        const dir = path.resolve('data/demo');
        for (const f of ['vigil.db', 'vigil.db-wal', 'vigil.db-shm']) {
          if (existsSync(path.join(dir, f))) rmSync(path.join(dir, f));
        }
        process.env.DATA_DIR = dir;
      }
      // The banner and a line a minute say what matters; request logs would bury them.
      process.env.LOG_LEVEL ??= 'warn';
      const { config, logger } = loadCliConfig();
      let demo: Awaited<ReturnType<typeof startDemo>>;
      try {
        demo = await startDemo(config, logger, { historyHours, intervalMs: intervalS * 1000 });
      } catch (err) {
        throw new CliError(`demo: ${(err as Error).message}`);
      }
      const line = '─'.repeat(64);
      process.stdout.write(
        [
          line,
          ' Vigil demo is running',
          ` API          ${demo.server.url}/api/v1   (docs: ${demo.server.url}/docs)`,
          ` Sign in as   ${demo.owner.email}`,
          ` Password     ${demo.owner.password}   (shown once; this is a fresh random password)`,
          ` Network      Riverside Water: reservoir, 2 pressure zones, pumps, tanks, 14 sensors`,
          ' Events       leak in DMA Old Town (+2 min), pump 2 bearing wear (rising),',
          '              stuck Old Town chlorine analyser (+3 min), town tank logger silent (+5 min)',
          ' Stop with Ctrl-C.',
          line,
          '',
        ].join('\n'),
      );
      const report = setInterval(() => {
        const { accepted, failed } = demo.stats;
        process.stdout.write(
          `${new Date().toISOString()}  ${accepted} readings stored so far${failed ? `, ${failed} requests failed` : ''}\n`,
        );
      }, 60_000);
      const stop = () => {
        clearInterval(report);
        demo.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
