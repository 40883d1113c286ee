// The WebAssembly SIMD experiment's kernels against a float64 reference, so its timings compare correct code.
import { describe, expect, it } from 'vitest';
import { instantiateKernels, padTo4, uploadCsr, uploadDense } from '../../experiments/wasm-simd/kernels.ts';
import { csrFromDense } from '../../src/sparse/index.ts';
import { Rng } from '../../src/tensor/index.ts';

/** A [rows × cols] weight with the given density; row 1 (when present) is left empty on purpose. */
function randomWeight(rows: number, cols: number, density: number, rng: Rng): Float32Array {
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i++) if (rng.uniform() < density && Math.floor(i / cols) !== 1) w[i] = rng.normal();
  return w;
}

/** y[t][i] = Σ_j w[i][j] · x[t][j] in float64, row-major x [batch × cols]. */
function reference(w: Float32Array, rows: number, cols: number, x: Float32Array, batch: number): Float64Array {
  const y = new Float64Array(batch * rows);
  for (let t = 0; t < batch; t++) for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += w[i * cols + j]! * x[t * cols + j]!;
    y[t * rows + i] = s;
  }
  return y;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(1e-5 * scale);
}

const SHAPES: [number, number][] = [[0, 5], [1, 1], [1, 37], [3, 1], [5, 7], [13, 29], [64, 100], [30, 78]];
const DENSITIES = [0, 0.02, 0.3, 1];

describe('WebAssembly SIMD experiment kernels', () => {
  const kernels = instantiateKernels();
  const rng = new Rng(11);

  for (const [rows, cols] of SHAPES) {
    for (const density of DENSITIES) {
      it(`match float64 on ${rows}×${cols} at density ${density}`, () => {
        const w = randomWeight(rows, cols, density, rng);
        const x = new Float32Array(16 * cols).map(() => rng.normal());
        const yRef = reference(w, rows, cols, x, 16);
        const csr = uploadCsr(kernels, csrFromDense(w, rows, cols));
        const dense = uploadDense(kernels, w, rows, cols);
        // One 16-sample panel: feature j of sample t at j·16 + t; padded columns stay zero.
        const xPanel = kernels.alloc(4 * 16 * dense.cols);
        const xVector = kernels.alloc(4 * dense.cols);
        const yPanel = kernels.alloc(4 * 16 * dense.rows);
        const yVector = kernels.alloc(4 * dense.rows);
        const f32 = kernels.f32();
        for (let t = 0; t < 16; t++) for (let j = 0; j < cols; j++) f32[xPanel / 4 + j * 16 + t] = x[t * cols + j]!;
        for (let j = 0; j < cols; j++) f32[xVector / 4 + j] = x[j]!;
        const fromPanel = (): Float32Array => {
          const out = new Float32Array(16 * rows);
          const mem = kernels.f32();
          for (let t = 0; t < 16; t++) for (let i = 0; i < rows; i++) out[t * rows + i] = mem[yPanel / 4 + i * 16 + t]!;
          return out;
        };
        const vector = (): Float32Array => kernels.f32().slice(yVector / 4, yVector / 4 + rows);

        kernels.spmmPanel16(rows, csr.indptr, csr.panelOffsets, csr.values, xPanel, yPanel);
        expectClose(fromPanel(), yRef);
        kernels.densePanel16(dense.rows, dense.cols, dense.address, xPanel, yPanel);
        expectClose(fromPanel(), yRef);
        kernels.spmv(rows, csr.indptr, csr.vectorOffsets, csr.values, xVector, yVector);
        expectClose(vector(), yRef.subarray(0, rows));
        kernels.denseMatvec(dense.rows, dense.cols, dense.address, xVector, yVector);
        expectClose(vector(), yRef.subarray(0, rows));
      });
    }
  }

  it('pads to multiples of 4', () => {
    expect([0, 1, 4, 5, 783, 784].map(padTo4)).toEqual([0, 4, 4, 8, 784, 784]);
  });
});

describe('WebAssembly SIMD experiment layout kernels', () => {
  it('rowsToPanels16 and panelsToRows16 are inverse transposes', () => {
    const kernels = instantiateKernels();
    for (const [nPanels, features] of [[0, 3], [1, 1], [2, 5], [3, 37]] as const) {
      const batch = 16 * nPanels;
      const rows = Float32Array.from({ length: batch * features }, (_, i) => i + 1);
      const source = kernels.alloc(4 * rows.length);
      const panels = kernels.alloc(4 * rows.length);
      const back = kernels.alloc(4 * rows.length);
      kernels.f32().set(rows, source / 4);
      kernels.rowsToPanels16(nPanels, features, source, panels);
      const mem = kernels.f32();
      for (let p = 0; p < nPanels; p++) for (let j = 0; j < features; j++) for (let t = 0; t < 16; t++) {
        expect(mem[panels / 4 + p * 16 * features + j * 16 + t]).toBe(rows[(16 * p + t) * features + j]);
      }
      kernels.panelsToRows16(nPanels, features, panels, back);
      expect(Array.from(kernels.f32().subarray(back / 4, back / 4 + rows.length))).toEqual(Array.from(rows));
    }
  });
});
