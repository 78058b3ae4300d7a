import { writeFileSync } from 'node:fs';
import { renderConfigDocs } from '../src/config/config-docs.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigDocs());
console.log('wrote docs/configuration.md');
