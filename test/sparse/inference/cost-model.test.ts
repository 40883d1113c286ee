// The cost model's kernel choices pinned at their break-even points, for both backends' constants: each pin
// is the last nnz (stored entries, non-zero input count) on one side and the first on the other, worked out
// from the formulas in src/sparse/inference/cost-model.ts and the constants of each backend's cost-model.ts. A
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
  // Row term per output row: 1.2 + 0.1·width ns, i.e. 1.3 for a vector call and 2.8 for a 16-sample panel call.
  it('a 16-sample panel: dense 16·0.047·235200 = 176870.4 ns against CSR 16·0.075·nnz + 2.8·300 — CSR up to nnz 146691 (37.6 % sparse)', () => {
    expect(chooseKernel(WASM_COST_MODEL, layer(146691), 16)).toBe('csr');
    expect(chooseKernel(WASM_COST_MODEL, layer(146692), 16)).toBe('dense'); // a tie goes to dense
    expect(chooseKernel(WASM_COST_MODEL, layer(146691), 64)).toBe('csr'); // four panels: both sides ×4
    expect(chooseKernel(WASM_COST_MODEL, layer(146692), 64)).toBe('dense');
  });

  it('a vector: dense 0.077·235200 = 18110.4 ns against SELL-4 0.24·nnz + 1.3·300 — CSR up to nnz 73835 (68.6 % sparse)', () => {
    expect(chooseKernel(WASM_COST_MODEL, layer(73835), 1)).toBe('csr');
    expect(chooseKernel(WASM_COST_MODEL, layer(73836), 1)).toBe('dense');
    expect(chooseKernel(WASM_COST_MODEL, layer(73835), 3)).toBe('csr'); // three vectors
    expect(chooseKernel(WASM_COST_MODEL, layer(73836), 3)).toBe('dense');
  });

  it('4×1 BSR wins while 0.14·stored < 0.24·nnz for a vector (stored ≤ 20571 at nnz 12000) and 0.058·16·stored < 0.075·16·nnz in panels (≤ 15517)', () => {
    expect(chooseKernel(WASM_COST_MODEL, layer(12000, 20571), 1)).toBe('bsr4x1');
    expect(chooseKernel(WASM_COST_MODEL, layer(12000, 20572), 1)).toBe('csr');
    expect(chooseKernel(WASM_COST_MODEL, layer(12000, 15517), 16)).toBe('bsr4x1');
    expect(chooseKernel(WASM_COST_MODEL, layer(12000, 15518), 16)).toBe('csr');
    // Against dense (a vector): 0.14·stored + 390 < 18110.4 up to stored 126574.
    expect(chooseKernel(WASM_COST_MODEL, layer(200000, 126574), 1)).toBe('bsr4x1');
    expect(chooseKernel(WASM_COST_MODEL, layer(200000, 126575), 1)).toBe('dense');
    expect(estimateKernelNs(WASM_COST_MODEL, 'bsr4x1', layer(12000), 16)).toBe(Infinity); // no BSR form kept
  });

  it('counts a tail of 6–15 samples as a padded panel and a shorter tail as vectors', () => {
    const panel = 16 * 0.075 * 1000 + 2.8 * 300;
    const vector = 0.24 * 1000 + 1.3 * 300;
    expect(estimateKernelNs(WASM_COST_MODEL, 'csr', layer(1000), 21)).toBeCloseTo(panel + 5 * vector, 6);
    expect(estimateKernelNs(WASM_COST_MODEL, 'csr', layer(1000), 22)).toBeCloseTo(2 * panel, 6);
    expect(estimateKernelNs(WASM_COST_MODEL, 'csr', layer(1000), 6)).toBeCloseTo(panel, 6);
    expect(estimateKernelNs(WASM_COST_MODEL, 'csr', layer(1000), 5)).toBeCloseTo(5 * vector, 6);
  });

  it('batch 1 skips zero inputs while 0.6·23520·nz/784 + 0.5·nz + 0.95·784 < 0.24·23520: up to 264 non-zero inputs', () => {
    expect(preferSkipZeros(WASM_COST_MODEL, 23520, 784, 264)).toBe(true);
    expect(preferSkipZeros(WASM_COST_MODEL, 23520, 784, 265)).toBe(false);
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

  it.runIf(wasmSimdSupported())('WebAssembly SIMD backend: panels and vectors choose apart; a tail of 6 is a panel', () => {
    const half = compileInference([exactSparseLayer(117600, rng)], { backend: 'wasm-simd' }); // 50 % sparse
    expect(half.kernels(1)).toEqual(['dense']);
    expect(half.kernels(5)).toEqual(['dense']);
    expect(half.kernels(6)).toEqual(['csr']);
    expect(half.kernels(16)).toEqual(['csr']);
    expect(compileInference([exactSparseLayer(73835, rng)], { backend: 'wasm-simd' }).kernels(1)).toEqual(['csr']);
    expect(compileInference([exactSparseLayer(73836, rng)], { backend: 'wasm-simd' }).kernels(1)).toEqual(['dense']);
    expect(compileInference([exactSparseLayer(146692, rng)], { backend: 'wasm-simd' }).kernels(16)).toEqual(['dense']);
  });

  it.runIf(wasmSimdSupported())('WebAssembly SIMD backend: 4×1-block weights run BSR, unstructured ones keep no BSR form', () => {
    const weight = new Float32Array(300 * 784);
    for (let b = 0; b < 75 * 784; b += 10) for (let t = 0; t < 4; t++) weight[(4 * Math.floor(b / 784) + t) * 784 + (b % 784)] = 0.5; // 90 % block-sparse
    const blocks = compileInference([{ weight, inFeatures: 784, outFeatures: 300, bias: null, activation: 'relu' }], { backend: 'wasm-simd' });
    expect(blocks.kernels(1)).toEqual(['bsr4x1']);
    expect(blocks.kernels(64)).toEqual(['bsr4x1']);
    expect(blocks.report(1)[0]!.bsrBytes).not.toBeNull();
    const random = compileInference([exactSparseLayer(23520, rng)], { backend: 'wasm-simd' });
    expect(random.kernels(1)).toEqual(['csr']);
    expect(random.report(1)[0]!.bsrBytes).toBeNull();
  });
});
