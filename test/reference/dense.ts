/**
 * Deliberately naive float64 matrix products: the oracle for the optimized kernels in
 * src/tensor/kernels/gemm.ts. No blocking, no unrolling, no shortcuts: one dot product per output,
 * summed in order p = 0..k-1, in JS doubles.
 */

export interface ReferenceMatmulOptions {
  /** `a` is stored [k×m] and used transposed. */
  transA?: boolean;
  /** `b` is stored [n×k] and used transposed. */
  transB?: boolean;
}

/**
 * C[m×n] = op(A)·op(B) with op(A) m×k and op(B) k×n, all row-major; returns a new Float64Array.
 * `a` is [m×k] (or [k×m] with transA), `b` is [k×n] (or [n×k] with transB).
 */
export function referenceMatmul(
  m: number,
  n: number,
  k: number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: ReferenceMatmulOptions = {},
): Float64Array {
  return referenceProduct(m, n, k, a, b, options, (x, y) => x * y);
}

/**
 * Σ_p |A(i,p)·B(p,j)| for every output: the scale in the standard error bound of a computed dot product,
 * |ĉ − c| ≤ γ_k · Σ|a·b| (Higham, "Accuracy and Stability of Numerical Algorithms", §3.1).
 */
export function referenceAbsMatmul(
  m: number,
  n: number,
  k: number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: ReferenceMatmulOptions = {},
): Float64Array {
  return referenceProduct(m, n, k, a, b, options, (x, y) => Math.abs(x * y));
}

function referenceProduct(
  m: number,
  n: number,
  k: number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  { transA = false, transB = false }: ReferenceMatmulOptions,
  term: (x: number, y: number) => number,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        const aip = transA ? a[p * m + i]! : a[i * k + p]!;
        const bpj = transB ? b[j * k + p]! : b[p * n + j]!;
        sum += term(aip, bpj);
      }
      out[i * n + j] = sum;
    }
  }
  return out;
}
