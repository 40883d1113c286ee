/**
 * Regenerates the committed model-file fixtures (test/fixtures/models/) from their definitions in
 * test/fixtures/golden-models.ts:  npm run update-fixtures   (= npx tsx scripts/update-fixtures.ts)
 *
 * Only for a deliberate change (a new fixture, or a format change that also bumps format_version). Tests
 * never write fixtures: a missing or stale one fails. Review `git diff test/fixtures` before committing.
 * Files in bad/ that are no longer defined are listed, not deleted.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { badFixtures, badManifest, FIXTURE_DIR, goldenBytes } from '../test/fixtures/golden-models.ts';

const badDir = join(FIXTURE_DIR, 'bad');
mkdirSync(badDir, { recursive: true });
for (const [name, bytes] of Object.entries(goldenBytes())) writeFileSync(join(FIXTURE_DIR, name), bytes);
const bad = badFixtures();
for (const [name, { bytes }] of Object.entries(bad)) writeFileSync(join(badDir, name), bytes);
writeFileSync(join(badDir, 'manifest.json'), `${JSON.stringify(badManifest(), null, 2)}\n`);
const stray = readdirSync(badDir).filter((name) => name.endsWith('.safetensors') && !(name in bad));
process.stdout.write(`wrote ${Object.keys(goldenBytes()).length} golden and ${Object.keys(bad).length} bad fixtures to ${FIXTURE_DIR}\n`);
if (stray.length > 0) process.stdout.write(`not defined any more (delete them if that is intended): ${stray.join(', ')}\n`);
