import { ShapeError, SparseFormatError } from '../errors.ts';

/**
 * A sparse matrix in block sparse row (BSR) form with **4×1 blocks**: four consecutive rows share one
 * column index (scipy's `bsr_matrix` with blocksize (4, 1); XNNPACK's "output-channel blocks of 4").
 * For a Linear weight [out, in] a block is the weight from one input to four neighbouring output neurons,
 * which is what 4×1 block pruning keeps or drops together.
 *
 *   block row r covers rows 4r .. 4r+3; its blocks are b ∈ [indptr[r], indptr[r+1]), in column indices[b];
 *   values[4b + t] is the entry (4r + t, indices[b]).
 *
 * Sizes: `indptr[nBlockRows + 1]` with nBlockRows = ⌈nRows/4⌉, `indices[nBlocks]`, `values[4·nBlocks]`.
 * Rows past nRows in the last block row are padding and hold 0. Column indices increase strictly within a
 * block row (canonical form).
 */
export class BSRMatrix {
  readonly nRows: number;
  readonly nCols: number;
  /** Rows per block (always 4) and columns per block (always 1). */
  readonly blockRows = 4;
  readonly blockCols = 1;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;

  constructor(nRows: number, nCols: number, indptr: Int32Array, indices: Int32Array, values: Float32Array) {
    const nBlockRows = Math.ceil(nRows / 4);
    if (indptr.length !== nBlockRows + 1) throw new SparseFormatError(`BSR indptr has length ${indptr.length}, expected ⌈nRows/4⌉ + 1 = ${nBlockRows + 1}`);
    if (values.length !== 4 * indices.length) throw new SparseFormatError(`BSR values has length ${values.length}, expected 4 × ${indices.length} blocks = ${4 * indices.length}`);
    if (indptr[0] !== 0 || indptr[nBlockRows] !== indices.length) {
      throw new SparseFormatError(`BSR indptr must run from 0 to the block count ${indices.length}, got ${indptr[0]} .. ${indptr[nBlockRows]}`);
    }
    for (let r = 0; r < nBlockRows; r++) {
      const start = indptr[r]!;
      const end = indptr[r + 1]!;
      if (end < start) throw new SparseFormatError(`BSR row pointers are not monotone at block row ${r}`);
      for (let b = start; b < end; b++) {
        const j = indices[b]!;
        if (j < 0 || j >= nCols) throw new SparseFormatError(`BSR column index ${j} at position ${b} is out of range [0, ${nCols})`);
        if (b > start && j <= indices[b - 1]!) throw new SparseFormatError(`BSR block row ${r} has an unsorted or duplicate column index ${j} at position ${b}`);
      }
    }
    this.nRows = nRows;
    this.nCols = nCols;
    this.indptr = indptr;
    this.indices = indices;
    this.values = values;
  }

  get nBlocks(): number {
    return this.indices.length;
  }

  /** Stored entries, explicit zeros inside kept blocks included: 4 per block. */
  get storedEntries(): number {
    return this.values.length;
  }

  /** Bytes of values (4·4/block) + indices (4/block) + indptr. */
  get bytes(): number {
    return this.values.byteLength + this.indices.byteLength + this.indptr.byteLength;
  }
}

/**
 * Packs a dense row-major `data[nRows × nCols]` into 4×1 BSR. A block is kept when any of its four entries
 * is kept: masked in (`mask`, 1 = keep) or, without a mask, |a| > tol (default 0). Kept blocks store all
 * four entries, zeros included, so on unstructured sparsity BSR stores more than CSR; the cost model
 * (inference/cost-model.ts) counts stored entries, not nonzeros. Complexity: O(nRows·nCols).
 */
export function bsrFromDense(data: ArrayLike<number>, nRows: number, nCols: number, options: { mask?: Uint8Array; tol?: number } = {}): BSRMatrix {
  const size = nRows * nCols;
  if (data.length !== size) throw new ShapeError(`bsrFromDense: data has ${data.length} elements, expected ${nRows}×${nCols} = ${size}`);
  const mask = options.mask;
  if (mask !== undefined && mask.length !== size) throw new ShapeError(`bsrFromDense: mask has ${mask.length} elements, expected ${size}`);
  const tol = options.tol ?? 0;
  const keep = (i: number): boolean => (mask !== undefined ? mask[i] !== 0 : Math.abs(data[i]!) > tol);
  const nBlockRows = Math.ceil(nRows / 4);
  const indptr = new Int32Array(nBlockRows + 1);
  const columns: number[] = [];
  for (let r = 0; r < nBlockRows; r++) {
    const rowEnd = Math.min(4 * r + 4, nRows);
    for (let j = 0; j < nCols; j++) {
      let any = false;
      for (let i = 4 * r; i < rowEnd; i++) if (keep(i * nCols + j)) any = true;
      if (any) columns.push(j);
    }
    indptr[r + 1] = columns.length;
  }
  const indices = Int32Array.from(columns);
  const values = new Float32Array(4 * indices.length);
  for (let r = 0; r < nBlockRows; r++) {
    const rowEnd = Math.min(4 * r + 4, nRows);
    for (let b = indptr[r]!; b < indptr[r + 1]!; b++) {
      const j = indices[b]!;
      for (let i = 4 * r; i < rowEnd; i++) if (keep(i * nCols + j)) values[4 * b + (i - 4 * r)] = data[i * nCols + j]!;
    }
  }
  return new BSRMatrix(nRows, nCols, indptr, indices, values);
}

/** The dense row-major `[nRows × nCols]` Float32Array of `a`. */
export function bsrToDense(a: BSRMatrix): Float32Array {
  const out = new Float32Array(a.nRows * a.nCols);
  for (let r = 0; r < a.indptr.length - 1; r++) {
    for (let b = a.indptr[r]!; b < a.indptr[r + 1]!; b++) {
      for (let t = 0; t < 4 && 4 * r + t < a.nRows; t++) out[(4 * r + t) * a.nCols + a.indices[b]!] = a.values[4 * b + t]!;
    }
  }
  return out;
}
