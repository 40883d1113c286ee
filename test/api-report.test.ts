/**
 * The public API is deliberate: docs/api-report.md lists every name the three package entries export, and
 * this test regenerates it in memory (scripts/api-report.ts, the TypeScript compiler API) and fails when
 * the committed one differs — a change to the surface is then a visible change in review — or when an
 * export lacks a doc comment, or a public signature uses a type no entry exports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectApi, renderApiReport, REPORT_PATH, undocumented } from '../scripts/api-report.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const api = collectApi();
const namesOf = (entry: string): string[] => api.entries.find((e) => e.entry === entry)!.names.map((n) => n.name);

/** The functions users meet first: each has a complete, runnable `@example` (run by doc-examples.test.ts). */
const MAIN_FUNCTIONS = {
  sparsegrad: [
    'fit', 'runPruning', 'compileModel', 'compileInference', 'computeMasks', 'registerPruningMethod', 'registerCriterion',
    'registerInferenceBackend', 'exportOnnx', 'gradcheck', 'withBackend', 'record',
  ],
  'sparsegrad/node': ['loadModelFile', 'saveModel'],
} as const;

describe('public API', () => {
  it('has the three entries of package.json', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => `sparsegrad${k.slice(1)}`).sort()).toEqual(api.entries.map((e) => e.entry).sort());
    for (const entry of api.entries) expect(entry.names.length, entry.entry).toBeGreaterThan(10);
  });

  it('matches the committed report', () => {
    const committed = readFileSync(join(ROOT, REPORT_PATH), 'utf8');
    expect(committed, `the public API changed: run \`npm run api-report\` and commit ${REPORT_PATH}`).toBe(renderApiReport(api));
  });

  it('documents every export', () => {
    expect(undocumented(api), 'these exports need a doc comment (what it is, units/shapes, errors thrown)').toEqual([]);
  });

  it('exports every type a public signature uses', () => {
    expect(api.unexported, 'export these types too, or keep them out of public signatures').toEqual([]);
  });

  it('gives the main functions a runnable example', () => {
    for (const [entry, functions] of Object.entries(MAIN_FUNCTIONS)) {
      const names = api.entries.find((e) => e.entry === entry)!.names;
      const without = functions.filter((f) => (names.find((n) => n.name === f)?.examples.length ?? 0) === 0);
      expect(without, `${entry}: add a fenced \`\`\`ts @example`).toEqual([]);
    }
  });

  it('keeps kernels and internals out of the main entry', () => {
    const main = namesOf('sparsegrad');
    const internals = ['csrMatmulPanel16', 'csrMatmulPanel8', 'csrMatmulPanel4', 'TAIL_PANEL_MIN', 'kthSmallest', 'topologicalOrder', 'allocateResult'];
    const kernels = ['gemmNN', 'gemmNT', 'gemmTN', 'simdGemmNN', 'csrMatvec', 'csrMatmulPanel', 'WASM_COST_MODEL', 'JS_COST_MODEL', 'chooseKernel'];
    expect(main.filter((n) => internals.includes(n) || kernels.includes(n))).toEqual([]);
    expect(namesOf('sparsegrad/kernels')).toEqual(expect.arrayContaining(kernels));
    expect(namesOf('sparsegrad/kernels').filter((n) => internals.includes(n))).toEqual([]);
    expect(namesOf('sparsegrad').filter((n) => n.startsWith('ops.'))).not.toContain('ops.reluBackward');
  });
});
