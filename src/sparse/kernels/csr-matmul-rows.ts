import type { FloatArray } from '../../tensor/tensor.ts';

/**
 * csrMatmulRows: Y = act(X·Wᵀ + b) with X and Y **row-major** (the Linear layer's natural layout, no
 * transposes): one sparse row-dot per (sample, output), four samples per pass so that each (index, value)
 * pair is loaded once and used four times.
 *
 *   Y[s·nRows + i] = act( bias[i] + Σ_{p ∈ row i} values[p] · X[s·nCols + indices[p]] )   for s < batch, i < nRows
 *
 * Sizes:  indptr[nRows+1], indices[nnz], values[nnz], bias[nRows] | null, X[batch·nCols]
 * Output: Y[batch·nRows]  (preallocated; overwritten, never read)
 * Preconditions: valid CSR (validateCsr).  Complexity: O(batch·(nnz + nRows)).
 *
 * This is the baseline the panel kernels are measured against (PEERS.md `rowdot4`): the four x reads of one
 * nonzero are `nCols` apart, so they cost four address computations and touch four cache lines.
 */
export function csrMatmulRows(
  nRows: number,
  nCols: number,
  batch: number,
  indptr: Int32Array,
  indices: Int32Array,
  values: Float32Array,
  bias: Float32Array | null,
  relu: boolean,
  x: FloatArray,
  y: FloatArray,
): void {
  let s = 0;
  for (; s + 3 < batch; s += 4) {
    const x0 = s * nCols;
    const x1 = x0 + nCols;
    const x2 = x1 + nCols;
    const x3 = x2 + nCols;
    const y0 = s * nRows;
    for (let i = 0; i < nRows; i++) {
      const b = bias === null ? 0 : bias[i]!;
      let a0 = b, a1 = b, a2 = b, a3 = b;
      const end = indptr[i + 1]!;
      for (let p = indptr[i]!; p < end; p++) {
        const v = values[p]!;
        const j = indices[p]!;
        a0 += v * x[x0 + j]!;
        a1 += v * x[x1 + j]!;
        a2 += v * x[x2 + j]!;
        a3 += v * x[x3 + j]!;
      }
      y[y0 + i] = relu && a0 < 0 ? 0 : a0;
      y[y0 + nRows + i] = relu && a1 < 0 ? 0 : a1;
      y[y0 + 2 * nRows + i] = relu && a2 < 0 ? 0 : a2;
      y[y0 + 3 * nRows + i] = relu && a3 < 0 ? 0 : a3;
    }
  }
  for (; s < batch; s++) {
    const x0 = s * nCols;
    for (let i = 0; i < nRows; i++) {
      let acc = bias === null ? 0 : bias[i]!;
      const end = indptr[i + 1]!;
      for (let p = indptr[i]!; p < end; p++) acc += values[p]! * x[x0 + indices[p]!]!;
      y[s * nRows + i] = relu && acc < 0 ? 0 : acc;
    }
  }
}
