import { isFloat64Array } from '../../tensor/typed-array.ts';
import type { FloatArray } from '../../tensor/tensor.ts';

/*
 * The rule compiled inference follows for non-finite inputs (see inference/model.ts): a sample whose input
 * holds a NaN or ±Infinity gets NaN for every output, whichever kernel or backend runs it. Without the rule
 * the answer would depend on the kernel: a dense kernel multiplies the NaN by every weight, pruned ones
 * included, and spreads it to every output, while a sparse kernel never reads the pruned weights, so a NaN
 * in an input whose column is fully pruned would vanish — and the kernel depends on the batch size.
 */

/**
 * flags[i] = 1 when row i of x [nRows × nCols] (row-major) holds a NaN or ±Infinity once stored as float32,
 * else 0; returns how many rows are flagged. A Float64Array value beyond the float32 range counts as
 * ±Infinity, as it becomes one in the float32 backends, so every backend flags the same samples.
 * Float32 rows take a fast path: their sum in float64 cannot overflow, so it is finite exactly when every
 * entry is. Sizes: x[nRows·nCols], flags[nRows] (overwritten). Complexity: O(nRows·nCols).
 */
export function flagNonFiniteRows(nRows: number, nCols: number, x: FloatArray, flags: Uint8Array): number {
  const float64 = isFloat64Array(x);
  let flagged = 0;
  for (let i = 0; i < nRows; i++) {
    const start = i * nCols;
    const end = start + nCols;
    const bad = float64 ? !float32Finite(x, start, end) : !Number.isFinite(rowSum(x, start, end));
    flags[i] = bad ? 1 : 0;
    if (bad) flagged++;
  }
  return flagged;
}

/**
 * flags[i] = 1 when sums[i], the float64 sum of a row of float32 values, is not finite (exactly when the row
 * holds a NaN or ±Infinity, see flagNonFiniteRows); returns how many. For a caller that summed the rows in a
 * pass it made anyway — or probed them (the SIMD backends' nonFiniteProbe: Σ x·0, ±0 or NaN). Sizes:
 * sums[nRows], flags[nRows]. Complexity: O(nRows).
 */
export function flagNonFiniteSums(nRows: number, sums: ArrayLike<number>, flags: Uint8Array): number {
  let flagged = 0;
  for (let i = 0; i < nRows; i++) {
    const bad = !Number.isFinite(sums[i]!);
    flags[i] = bad ? 1 : 0;
    if (bad) flagged++;
  }
  return flagged;
}

/** Σ x[start..end) in float64, in two independent sums (half the add-latency chain of one). */
function rowSum(x: FloatArray, start: number, end: number): number {
  let a0 = 0;
  let a1 = 0;
  let j = start;
  for (; j + 1 < end; j += 2) {
    a0 += x[j]!;
    a1 += x[j + 1]!;
  }
  if (j < end) a0 += x[j]!;
  return a0 + a1;
}

function float32Finite(x: FloatArray, start: number, end: number): boolean {
  for (let j = start; j < end; j++) if (!Number.isFinite(Math.fround(x[j]!))) return false;
  return true;
}

/** Row i of y [nRows × nCols] := NaN for every i with flags[i] ≠ 0. Complexity: O(nRows + flagged·nCols). */
export function fillFlaggedRowsNaN(nRows: number, nCols: number, flags: Uint8Array, y: FloatArray): void {
  for (let i = 0; i < nRows; i++) if (flags[i] !== 0) y.fill(NaN, i * nCols, (i + 1) * nCols);
}
