/**
 * The one-line breaks issue 17 found surviving the whole suite, re-applied one at a time: each must now make
 * the tests of its area fail. A quick, targeted complement to `npm run mutate` (StrykerJS):
 *   node scripts/known-mutants.mjs        (under a minute here; restores every file, also when interrupted)
 * Exits 1 if any mutant survives.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const MUTANTS = [
  ['the optimizer state of pruned weights is no longer zeroed', 'src/nn/optim/optimizer.ts',
    '        for (const buffer of state) for (let i = 0; i < mask.length; i++) if (mask[i] === 0) buffer[i] = 0;\n', '', ['test/nn']],
  ['ReLU backward: > 0 becomes >= 0 (TypeScript kernel)', 'src/tensor/ops.ts',
    'out[i] = xs[i]! > 0 ? g[i]! : 0;', 'out[i] = xs[i]! >= 0 ? g[i]! : 0;', ['test/autograd', 'test/tensor']],
  ['the cost model ignores its per-width constants', 'src/sparse/inference/cost-model.ts',
    'let call = nsAtWidth(table, width) * width * work;', 'let call = nsAtWidth(table, 1) * width * work;', ['test/sparse']],
  ['preferSkipZeros inverted', 'src/sparse/inference/cost-model.ts',
    '  return scatter < gather;\n}', '  return scatter >= gather;\n}', ['test/sparse']],
  ['the SIMD densePanel16 skips a last odd row', 'src/sparse/backends/wasm-simd/kernels-dense.ts',
    '  rowBlock(2);\n  rowBlock(1);\n  return f;', '  rowBlock(2);\n  return f;', ['test/sparse/backends/wasm-simd-kernels.test.ts']],
  ['the CSR mask check of the model loader skips the last row', 'src/io/model-params.ts',
    '    for (let r = 0; r < nRows; r++) {\n      for (let k = indptr[r] as number;', '    for (let r = 0; r < nRows - 1; r++) {\n      for (let k = indptr[r] as number;',
    ['test/io/model-file.test.ts', 'test/io/model-params.test.ts', 'test/io/model-answers.test.ts']],
];

let survivors = 0;
for (const [name, file, before, after, tests] of MUTANTS) {
  const path = `${root}${file}`;
  const source = readFileSync(path, 'utf8');
  if (source.split(before).length !== 2) throw new Error(`${file}: the line to break is not there exactly once (${name}); update this script`);
  const restore = () => writeFileSync(path, source);
  process.once('SIGINT', restore);
  writeFileSync(path, source.replace(before, after));
  try {
    const run = spawnSync(process.execPath, [`${root}node_modules/vitest/vitest.mjs`, 'run', ...tests], { cwd: root, encoding: 'utf8' });
    const summary = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => /^\s*Tests\s/.test(l)).pop()?.trim() ?? '';
    if (run.status === 0) survivors++;
    console.log(`${run.status === 0 ? 'SURVIVED' : 'killed  '} ${name}: ${summary}`);
  } finally {
    restore();
    process.removeListener('SIGINT', restore);
  }
}
process.exitCode = survivors === 0 ? 0 : 1;
