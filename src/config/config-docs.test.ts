import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigDocs } from './config-docs.js';
import { ENV_VARS } from './env.spec.js';

describe('docs/configuration.md', () => {
  it('is up to date with src/config/env.spec.ts (run `npm run docs:config`)', () => {
    const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderConfigDocs());
  });

  it('documents every variable', () => {
    const text = renderConfigDocs();
    for (const name of Object.keys(ENV_VARS)) expect(text).toContain(`| \`${name}\` |`);
  });
});
