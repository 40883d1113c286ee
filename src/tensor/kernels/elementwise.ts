import type { FloatArray } from '../tensor.ts';

/*
 * Elementwise kernels. Binary kernels read their operands through optional index maps: `ia[i]` is the
 * element of `a` that output element i uses (null means "the same i"). Broadcasting is resolved into those
 * maps once, outside the loop, so the loops themselves stay simple.
 */

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min';

export function binaryKernel(
  op: BinaryOp,
  n: number,
  a: FloatArray,
  ia: Int32Array | null,
  b: FloatArray,
  ib: Int32Array | null,
  out: FloatArray,
): void {
  if (ia === null && ib === null) {
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!; return;
      case 'sub': for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!; return;
      case 'mul': for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!; return;
      case 'div': for (let i = 0; i < n; i++) out[i] = a[i]! / b[i]!; return;
      case 'max': for (let i = 0; i < n; i++) out[i] = Math.max(a[i]!, b[i]!); return;
      case 'min': for (let i = 0; i < n; i++) out[i] = Math.min(a[i]!, b[i]!); return;
    }
  }
  const ja = ia ?? identityIndex(n);
  const jb = ib ?? identityIndex(n);
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = a[ja[i]!]! + b[jb[i]!]!; return;
    case 'sub': for (let i = 0; i < n; i++) out[i] = a[ja[i]!]! - b[jb[i]!]!; return;
    case 'mul': for (let i = 0; i < n; i++) out[i] = a[ja[i]!]! * b[jb[i]!]!; return;
    case 'div': for (let i = 0; i < n; i++) out[i] = a[ja[i]!]! / b[jb[i]!]!; return;
    case 'max': for (let i = 0; i < n; i++) out[i] = Math.max(a[ja[i]!]!, b[jb[i]!]!); return;
    case 'min': for (let i = 0; i < n; i++) out[i] = Math.min(a[ja[i]!]!, b[jb[i]!]!); return;
  }
}

function identityIndex(n: number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return idx;
}

export type UnaryOp = 'neg' | 'abs' | 'exp' | 'log' | 'sqrt' | 'square' | 'relu' | 'sigmoid' | 'tanh';

export function unaryKernel(op: UnaryOp, n: number, x: FloatArray, out: FloatArray): void {
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) out[i] = -x[i]!; return;
    case 'abs': for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]!); return;
    case 'exp': for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]!); return;
    case 'log': for (let i = 0; i < n; i++) out[i] = Math.log(x[i]!); return;
    case 'sqrt': for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]!); return;
    case 'square': for (let i = 0; i < n; i++) { const v = x[i]!; out[i] = v * v; } return;
    // NOTE: written as a comparison, not Math.max(x, 0), so that NaN propagates instead of becoming 0.
    case 'relu': for (let i = 0; i < n; i++) { const v = x[i]!; out[i] = v > 0 ? v : v === v ? 0 : v; } return;
    case 'sigmoid':
      // Two branches keep exp() from overflowing for large |x|.
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
        else { const e = Math.exp(v); out[i] = e / (1 + e); }
      }
      return;
    case 'tanh': for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]!); return;
  }
}

/** out[i] = x[i] * s (out may be x). */
export function scaleKernel(n: number, x: FloatArray, s: number, out: FloatArray): void {
  for (let i = 0; i < n; i++) out[i] = x[i]! * s;
}

/** y[i]! += alpha * x[i]. */
export function axpyKernel(n: number, alpha: number, x: FloatArray, y: FloatArray): void {
  for (let i = 0; i < n; i++) y[i]! += alpha * x[i]!;
}

/** rows[r, j] += bias[j] for every row of an [nRows, nCols] matrix. */
export function addRowVectorInPlace(nRows: number, nCols: number, rows: FloatArray, bias: FloatArray): void {
  for (let r = 0; r < nRows; r++) {
    const base = r * nCols;
    for (let j = 0; j < nCols; j++) rows[base + j]! += bias[j]!;
  }
}
