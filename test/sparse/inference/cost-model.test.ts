// The cost model's kernel choices pinned at their break-even points, for both backends' constants: each pin
// is the last nnz (or non-zero input count) on one side and the first on the other, worked out by hand from
// the formulas in src/sparse/inference/cost-model.ts and the constants of each backend's cost-model.ts. A
// change to a constant, to the per-width lookup, to the row term or to preferSkipZeros moves a pin; when a
// re-measured constant moves one on purpose, recompute the pins (the comments show the arithmetic).
import { describe, expect, it } from 'vitest';
import {
  chooseKernel, compileInference, estimateKernelNs, JS_COST_MODEL, preferSkipZeros, WASM_COST_MODEL, wasmSimdSupported,
  type InferenceLayer, type LayerCostInput,
} from '../../../src/sparse/index.ts';
import { Rng } from '../../../src/tensor/index.ts';

/** A 300×784 layer (LeNet-300-100's first) with `nnz` stored entries, and optionally a BSR form. */
const layer = (nnz: number, bsrStored: number | null = null): LayerCostInput => ({ inFeatures: 784, outFeatures: 300, nnz, bsrStored });

describe('TypeScript cost model (JS_COST_MODEL), 300×784', () => {
  it('batch 1: dense 0.95·235200 = 223440 ns against CSR 1.9·nnz + 1.5·300 — CSR up to nnz 117363 (50.1 % sparse)', () => {
    expect(chooseKernel(JS_COST_MODEL, layer(117363), 1)).toBe('csr');
    expect(chooseKernel(JS_COST_MODEL, layer(117364), 1)).toBe('dense');
    expect(chooseKernel(JS_COST_MODEL, layer(117363), 2)).toBe('csr'); // two vectors: both sides double
    expect(chooseKernel(JS_COST_MODEL, layer(117364), 3)).toBe('dense');
  });

  it('batch 4: dense 0.65·4·235200 against the 4-wide panel 1.1·4·nnz + 1.5·4·300 — CSR up to nnz 138572', () => {
    expect(chooseKernel(JS_COST_MODEL, layer(138572), 4)).toBe('csr');
    expect(chooseKernel(JS_COST_MODEL, layer(138573), 4)).toBe('dense');
  });

  it('batch 8 and 16: dense 0.65 against panels at 0.9 ns — CSR up to nnz 169366 (28 % sparse)', () => {
    for (const batch of [8, 16, 64]) {
      expect(chooseKernel(JS_COST_MODEL, layer(169366), batch)).toBe('csr');
      expect(chooseKernel(JS_COST_MODEL, layer(169367), batch)).toBe('dense');
    }
  });

  it('batch 5 = a 4-wide panel + a vector: dense 0.65·5·235200 = 764400 against 6.3·nnz + 2250 — CSR up to 120976', () => {
    expect(chooseKernel(JS_COST_MODEL, layer(120976), 5)).toBe('csr');
    expect(chooseKernel(JS_COST_MODEL, layer(120977), 5)).toBe('dense');
  });

  it('4×1 BSR wins while stored·bsrNs < nnz·csrNs: below 1.9/1.2 × nnz at batch 1, 1.1/0.75 at 4, 0.9/0.72 at 16', () => {
    // nnz 12000: batch 1 → stored < 19000; batch 4 → < 17600; batch 16 → < 15000 (ties go to CSR).
    expect(chooseKernel(JS_COST_MODEL, layer(12000, 18999), 1)).toBe('bsr4x1');
    expect(chooseKernel(JS_COST_MODEL, layer(12000, 19001), 1)).toBe('csr');
    expect(chooseKernel(JS_COST_MODEL, layer(12000, 17599), 4)).toBe('bsr4x1');
    expect(chooseKernel(JS_COST_MODEL, layer(12000, 17601), 4)).toBe('csr');
    expect(chooseKernel(JS_COST_MODEL, layer(12000, 14999), 16)).toBe('bsr4x1');
    expect(chooseKernel(JS_COST_MODEL, layer(12000, 15001), 16)).toBe('csr');
  });

  it('estimates: exact sums over the panels, and no sparse format that stores every entry', () => {
    // batch 37 = 16 + 16 + 4 + 1 for CSR; the dense kernel runs all 37 at once.
    expect(estimateKernelNs(JS_COST_MODEL, 'dense', layer(1000), 37)).toBeCloseTo(0.65 * 37 * 235200, 6);
    expect(estimateKernelNs(JS_COST_MODEL, 'csr', layer(1000), 37)).toBeCloseTo(2 * (0.9 * 16 * 1000 + 1.5 * 16 * 300) + (1.1 * 4 * 1000 + 1.5 * 4 * 300) + (1.9 * 1000 + 1.5 * 300), 6);
    expect(estimateKernelNs(JS_COST_MODEL, 'bsr4x1', layer(1000), 1)).toBe(Infinity); // no BSR form
    expect(estimateKernelNs(JS_COST_MODEL, 'csr', layer(235200), 16)).toBe(Infinity);
  });

  it('batch 1 skips zero inputs while 3.8·23520·nz/784 + 0.4·784 < 1.9·23520: up to 389 non-zero inputs (90 % sparse)', () => {
    expect(preferSkipZeros(JS_COST_MODEL, 23520, 784, 389)).toBe(true);
    expect(preferSkipZeros(JS_COST_MODEL, 23520, 784, 390)).toBe(false);
    expect(preferSkipZeros(JS_COST_MODEL, 23520, 784, 0)).toBe(true);
    expect(preferSkipZeros(JS_COST_MODEL, 23520, 784, 784)).toBe(false);
  });
});

describe('WebAssembly SIMD cost model (WASM_COST_MODEL), 300×784', () => {
  it('a 16-sample panel: dense 16·0.066·235200 = 248371.2 ns against CSR 16·0.08·nnz + 0.5·300 — CSR up to nnz 193922', () => {
    expect(chooseKernel(WASM_COST_MODEL, layer(193922), 16)).toBe('csr');
    expect(chooseKernel(WASM_COST_MODEL, layer(193923), 16)).toBe('dense');
  });

  it('a vector: dense 0.11·235200 = 25872 ns against CSR 0.6·nnz + 0.5·300 — CSR up to nnz 42869 (81.8 % sparse)', () => {
    expect(chooseKernel(WASM_COST_MODEL, layer(42869), 1)).toBe('csr');
    expect(chooseKernel(WASM_COST_MODEL, layer(42871), 1)).toBe('dense');
  });

  it('has no BSR kernel', () => {
    expect(chooseKernel(WASM_COST_MODEL, layer(12000, 12000), 16)).toBe('csr');
    expect(estimateKernelNs(WASM_COST_MODEL, 'bsr4x1', layer(12000, 12000), 16)).toBe(Infinity);
  });

  it('counts a tail of 4–15 samples as a padded panel and a shorter tail as vectors', () => {
    const panel = 16 * 0.08 * 1000 + 0.5 * 300;
    const vector = 0.6 * 1000 + 0.5 * 300;
    expect(estimateKernelNs(WASM_COST_MODEL, 'csr', layer(1000), 19)).toBeCloseTo(panel + 3 * vector, 6);
    expect(estimateKernelNs(WASM_COST_MODEL, 'csr', layer(1000), 20)).toBeCloseTo(2 * panel, 6);
    expect(estimateKernelNs(WASM_COST_MODEL, 'csr', layer(1000), 4)).toBeCloseTo(panel, 6);
  });

  it('batch 1 skips zero inputs while 1.2·23520·nz/784 + 1.0·nz + 0.3·784 < 0.6·23520: up to 375 non-zero inputs', () => {
    expect(preferSkipZeros(WASM_COST_MODEL, 23520, 784, 375)).toBe(true);
    expect(preferSkipZeros(WASM_COST_MODEL, 23520, 784, 376)).toBe(false);
  });
});

/** A 300×784 layer with exactly `nnz` nonzeros at random positions (unstructured, so BSR is no candidate). */
function exactSparseLayer(nnz: number, rng: Rng): InferenceLayer {
  const positions = Int32Array.from({ length: 300 * 784 }, (_, i) => i);
  const weight = new Float32Array(300 * 784);
  for (let i = 0; i < nnz; i++) {
    const j = i + Math.floor(rng.uniform() * (positions.length - i));
    [positions[i], positions[j]] = [positions[j]!, positions[i]!];
    weight[positions[i]!] = rng.normal() || 0.5;
  }
  return { weight, inFeatures: 784, outFeatures: 300, bias: null, activation: 'relu' };
}

describe('compileInference follows its backend\'s cost model', () => {
  const rng = new Rng(32);

  it('TypeScript backend: the batch-1 and batch-16 break-evens', () => {
    expect(compileInference([exactSparseLayer(117363, rng)], { backend: 'js' }).kernels(1)).toEqual(['csr']);
    expect(compileInference([exactSparseLayer(117364, rng)], { backend: 'js' }).kernels(1)).toEqual(['dense']);
    const atPanels = compileInference([exactSparseLayer(169366, rng)], { backend: 'js' });
    expect(atPanels.kernels(16)).toEqual(['csr']);
    expect(atPanels.kernels(1)).toEqual(['dense']);
    expect(compileInference([exactSparseLayer(169367, rng)], { backend: 'js' }).kernels(16)).toEqual(['dense']);
  });

  it.runIf(wasmSimdSupported())('WebAssembly SIMD backend: panels and vectors choose apart; a tail of 4 is a panel', () => {
    const half = compileInference([exactSparseLayer(117600, rng)], { backend: 'wasm-simd' }); // 50 % sparse
    expect(half.kernels(1)).toEqual(['dense']);
    expect(half.kernels(3)).toEqual(['dense']);
    expect(half.kernels(4)).toEqual(['csr']);
    expect(half.kernels(16)).toEqual(['csr']);
    expect(compileInference([exactSparseLayer(42869, rng)], { backend: 'wasm-simd' }).kernels(1)).toEqual(['csr']);
    expect(compileInference([exactSparseLayer(193923, rng)], { backend: 'wasm-simd' }).kernels(16)).toEqual(['dense']);
  });
});
