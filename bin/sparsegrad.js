#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` / `npm install` run through `prepare`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/run.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('sparsegrad: dist/ is missing; run `npm run build` (npm ci and npm install do it automatically)\n');
  process.exitCode = 1;
} else {
  await import(entry.href);
}
