import { validateCsr } from './validate.ts';

/**
 * A sparse matrix in compressed sparse row (CSR) form, in scipy's vocabulary
 * (`Ap/Aj/Ax ⇔ indptr/indices/values`):
 *
 *   the nonzeros of row r are `values[indptr[r] .. indptr[r+1])`, in columns `indices[indptr[r] .. indptr[r+1])`.
 *
 * Sizes: `indptr[nRows + 1]`, `indices[nnz]`, `values[nnz]`. The form is **canonical**: column indices
 * increase strictly within each row (sorted, no duplicates). For a Linear layer the matrix is the weight,
 * stored [outFeatures, inFeatures], so each row holds the incoming weights of one output neuron.
 *
 * Example: [[0, 2], [3, 0]] is `indptr = [0, 1, 2]`, `indices = [1, 0]`, `values = [2, 3]`.
 */
export class CSRMatrix {
  readonly nRows: number;
  readonly nCols: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;

  /** Checks the structure with `validateCsr` (a `SparseFormatError` names the defect) and keeps the arrays (no copy). */
  constructor(nRows: number, nCols: number, indptr: Int32Array, indices: Int32Array, values: Float32Array) {
    validateCsr(nRows, nCols, indptr, indices, values);
    this.nRows = nRows;
    this.nCols = nCols;
    this.indptr = indptr;
    this.indices = indices;
    this.values = values;
  }

  /** Number of stored entries. */
  get nnz(): number {
    return this.indices.length;
  }

  /** nnz / (nRows · nCols); 0 for an empty shape. */
  get density(): number {
    const size = this.nRows * this.nCols;
    return size === 0 ? 0 : this.nnz / size;
  }

  /** Bytes of the three arrays: values (4/entry) + indices (4/entry) + indptr (4·(nRows+1)). */
  get bytes(): number {
    return this.values.byteLength + this.indices.byteLength + this.indptr.byteLength;
  }
}
