import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { isRole, ROLES } from '../auth/permissions.js';
import { closeServices } from '../services.js';
import { findTenant } from '../tenants/tenants.repository.js';
import { findUserRecordByEmail } from '../users/users.repository.js';
import { createTenant, createUserInTenant, SLUG } from '../users/users.service.js';
import { CliError, openMigratedServices } from './context.js';

/** Reads a password from piped stdin, or prompts without echo on a terminal. */
async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const ask = (q: string) =>
    new Promise<string>((resolve) => {
      process.stdout.write(q);
      // Mute echo: readline writes typed characters through _writeToOutput.
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
      rl.question('', (answer) => {
        process.stdout.write('\n');
        resolve(answer);
      });
    });
  const first = await ask('Password: ');
  const second = await ask('Repeat password: ');
  rl.close();
  if (first !== second) throw new CliError('The passwords differ');
  return first;
}

export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('Administration from the server console');

  admin
    .command('create-user')
    .description('Create a user in a tenant (the tenant is created if it does not exist)')
    .requiredOption('--email <email>', 'login email')
    .requiredOption('--tenant <slug>', 'tenant slug (created if missing)')
    .option('--tenant-name <name>', 'display name for a new tenant')
    .option('--role <role>', `one of ${ROLES.join(', ')}`, 'owner')
    .option('--platform-admin', 'operator of the whole installation')
    .option('--display-name <name>', 'shown in the UI')
    .option('--password-stdin', 'read the password from standard input instead of prompting')
    .option(
      '--existing',
      'the email already has an account: add it to the tenant (its password stays as it is)',
    )
    .action(
      async (opts: {
        email: string;
        tenant: string;
        tenantName?: string;
        role: string;
        platformAdmin?: boolean;
        displayName?: string;
        passwordStdin?: boolean;
        existing?: boolean;
      }) => {
        if (!isRole(opts.role)) throw new CliError(`--role must be one of ${ROLES.join(', ')}`);
        if (!SLUG.test(opts.tenant))
          throw new CliError('--tenant must be a slug: lowercase letters, digits and dashes');
        if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(opts.email))
          throw new CliError('--email is not an email address');
        const role = opts.role;
        // An existing account keeps its own password; asking for one would suggest it is set.
        const password = opts.existing ? null : await readPassword(opts.passwordStdin === true);
        const services = await openMigratedServices();
        if (opts.existing && !(await findUserRecordByEmail(services.database.db, opts.email))) {
          await closeServices(services);
          throw new CliError(
            `${opts.email} has no account yet; run without --existing to create it with a password`,
          );
        }
        const actor = {
          actorType: 'system' as const,
          actorId: null,
          ip: null,
          userAgent: 'vigil-cli',
          requestId: null,
        };
        try {
          const result = await services.database.db.transaction().execute(async (trx) => {
            const tenant =
              (await findTenant(trx, opts.tenant)) ??
              (await createTenant(
                services,
                trx,
                { slug: opts.tenant, name: opts.tenantName ?? opts.tenant },
                actor,
              ));
            const { user, created } = await createUserInTenant(
              services,
              trx,
              {
                email: opts.email,
                password,
                displayName: opts.displayName,
                tenantId: tenant.id,
                role,
                isPlatformAdmin: opts.platformAdmin === true,
              },
              actor,
              { existing: opts.existing ? 'add-membership' : 'refuse' },
            );
            return { user, created, tenant };
          });
          console.log(
            `${result.created ? 'Created' : 'Added existing'} user ${result.user.email} (${result.user.id}) as ${role} of ${result.tenant.slug}`,
          );
        } catch (err) {
          const e = err as { code?: string; detail?: string; message: string };
          if (e.code === 'CONFLICT' && !opts.existing && e.detail?.endsWith('already has an account')) {
            throw new CliError(
              `${e.detail}; to add that account to ${opts.tenant}, run again with --existing (its password is not changed)`,
            );
          }
          if (e.code && e.detail) throw new CliError(e.detail);
          throw err;
        } finally {
          await closeServices(services);
        }
      },
    );
}
