import type { FloatArray } from '../tensor.ts';

/*
 * Dense matrix products in the three orientations that training needs, so that backward never
 * materialises a transpose. All matrices are row-major and contiguous.
 *
 *   gemmNN: C[m×n] = A[m×k] · B[k×n]
 *   gemmNT: C[m×n] = A[m×k] · B[n×k]ᵀ     (Linear forward: X · Wᵀ with W stored [out, in])
 *   gemmTN: C[m×n] = A[k×m]ᵀ · B[k×n]     (weight gradient: dYᵀ · X)
 *
 * With `accumulate` the product is added to C, otherwise C is overwritten. C must not alias A or B.
 * Complexity: O(m·n·k) multiply-adds.
 */

export function gemmNN(m: number, n: number, k: number, a: FloatArray, b: FloatArray, c: FloatArray, accumulate = false): void {
  if (!accumulate) c.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const cRow = i * n;
    const aRow = i * k;
    for (let p = 0; p < k; p++) {
      const aip = a[aRow + p]!;
      const bRow = p * n;
      for (let j = 0; j < n; j++) c[cRow + j]! += aip * b[bRow + j]!;
    }
  }
}

export function gemmNT(m: number, n: number, k: number, a: FloatArray, b: FloatArray, c: FloatArray, accumulate = false): void {
  for (let i = 0; i < m; i++) {
    const aRow = i * k;
    for (let j = 0; j < n; j++) {
      const bRow = j * k;
      let acc = 0;
      for (let p = 0; p < k; p++) acc += a[aRow + p]! * b[bRow + p]!;
      c[i * n + j] = accumulate ? c[i * n + j]! + acc : acc;
    }
  }
}

export function gemmTN(m: number, n: number, k: number, a: FloatArray, b: FloatArray, c: FloatArray, accumulate = false): void {
  if (!accumulate) c.fill(0, 0, m * n);
  for (let p = 0; p < k; p++) {
    const aRow = p * m;
    const bRow = p * n;
    for (let i = 0; i < m; i++) {
      const api = a[aRow + i]!;
      const cRow = i * n;
      for (let j = 0; j < n; j++) c[cRow + j]! += api * b[bRow + j]!;
    }
  }
}
