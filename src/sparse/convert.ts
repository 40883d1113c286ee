import { ShapeError } from '../errors.ts';
import { CSRMatrix } from './csr-matrix.ts';

/** How `csrFromDense` decides which entries to keep. */
export interface CsrFromDenseOptions {
  /** 1 = keep the entry (even if it is 0), 0 = drop it; length nRows·nCols. Takes precedence over `tol`. */
  mask?: Uint8Array;
  /** Keep entries with |a| > tol (default 0: keep every nonzero). */
  tol?: number;
}

/**
 * Compresses a dense row-major matrix `data[nRows × nCols]` into canonical CSR.
 * With a `mask` exactly the masked-in entries are stored (explicit zeros included, so the structure is the
 * mask's); otherwise the entries with |a| > tol. Complexity: two passes, O(nRows·nCols).
 */
export function csrFromDense(data: ArrayLike<number>, nRows: number, nCols: number, options: CsrFromDenseOptions = {}): CSRMatrix {
  if (!Number.isSafeInteger(nRows) || nRows < 0 || !Number.isSafeInteger(nCols) || nCols < 0) {
    throw new ShapeError(`csrFromDense: dimensions must be non-negative integers, got ${nRows}×${nCols}`);
  }
  const size = nRows * nCols;
  if (data.length !== size) throw new ShapeError(`csrFromDense: data has ${data.length} elements, expected ${nRows}×${nCols} = ${size}`);
  const mask = options.mask;
  if (mask !== undefined && mask.length !== size) {
    throw new ShapeError(`csrFromDense: mask has ${mask.length} elements, expected ${nRows}×${nCols} = ${size}`);
  }
  const tol = options.tol ?? 0;
  const keep = (i: number): boolean => (mask !== undefined ? mask[i] !== 0 : Math.abs(data[i]!) > tol);

  const indptr = new Int32Array(nRows + 1);
  for (let r = 0; r < nRows; r++) {
    let count = 0;
    for (let c = 0; c < nCols; c++) if (keep(r * nCols + c)) count++;
    indptr[r + 1] = indptr[r]! + count;
  }
  const nnz = indptr[nRows]!;
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let p = 0;
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) {
      const i = r * nCols + c;
      if (keep(i)) {
        indices[p] = c;
        values[p] = data[i]!;
        p++;
      }
    }
  }
  return new CSRMatrix(nRows, nCols, indptr, indices, values);
}

/** The dense row-major `[nRows × nCols]` Float32Array of `a`. Complexity: O(nRows·nCols + nnz). */
export function csrToDense(a: CSRMatrix): Float32Array {
  const out = new Float32Array(a.nRows * a.nCols);
  for (let r = 0; r < a.nRows; r++) {
    const end = a.indptr[r + 1]!;
    for (let p = a.indptr[r]!; p < end; p++) out[r * a.nCols + a.indices[p]!] = a.values[p]!;
  }
  return out;
}

/**
 * Aᵀ in CSR, which is A in CSC (compressed sparse column): the same counting sort as scipy's `csr_tocsc`.
 * Walking A's rows in order leaves the column indices of Aᵀ sorted, so the result is canonical.
 * Complexity: O(nRows + nCols + nnz).
 */
export function csrTranspose(a: CSRMatrix): CSRMatrix {
  const { nRows, nCols, indptr, indices, values } = a;
  const nnz = indices.length;
  const tIndptr = new Int32Array(nCols + 1);
  for (let p = 0; p < nnz; p++) tIndptr[indices[p]! + 1]!++;
  for (let c = 0; c < nCols; c++) tIndptr[c + 1]! += tIndptr[c]!;
  const next = tIndptr.slice(0, nCols);
  const tIndices = new Int32Array(nnz);
  const tValues = new Float32Array(nnz);
  for (let r = 0; r < nRows; r++) {
    const end = indptr[r + 1]!;
    for (let p = indptr[r]!; p < end; p++) {
      const c = indices[p]!;
      const q = next[c]!++;
      tIndices[q] = r;
      tValues[q] = values[p]!;
    }
  }
  return new CSRMatrix(nCols, nRows, tIndptr, tIndices, tValues);
}
