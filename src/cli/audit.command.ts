import type { Command } from 'commander';
import { verifyAuditChain } from '../audit/audit.repository.js';
import { closeServices } from '../services.js';
import { openMigratedServices } from './context.js';

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('Audit log')
    .command('verify')
    .description(
      'Check the hash chain of the audit log; exits 1 at the first edited, missing or reordered row',
    )
    .action(async () => {
      const services = await openMigratedServices();
      try {
        const verdict = await verifyAuditChain(services.database.db, services.identity.auditChain);
        if (verdict.ok) {
          console.log(`Audit log intact: ${verdict.rows} row(s) verified.`);
        } else {
          console.error(
            `Audit log TAMPERED: ${verdict.problem} (${verdict.rows} row(s) before it verified).`,
          );
          process.exitCode = 1;
        }
      } finally {
        await closeServices(services);
      }
    });
}
