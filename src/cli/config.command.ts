import type { Command } from 'commander';
import { loadCliConfig } from './context.js';

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('Configuration')
    .command('check')
    .description('Validate the environment and print the effective settings (secrets shown only by key id)')
    .action(() => {
      const { config } = loadCliConfig();
      const { secrets, database, ...rest } = config;
      const summary = {
        ...rest,
        database: database.dialect === 'postgres' ? { ...database, url: redactUrl(database.url) } : database,
        redisUrl: rest.redisUrl && redactUrl(rest.redisUrl),
        mqttUrl: rest.mqttUrl && redactUrl(rest.mqttUrl),
        mqtt: {
          ...rest.mqtt,
          broker: { ...rest.mqtt.broker, password: rest.mqtt.broker.password && '***' },
        },
        secrets: {
          secretKey: secrets.secretKey.id,
          secretKeyPrevious: secrets.secretKeyPrevious.map((k) => k.id),
          encryptionKey: secrets.encryptionKey.id,
          encryptionKeyPrevious: secrets.encryptionKeyPrevious.map((k) => k.id),
        },
      };
      console.log(JSON.stringify(summary, null, 2));
    });
}

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.href;
}
