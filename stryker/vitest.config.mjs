/**
 * The vitest configuration for mutation testing: the project's own (vitest.config.ts: aliases, timeouts)
 * with only the test files of the scope in MUTATE_SCOPE (stryker/scopes.mjs), and a reporter that makes
 * errors at collection time count as failures (stryker/collection-errors.mjs).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../vitest.config.ts';
import CollectionErrorsReporter from './collection-errors.mjs';
import { currentScope } from './scopes.mjs';

export default defineConfig({
  ...base,
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: { ...base.test, include: currentScope().tests, reporters: ['default', new CollectionErrorsReporter()] },
});
