import type { Command } from 'commander';
import { checkpointPresent, verifyAuditChain } from '../audit/audit.repository.js';
import { closeServices } from '../services.js';
import { CliError, openMigratedServices } from './context.js';

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('Audit log')
    .command('verify')
    .description(
      'Check the hash chain of the audit log; exits 1 at the first edited, missing or reordered row',
    )
    .option(
      '--checkpoint <seq:hash>',
      'a head recorded earlier (from this command or the audit.checkpoint job log); fails if rows were cut off the end since',
    )
    .action(async (opts: { checkpoint?: string }) => {
      const checkpoint = opts.checkpoint ? parseCheckpoint(opts.checkpoint) : undefined;
      const services = await openMigratedServices();
      try {
        const { db } = services.database;
        const verdict = await verifyAuditChain(db, services.identity.auditChain);
        if (!verdict.ok) {
          console.error(
            `Audit log TAMPERED: ${verdict.problem} (${verdict.rows} row(s) before it verified).`,
          );
          process.exitCode = 1;
          return;
        }
        if (checkpoint && !(await checkpointPresent(db, checkpoint))) {
          console.error(
            `Audit log TAMPERED: checkpoint row ${checkpoint.seq} is gone or differs (rows were removed or rewritten).`,
          );
          process.exitCode = 1;
          return;
        }
        console.log(`Audit log intact: ${verdict.rows} row(s) verified.`);
        if (verdict.head) console.log(`Head: ${verdict.head.seq}:${verdict.head.hash}`);
      } finally {
        await closeServices(services);
      }
    });
}

function parseCheckpoint(text: string): { seq: number; hash: string } {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(text);
  if (!match) throw new CliError('--checkpoint must look like 42:<64 hex digits>, as printed after "Head:"');
  return { seq: Number(match[1]), hash: match[2]! };
}
