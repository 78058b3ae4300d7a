import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { DASHBOARDS } from './grafana-dashboards.js';

const dir = new URL('../deploy/grafana/dashboards/', import.meta.url);
const files = Object.entries(DASHBOARDS).map(([name, d]) => {
  const file = new URL(`${name}.json`, dir);
  writeFileSync(file, `${JSON.stringify(d, null, 2)}\n`);
  return file.pathname;
});
// The repository's formatter decides the layout, so `npm run lint` passes on the written files.
execFileSync('npx', ['biome', 'format', '--write', ...files], { stdio: 'inherit' });
console.log(`wrote ${files.length} dashboards`);
