import type { Command } from 'commander';
import { generateKey } from '../security/crypto.js';

export function registerSecret(program: Command): void {
  program
    .command('secret')
    .description('Key management')
    .command('generate')
    .description('Print a fresh random key (32 bytes, base64url) for SECRET_KEY or ENCRYPTION_KEY')
    .action(() => {
      console.log(generateKey());
    });
}
