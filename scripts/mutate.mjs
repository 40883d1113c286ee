/**
 * Mutation testing on demand (never in CI):
 *   npm run mutate                      every scope of stryker/scopes.mjs, one after another
 *   npm run mutate -- io optim          only these scopes
 *   npm run mutate -- io --incremental  extra flags go to Stryker (here: reuse the last run's results)
 * Each scope runs StrykerJS with stryker/stryker.config.mjs and MUTATE_SCOPE set; reports land in
 * reports/mutation/<scope>.html and .json. STRYKER_CONCURRENCY sets the workers (default 2). At the end the
 * mutation score per source folder is printed as a markdown table (scripts/mutation-scores.mjs), the one the
 * README's Development section shows.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SCOPES } from '../stryker/scopes.mjs';

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const unknown = names.filter((n) => !(n in SCOPES));
if (unknown.length > 0) {
  process.stderr.write(`unknown scope ${unknown.join(', ')}; scopes: ${Object.entries(SCOPES).map(([n, s]) => `\n  ${n.padEnd(13)} ${s.summary}`).join('')}\n`);
  process.exit(2);
}
const root = fileURLToPath(new URL('..', import.meta.url));
const stryker = fileURLToPath(new URL('../node_modules/@stryker-mutator/core/bin/stryker.js', import.meta.url));
let failed = false;
for (const name of names.length > 0 ? names : Object.keys(SCOPES)) {
  process.stderr.write(`\n=== mutation scope ${name}: ${SCOPES[name].summary}\n`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [stryker, 'run', 'stryker/stryker.config.mjs', ...flags], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, MUTATE_SCOPE: name },
  });
  process.stderr.write(`=== ${name}: ${((Date.now() - started) / 60000).toFixed(1)} min, exit ${run.status}\n`);
  if (run.status !== 0) failed = true;
}
spawnSync(process.execPath, [fileURLToPath(new URL('./mutation-scores.mjs', import.meta.url))], { cwd: root, stdio: 'inherit' });
process.exitCode = failed ? 1 : 0;
