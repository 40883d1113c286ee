/**
 * The mutation-testing scopes: which source files are mutated and which test files may kill the mutants.
 * One source of truth for stryker/stryker.config.mjs (Stryker's side) and stryker/vitest.config.ts (the
 * tests vitest runs), selected by the MUTATE_SCOPE environment variable; `npm run mutate [scope...]`
 * (scripts/mutate.mjs) runs them. Globs, so files that are split or added are picked up.
 *
 * test/io/fuzz.test.ts is left out of the io scope on purpose: it covers nearly every loader mutant and takes
 * ~5 s, which made the scope take over an hour, and a mutant only random bytes catch is a hole in the
 * targeted tests anyway.
 *
 * coverageAnalysis 'off' for the WebAssembly kernel generators: their code runs once, when a module is
 * assembled and cached (at import time in some test files, inside the first test in others), so Stryker's
 * per-test coverage would credit a mutant to whichever test happened to assemble the module. With 'off'
 * every mutant is activated before anything is imported and runs against every test of its scope.
 */
export const SCOPES = {
  'kernels-ts': {
    summary: 'TypeScript kernels: src/tensor/kernels, src/sparse/kernels',
    mutate: ['src/tensor/kernels/**/*.ts', 'src/sparse/kernels/**/*.ts'],
    tests: [
      'test/tensor/gemm.test.ts', 'test/tensor/ops.test.ts', 'test/sparse/kernels.test.ts', 'test/sparse/convert.test.ts',
      'test/sparse/backends/js-model.test.ts', 'test/sparse/inference/non-finite.test.ts', 'test/autograd/gradcheck-ops.test.ts',
      'test/autograd/relu-at-zero.test.ts',
    ],
    coverageAnalysis: 'perTest',
  },
  'kernels-wasm': {
    summary: 'WebAssembly SIMD kernel generators: src/tensor/wasm/*-kernels.ts, src/sparse/backends/wasm-simd/kernel*.ts',
    mutate: ['src/tensor/wasm/*-kernels.ts', 'src/sparse/backends/wasm-simd/kernel*.ts', 'src/sparse/backends/wasm-simd/kernels/**/*.ts'],
    tests: [
      'test/tensor/simd-kernels.test.ts', 'test/tensor/simd-gemm.test.ts', 'test/sparse/backends/wasm-simd-kernels.test.ts',
      'test/sparse/backends/wasm-simd-model.test.ts', 'test/autograd/relu-at-zero.test.ts', 'test/nn/optim-masks.test.ts',
    ],
    coverageAnalysis: 'off',
  },
  autograd: {
    summary: 'autograd ops: src/autograd/ops',
    mutate: ['src/autograd/ops/**/*.ts'],
    tests: ['test/autograd/**/*.test.ts'],
    coverageAnalysis: 'perTest',
  },
  optim: {
    summary: 'masks and optimizers: src/nn/parameter.ts, src/nn/optim',
    mutate: ['src/nn/parameter.ts', 'src/nn/optim/**/*.ts'],
    tests: ['test/nn/optim.test.ts', 'test/nn/optim-masks.test.ts', 'test/nn/optim-contract.test.ts', 'test/tensor/simd-kernels.test.ts', 'test/nn/train.test.ts', 'test/prune/invariants.test.ts'],
    coverageAnalysis: 'perTest',
  },
  io: {
    summary: 'model loader: src/io/model-*.ts, safetensors reader, strict JSON',
    mutate: ['src/io/model-*.ts', 'src/io/safetensors-reader.ts', 'src/io/strict-json.ts'],
    tests: [
      'test/io/model-file.test.ts', 'test/io/safetensors.test.ts', 'test/io/strict-json.test.ts', 'test/io/model-answers.test.ts',
      'test/io/model-file-node.test.ts', 'test/io/model-adapter.test.ts',
      'test/io/strict-json-details.test.ts', 'test/io/model-params.test.ts', 'test/io/model-metadata.test.ts',
      'test/io/safetensors-details.test.ts', 'test/io/model-architecture.test.ts',
    ],
    coverageAnalysis: 'perTest',
  },
};

/** The scope named by MUTATE_SCOPE; throws with the list of names when it is missing or unknown. */
export function currentScope() {
  const name = process.env.MUTATE_SCOPE;
  const scope = name === undefined ? undefined : SCOPES[name];
  if (scope === undefined) throw new Error(`MUTATE_SCOPE must be one of ${Object.keys(SCOPES).join(', ')} (got ${name}); run npm run mutate [scope...]`);
  return { name, ...scope };
}
