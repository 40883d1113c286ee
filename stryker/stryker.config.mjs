// @ts-check
/**
 * StrykerJS configuration for one scope of stryker/scopes.mjs (MUTATE_SCOPE). Run through
 * `npm run mutate [scope...]` (scripts/mutate.mjs), never in CI. Reports: reports/mutation/<scope>.html|json.
 * STRYKER_CONCURRENCY sets the worker count (default 2: the machine is shared).
 */
import { currentScope } from './scopes.mjs';

const scope = currentScope();

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  // The scope's own vitest config (its test files only); `related` off because the test list is explicit.
  vitest: { configFile: 'stryker/vitest.config.mjs', related: false },
  mutate: scope.mutate,
  coverageAnalysis: scope.coverageAnalysis,
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
  timeoutMS: 10_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${scope.name}.html` },
  jsonReporter: { fileName: `reports/mutation/${scope.name}.json` },
  incrementalFile: `reports/mutation/${scope.name}.incremental.json`,
  tempDirName: '.stryker-tmp',
  // Large folders no scope reads, kept out of the sandbox copies.
  ignorePatterns: ['experiments', 'docs', 'report', 'reports', 'bench/results', 'dist'],
  thresholds: { high: 80, low: 60, break: null },
};
