import type { FloatArray } from '../../tensor/tensor.ts';

/**
 * csrMatvec: sparse matrix × dense vector (SpMV), the batch-1 kernel of a sparse Linear layer.
 *
 *   y[i] = act( bias[i] + Σ_{p ∈ [indptr[i], indptr[i+1])} values[p] · x[indices[p]] )   for i < nRows
 *   act  = max(·, 0) when `relu`, identity otherwise; bias = 0 when `bias` is null.
 *
 * Sizes:  indptr[nRows+1], indices[nnz], values[nnz], bias[nRows] | null, x[nCols]
 * Output: y[nRows]  (preallocated; overwritten, never read)
 * Preconditions: the CSR structure is valid (validateCsr), so every x[indices[p]] is in range.
 * Complexity: O(nnz + nRows); every nonzero is one multiply-add, every x element a random gather.
 *
 * The row sum is split over 4 accumulators with the loop unrolled by 8: one accumulator would make every
 * add wait for the previous one (a ~3-4 cycle chain), which was the bottleneck of the plain loop. The
 * partial sums are JS doubles, so accumulation is in float64 (scipy's csr_matvec sums in float32).
 * Measured on 300×784 while choosing (interleaved rounds, 50–98 % sparsity): 8-unroll with 4 accumulators
 * was the best or tied with 1, 2 and 4 accumulators; Uint16 column indices were 5–15 % slower than Int32,
 * Float64 values did not help, and padding rows to a multiple of 8 or packing two 16-bit indices per
 * Int32 load gave ≤ 10 %, inside the noise. What remains is the instruction count of the three loads per
 * multiply-add (index, value, gathered x), each with a bounds check.
 */
export function csrMatvec(
  nRows: number,
  indptr: Int32Array,
  indices: Int32Array,
  values: Float32Array,
  bias: Float32Array | null,
  relu: boolean,
  x: FloatArray,
  y: FloatArray,
): void {
  for (let i = 0; i < nRows; i++) {
    const sum = csrRowDot(indptr[i]!, indptr[i + 1]!, indices, values, x, bias === null ? 0 : bias[i]!);
    y[i] = relu && sum < 0 ? 0 : sum;
  }
}

/**
 * init + Σ_{p ∈ [start, end)} values[p] · x[indices[p]]: one row of csrMatvec, as its own small function so
 * the kernel reads like the math (V8 inlines it). Paired runs against the same loops written inline were
 * within this machine's run-to-run noise (±30 %), sometimes faster, never consistently slower.
 */
function csrRowDot(start: number, end: number, indices: Int32Array, values: Float32Array, x: FloatArray, init: number): number {
  let a0 = init;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let p = start;
  for (; p + 7 < end; p += 8) {
    a0 += values[p]! * x[indices[p]!]! + values[p + 4]! * x[indices[p + 4]!]!;
    a1 += values[p + 1]! * x[indices[p + 1]!]! + values[p + 5]! * x[indices[p + 5]!]!;
    a2 += values[p + 2]! * x[indices[p + 2]!]! + values[p + 6]! * x[indices[p + 6]!]!;
    a3 += values[p + 3]! * x[indices[p + 3]!]! + values[p + 7]! * x[indices[p + 7]!]!;
  }
  for (; p < end; p++) a0 += values[p]! * x[indices[p]!]!;
  return a0 + a1 + (a2 + a3);
}
