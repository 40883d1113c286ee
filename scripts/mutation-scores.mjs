/**
 * The mutation score per source folder from the JSON reports of `npm run mutate`
 * (reports/mutation/<scope>.json), as a markdown table for the README's Development section:
 *   node scripts/mutation-scores.mjs
 * Score = (killed + timed out) / (killed + timed out + survived + no coverage), as Stryker computes it;
 * compile and runtime errors (mutants that cannot run) and ignored mutants are left out.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'reports', 'mutation');
const reports = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.incremental.json')) : [];
if (reports.length === 0) {
  process.stderr.write('no reports in reports/mutation/ yet: run npm run mutate\n');
  process.exit(0);
}
/** folder → counts by status */
const folders = new Map();
let newest = 0;
for (const report of reports) {
  const path = join(dir, report);
  newest = Math.max(newest, statSync(path).mtimeMs);
  const { files } = JSON.parse(readFileSync(path, 'utf8'));
  for (const [file, { mutants }] of Object.entries(files)) {
    const folder = dirname(relative(root, join(root, file)));
    const counts = folders.get(folder) ?? {};
    for (const { status } of mutants) counts[status] = (counts[status] ?? 0) + 1;
    folders.set(folder, counts);
  }
}
const n = (counts, status) => counts[status] ?? 0;
const rows = [...folders.entries()].sort(([a], [b]) => a.localeCompare(b));
const lines = [
  `Mutation score per folder (StrykerJS, \`npm run mutate\`, ${new Date(newest).toISOString().slice(0, 10)}):`,
  '',
  '| folder | mutants | killed | timeout | survived | no coverage | score |',
  '|---|---:|---:|---:|---:|---:|---:|',
];
for (const [folder, counts] of rows) {
  const detected = n(counts, 'Killed') + n(counts, 'Timeout');
  const valid = detected + n(counts, 'Survived') + n(counts, 'NoCoverage');
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  lines.push(`| ${folder} | ${total} | ${n(counts, 'Killed')} | ${n(counts, 'Timeout')} | ${n(counts, 'Survived')} | ${n(counts, 'NoCoverage')} | ${valid === 0 ? '–' : `${((100 * detected) / valid).toFixed(1)} %`} |`);
}
process.stdout.write(lines.join('\n') + '\n');
