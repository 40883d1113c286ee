/*
 * csrMatmulPanel: the batched kernel of a sparse Linear layer, Y = act(X·Wᵀ + b), on activations stored
 * **feature-major in panels** (the layout of XNNPACK's sparse inference, Elsen et al. 2020):
 *
 *   a panel of `width` samples stores x[j, t] (feature j, sample t of the panel) at x[j·width + t];
 *   y[i·width + t] = act( bias[i] + Σ_{p ∈ row i} values[p] · x[indices[p]·width + t] )   for i < nRows, t < width
 *
 * Sizes:  indptr[nRows+1], indices[nnz], values[nnz], bias[nRows] | null, x[nCols·width] (a Float64Array)
 * Output: y[nRows·width]  (preallocated; overwritten, never read)
 * Preconditions: valid CSR (validateCsr).  Complexity: O(width·nnz + width·nRows).
 *
 * Why this shape: for each nonzero w_ij the `width` samples of feature j sit next to each other, so one
 * (index, value) load feeds `width` multiply-adds into `width` register accumulators, the x reads are one
 * contiguous run, and every output is stored once. Alternatives measured on 300×784 at batch 64/256: one
 * row-dot per sample, 4 samples per pass (csrMatmulRows), plain feature-major [features × batch] with
 * 8/16-wide register blocks (strided x rows, worse at batch 256), panels of 4/8/16 in Float32 and Float64
 * (bench/sparse.ts keeps the row-dot, 4-per-pass and 4/8/16-panel comparison in its "alternatives" table).
 * 16-wide Float64 panels won or tied everywhere: a 16·784·8-byte panel (100 KB) stays in L2, and float64
 * storage saves the float32→float64 conversion on each x load. Row-blocking W for cache made no
 * measurable difference (the 90 %-sparse 300×784 CSR is 188 KB): the kernel is bound by instruction count
 * (one x load with its bounds check per multiply-add), not by memory traffic.
 * Width 8 and 4 panels serve batch tails; width 1 is csrMatvec.
 */
import { csrMatvec } from './csr-matvec.ts';

/**
 * One panel of any width: 16, 8 and 4 use the register-blocked loops above, 1 is csrMatvec, and other widths
 * (which `panelWidths` never produces) fall back to one strided pass per sample.
 */
export function csrMatmulPanel(
  nRows: number,
  width: number,
  indptr: Int32Array,
  indices: Int32Array,
  values: Float32Array,
  bias: Float32Array | null,
  relu: boolean,
  x: Float64Array,
  y: Float64Array,
): void {
  switch (width) {
    case 16: return csrMatmulPanel16(nRows, indptr, indices, values, bias, relu, x, y);
    case 8: return csrMatmulPanel8(nRows, indptr, indices, values, bias, relu, x, y);
    case 4: return csrMatmulPanel4(nRows, indptr, indices, values, bias, relu, x, y);
    case 1: return csrMatvec(nRows, indptr, indices, values, bias, relu, x, y);
  }
  for (let t = 0; t < width; t++) {
    for (let i = 0; i < nRows; i++) {
      let acc = bias === null ? 0 : bias[i]!;
      const end = indptr[i + 1]!;
      for (let p = indptr[i]!; p < end; p++) acc += values[p]! * x[indices[p]! * width + t]!;
      y[i * width + t] = relu && acc < 0 ? 0 : acc;
    }
  }
}

/** Width-16 panel: 16 batch columns held in 16 accumulators. See the file header. */
export function csrMatmulPanel16(
  nRows: number,
  indptr: Int32Array,
  indices: Int32Array,
  values: Float32Array,
  bias: Float32Array | null,
  relu: boolean,
  x: Float64Array,
  y: Float64Array,
): void {
  for (let i = 0; i < nRows; i++) {
    const b = bias === null ? 0 : bias[i]!;
    let a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b, a8 = b, a9 = b, a10 = b, a11 = b, a12 = b, a13 = b, a14 = b, a15 = b;
    const end = indptr[i + 1]!;
    for (let p = indptr[i]!; p < end; p++) {
      const v = values[p]!;
      const q = indices[p]! << 4;
      a0 += v * x[q]!;
      a1 += v * x[q + 1]!;
      a2 += v * x[q + 2]!;
      a3 += v * x[q + 3]!;
      a4 += v * x[q + 4]!;
      a5 += v * x[q + 5]!;
      a6 += v * x[q + 6]!;
      a7 += v * x[q + 7]!;
      a8 += v * x[q + 8]!;
      a9 += v * x[q + 9]!;
      a10 += v * x[q + 10]!;
      a11 += v * x[q + 11]!;
      a12 += v * x[q + 12]!;
      a13 += v * x[q + 13]!;
      a14 += v * x[q + 14]!;
      a15 += v * x[q + 15]!;
    }
    const o = i << 4;
    y[o] = relu && a0 < 0 ? 0 : a0;
    y[o + 1] = relu && a1 < 0 ? 0 : a1;
    y[o + 2] = relu && a2 < 0 ? 0 : a2;
    y[o + 3] = relu && a3 < 0 ? 0 : a3;
    y[o + 4] = relu && a4 < 0 ? 0 : a4;
    y[o + 5] = relu && a5 < 0 ? 0 : a5;
    y[o + 6] = relu && a6 < 0 ? 0 : a6;
    y[o + 7] = relu && a7 < 0 ? 0 : a7;
    y[o + 8] = relu && a8 < 0 ? 0 : a8;
    y[o + 9] = relu && a9 < 0 ? 0 : a9;
    y[o + 10] = relu && a10 < 0 ? 0 : a10;
    y[o + 11] = relu && a11 < 0 ? 0 : a11;
    y[o + 12] = relu && a12 < 0 ? 0 : a12;
    y[o + 13] = relu && a13 < 0 ? 0 : a13;
    y[o + 14] = relu && a14 < 0 ? 0 : a14;
    y[o + 15] = relu && a15 < 0 ? 0 : a15;
  }
}

/** Width-8 panel: 8 batch columns held in 8 accumulators. See the file header. */
export function csrMatmulPanel8(
  nRows: number,
  indptr: Int32Array,
  indices: Int32Array,
  values: Float32Array,
  bias: Float32Array | null,
  relu: boolean,
  x: Float64Array,
  y: Float64Array,
): void {
  for (let i = 0; i < nRows; i++) {
    const b = bias === null ? 0 : bias[i]!;
    let a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b;
    const end = indptr[i + 1]!;
    for (let p = indptr[i]!; p < end; p++) {
      const v = values[p]!;
      const q = indices[p]! << 3;
      a0 += v * x[q]!;
      a1 += v * x[q + 1]!;
      a2 += v * x[q + 2]!;
      a3 += v * x[q + 3]!;
      a4 += v * x[q + 4]!;
      a5 += v * x[q + 5]!;
      a6 += v * x[q + 6]!;
      a7 += v * x[q + 7]!;
    }
    const o = i << 3;
    y[o] = relu && a0 < 0 ? 0 : a0;
    y[o + 1] = relu && a1 < 0 ? 0 : a1;
    y[o + 2] = relu && a2 < 0 ? 0 : a2;
    y[o + 3] = relu && a3 < 0 ? 0 : a3;
    y[o + 4] = relu && a4 < 0 ? 0 : a4;
    y[o + 5] = relu && a5 < 0 ? 0 : a5;
    y[o + 6] = relu && a6 < 0 ? 0 : a6;
    y[o + 7] = relu && a7 < 0 ? 0 : a7;
  }
}

/** Width-4 panel: 4 batch columns held in 4 accumulators. See the file header. */
export function csrMatmulPanel4(
  nRows: number,
  indptr: Int32Array,
  indices: Int32Array,
  values: Float32Array,
  bias: Float32Array | null,
  relu: boolean,
  x: Float64Array,
  y: Float64Array,
): void {
  for (let i = 0; i < nRows; i++) {
    const b = bias === null ? 0 : bias[i]!;
    let a0 = b, a1 = b, a2 = b, a3 = b;
    const end = indptr[i + 1]!;
    for (let p = indptr[i]!; p < end; p++) {
      const v = values[p]!;
      const q = indices[p]! << 2;
      a0 += v * x[q]!;
      a1 += v * x[q + 1]!;
      a2 += v * x[q + 2]!;
      a3 += v * x[q + 3]!;
    }
    const o = i << 2;
    y[o] = relu && a0 < 0 ? 0 : a0;
    y[o + 1] = relu && a1 < 0 ? 0 : a1;
    y[o + 2] = relu && a2 < 0 ? 0 : a2;
    y[o + 3] = relu && a3 < 0 ? 0 : a3;
  }
}
