import type { FloatArray } from '../../tensor/tensor.ts';

/**
 * bsrMatvec: 4×1-block sparse matrix × dense vector, y = act(W·x + b), for W in BSRMatrix form.
 *
 *   for block row r (rows 4r..4r+3) and block b in it, with j = indices[b]:
 *     y[4r + t] += values[4b + t] · x[j]          t = 0..3;  then y = act(y + bias)
 *
 * Sizes:  indptr[⌈nRows/4⌉+1], indices[nBlocks], values[4·nBlocks], bias[nRows] | null, x[nCols]
 * Output: y[nRows]  (preallocated; overwritten; padding rows of the last block row are not written)
 * Preconditions: a valid BSRMatrix.  Complexity: O(4·nBlocks + nRows).
 *
 * Per block: one index, one x gather and four contiguous weights feed four independent accumulators,
 * against CSR's one index + one gather per multiply-add: the register reuse that output-channel blocks give
 * XNNPACK's sparse kernels (Elsen et al. 2020). It pays only when the weights were pruned in 4×1 blocks.
 */
export function bsrMatvec(
  nRows: number,
  indptr: Int32Array,
  indices: Int32Array,
  values: Float32Array,
  bias: Float32Array | null,
  relu: boolean,
  x: FloatArray,
  y: FloatArray,
): void {
  const nBlockRows = indptr.length - 1;
  for (let r = 0; r < nBlockRows; r++) {
    const i = r << 2;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const end = indptr[r + 1]!;
    for (let b = indptr[r]!; b < end; b++) {
      const xj = x[indices[b]!]!;
      const v = b << 2;
      a0 += values[v]! * xj;
      a1 += values[v + 1]! * xj;
      a2 += values[v + 2]! * xj;
      a3 += values[v + 3]! * xj;
    }
    storeFour(nRows, i, bias, relu, a0, a1, a2, a3, y, i, 1);
  }
}

/**
 * Writes the four outputs of block row starting at row i: y[base + t·stride] = act(a_t + bias[i+t]),
 * skipping rows ≥ nRows (the padding of the last block row). Shared by the BSR kernels.
 */
export function storeFour(
  nRows: number, i: number, bias: Float32Array | null, relu: boolean,
  a0: number, a1: number, a2: number, a3: number, y: FloatArray, base: number, stride: number,
): void {
  if (i + 3 < nRows) {
    if (bias !== null) {
      a0 += bias[i]!;
      a1 += bias[i + 1]!;
      a2 += bias[i + 2]!;
      a3 += bias[i + 3]!;
    }
    y[base] = relu && a0 < 0 ? 0 : a0;
    y[base + stride] = relu && a1 < 0 ? 0 : a1;
    y[base + 2 * stride] = relu && a2 < 0 ? 0 : a2;
    y[base + 3 * stride] = relu && a3 < 0 ? 0 : a3;
    return;
  }
  // The last block row, partly padding: write only the rows that exist (no loop, no temporary array).
  const b0 = bias === null ? 0 : bias[i]!;
  const s0 = a0 + b0;
  y[base] = relu && s0 < 0 ? 0 : s0;
  if (i + 1 < nRows) {
    const s1 = a1 + (bias === null ? 0 : bias[i + 1]!);
    y[base + stride] = relu && s1 < 0 ? 0 : s1;
  }
  if (i + 2 < nRows) {
    const s2 = a2 + (bias === null ? 0 : bias[i + 2]!);
    y[base + 2 * stride] = relu && s2 < 0 ? 0 : s2;
  }
}
