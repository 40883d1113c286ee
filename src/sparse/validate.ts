import { isFloat32Array, isInt32Array } from '../tensor/typed-array.ts';
import { SparseFormatError } from '../errors.ts';

/**
 * Checks a CSR structure that came from outside (a model file, a user) and throws a `SparseFormatError`
 * naming the first defect found:
 *
 * - dimensions that are not non-negative integers;
 * - `indptr.length !== nRows + 1`, `indices.length !== values.length` (both lengths are named);
 * - `indptr[0] !== 0`, `indptr[nRows] !== nnz`;
 * - row pointers that decrease (at row r);
 * - a column index outside [0, nCols) (at position p);
 * - a column index that is not greater than the one before it in the same row (unsorted or duplicate, in row r).
 *
 * Passing means the structure is canonical and every kernel in this module may trust it.
 * Complexity: O(nRows + nnz).
 */
export function validateCsr(nRows: number, nCols: number, indptr: Int32Array, indices: Int32Array, values: Float32Array): void {
  if (!Number.isSafeInteger(nRows) || nRows < 0) throw new SparseFormatError(`CSR nRows must be a non-negative integer, got ${nRows}`);
  if (!Number.isSafeInteger(nCols) || nCols < 0) throw new SparseFormatError(`CSR nCols must be a non-negative integer, got ${nCols}`);
  if (!isInt32Array(indptr)) throw new SparseFormatError('CSR indptr must be an Int32Array');
  if (!isInt32Array(indices)) throw new SparseFormatError('CSR indices must be an Int32Array');
  if (!isFloat32Array(values)) throw new SparseFormatError('CSR values must be a Float32Array');
  if (indptr.length !== nRows + 1) {
    throw new SparseFormatError(`CSR indptr has length ${indptr.length}, expected nRows + 1 = ${nRows + 1}`);
  }
  if (indices.length !== values.length) {
    throw new SparseFormatError(`CSR indices has length ${indices.length} but values has length ${values.length}`);
  }
  const nnz = indices.length;
  if (indptr[0] !== 0) throw new SparseFormatError(`CSR indptr[0] must be 0, got ${indptr[0]}`);
  if (indptr[nRows] !== nnz) throw new SparseFormatError(`CSR indptr[${nRows}] = ${indptr[nRows]} but nnz (indices.length) = ${nnz}`);
  for (let r = 0; r < nRows; r++) {
    if (indptr[r + 1]! < indptr[r]!) {
      throw new SparseFormatError(`CSR row pointers are not monotone at row ${r}: indptr[${r}] = ${indptr[r]} > indptr[${r + 1}] = ${indptr[r + 1]}`);
    }
  }
  for (let r = 0; r < nRows; r++) {
    const start = indptr[r]!;
    const end = indptr[r + 1]!;
    for (let p = start; p < end; p++) {
      const j = indices[p]!;
      if (j < 0 || j >= nCols) throw new SparseFormatError(`CSR column index ${j} at position ${p} is out of range [0, ${nCols})`);
      if (p > start && j <= indices[p - 1]!) {
        const what = j === indices[p - 1]! ? 'a duplicate' : 'an unsorted';
        throw new SparseFormatError(`CSR row ${r} has ${what} column index ${j} at position ${p} (previous ${indices[p - 1]})`);
      }
    }
  }
}
