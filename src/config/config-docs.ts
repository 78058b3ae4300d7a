import { ENV_VARS, type EnvVarSpec } from './env.spec.js';

/** Renders docs/configuration.md from the variable table (`npm run docs:config`). */
export function renderConfigDocs(): string {
  const groups = new Map<string, [string, EnvVarSpec][]>();
  for (const [name, spec] of Object.entries(ENV_VARS) as [string, EnvVarSpec][]) {
    const list = groups.get(spec.group) ?? [];
    list.push([name, spec]);
    groups.set(spec.group, list);
  }
  const out: string[] = [
    '# Configuration',
    '',
    '<!-- Generated from src/config/env.spec.ts by `npm run docs:config`; edit that file, not this one. -->',
    '',
    'Vigil reads every setting from the environment, and from a `.env` file in the working directory',
    'if there is one (real environment variables win). The whole configuration is validated once at',
    'start; if anything is wrong, Vigil exits with status 78 and lists **every** problem, e.g.:',
    '',
    '```',
    '$ PORT=70000 LOG_LEVEL=loud NODE_ENV=production vigil config check',
    'Invalid configuration (4 problems):',
    '  - PORT: must be between 0 and 65535, got 70000',
    '  - LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    '  - SECRET_KEY: is required in production; generate one with `vigil secret generate` (or `openssl rand -base64 32`)',
    '  - ENCRYPTION_KEY: is required in production; generate one with `vigil secret generate` (or `openssl rand -base64 32`)',
    '```',
    '',
    '`vigil config check` prints the effective configuration (passwords in URLs masked, keys shown only',
    'by their key id).',
    '',
    '## Secrets',
    '',
    '- Keys are at least 32 bytes of key material, given as base64/base64url (what `vigil secret',
    '  generate` prints), 64+ hex digits, or otherwise as UTF-8 text. Placeholders (`changeme`,',
    '  `your-secret-key…`) and low-variety values are refused.',
    '- **Development/test**: when unset, keys are generated once with a CSPRNG into',
    '  `DATA_DIR/secrets.json` (mode 0600) and reused; the log says so, never the value.',
    '- **Production** (`NODE_ENV=production`): both keys are required.',
    '- **Rotation**: set the new key as `SECRET_KEY` and the old one as `SECRET_KEY_PREVIOUS` (same for',
    '  `ENCRYPTION_KEY`). Tokens and ciphertexts name the key id that made them, so the old key keeps',
    '  verifying/decrypting until everything written with it has expired or been re-encrypted.',
    '',
  ];
  for (const [group, vars] of groups) {
    out.push(`## ${group}`, '', '| Variable | Default | Meaning |', '| --- | --- | --- |');
    for (const [name, spec] of vars) {
      const def = spec.default === undefined ? '—' : spec.default === '' ? '(empty)' : `\`${spec.default}\``;
      out.push(`| \`${name}\` | ${def} | ${spec.doc.replace(/\|/g, '\\|')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
