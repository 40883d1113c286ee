import type { FloatArray } from '../../tensor/tensor.ts';

/**
 * cscMatvecSkipZeros: y = act(bias + W·x) for batch 1, reading W by columns (CSC) and skipping the inputs
 * that are exactly zero — activation sparsity. ReLU networks feed mostly-zero vectors to their layers (half
 * or more of the hidden units are 0; 80 % of an MNIST image is background), so a layer whose input has
 * density d only touches d·nnz weights. Column j's stored entries are scattered into y:
 *
 *   y[i] = bias[i];  for j with x[j] ≠ 0:  y[rowIndices[p]] += values[p] · x[j]  for p ∈ [colptr[j], colptr[j+1])
 *   then y[i] = max(y[i], 0) when `relu`.
 *
 * Exact, not an approximation: a skipped term is 0·w = 0 for every finite weight (model files reject
 * non-finite weights), and a NaN or infinite input is not zero, so it still propagates.
 *
 * Sizes:  colptr[nCols+1], rowIndices[nnz], values[nnz], bias[nRows] | null, x[nCols]
 * Output: y[nRows] (preallocated, overwritten)
 * Preconditions: valid CSC structure of the [nRows × nCols] matrix (the CSR form of Wᵀ).
 * Complexity: O(nCols + nRows + nnz_touched), nnz_touched = entries of the non-zero input columns.
 */
export function cscMatvecSkipZeros(
  nRows: number,
  nCols: number,
  colptr: Int32Array,
  rowIndices: Int32Array,
  values: Float32Array,
  bias: Float32Array | null,
  relu: boolean,
  x: FloatArray,
  y: FloatArray,
): void {
  if (bias === null) y.fill(0, 0, nRows);
  else for (let i = 0; i < nRows; i++) y[i] = bias[i]!;
  for (let j = 0; j < nCols; j++) {
    const xj = x[j]!;
    if (xj === 0) continue;
    const end = colptr[j + 1]!;
    for (let p = colptr[j]!; p < end; p++) {
      const i = rowIndices[p]!;
      y[i] = y[i]! + values[p]! * xj;
    }
  }
  if (relu) for (let i = 0; i < nRows; i++) if (y[i]! < 0) y[i] = 0;
}

/**
 * Number of non-zero entries of x[offset .. offset+n) (NaN counts as non-zero): what decides between the
 * gather (CSR) and skip-zeros (CSC) kernels. Complexity: O(n).
 */
export function countNonZeros(n: number, x: FloatArray, offset = 0): number {
  let count = 0;
  const end = offset + n;
  for (let j = offset; j < end; j++) if (x[j] !== 0) count++;
  return count;
}
