/**
 * The sparsity structure of a CSR matrix as relative indices (Deep Compression, section 2): the stored entries
 * are visited in row-major order, and each one is written as its distance ("gap") from the previous one in the
 * flattened matrix (position = row·cols + column; the first gap counts from position −1). With b-bit symbols:
 *
 *     symbol g ∈ [1, 2^b − 1]   the next entry is g positions after the previous one
 *     symbol 0                  a filler: advance 2^b − 1 positions with no entry (a gap too large for b bits)
 *
 * so a gap G is ⌊(G − 1) / (2^b − 1)⌋ fillers and then the symbol G − fillers·(2^b − 1). Row pointers are not
 * stored at all: they follow from the positions. Fillers carry no value (Deep Compression pads them with a
 * zero weight; leaving the weight out is smaller). A stream is valid only in this canonical form: it may not
 * end with a filler, and its last entry must lie inside the matrix ("gaps that overrun the matrix").
 * Cost: O(nnz + fillers) both ways.
 */

import { ModelFormatError } from '../../errors.ts';

/** The gap symbols of a CSR structure with `bits`-bit symbols (1…8). */
export function gapSymbols(nRows: number, nCols: number, indptr: Int32Array, indices: Int32Array, bits: number): Uint8Array {
  const maxGap = 2 ** bits - 1;
  const symbols: number[] = [];
  let previous = -1;
  for (let r = 0; r < nRows; r++) {
    for (let k = indptr[r] as number; k < (indptr[r + 1] as number); k++) {
      const position = r * nCols + (indices[k] as number);
      let gap = position - previous;
      while (gap > maxGap) {
        symbols.push(0);
        gap -= maxGap;
      }
      symbols.push(gap);
      previous = position;
    }
  }
  return Uint8Array.from(symbols);
}

/** How many symbols gapSymbols would write, without writing them (to choose the bit width). */
export function countGapSymbols(nRows: number, nCols: number, indptr: Int32Array, indices: Int32Array, bits: number, histogram?: Float64Array): number {
  const maxGap = 2 ** bits - 1;
  let count = 0;
  let previous = -1;
  for (let r = 0; r < nRows; r++) {
    for (let k = indptr[r] as number; k < (indptr[r + 1] as number); k++) {
      const position = r * nCols + (indices[k] as number);
      const gap = position - previous;
      const fillers = Math.floor((gap - 1) / maxGap);
      count += fillers + 1;
      if (histogram !== undefined) {
        histogram[0]! += fillers;
        histogram[gap - fillers * maxGap]! += 1;
      }
      previous = position;
    }
  }
  return count;
}

/**
 * Rebuilds row pointers and column indices from gap symbols, checking that the stream is canonical and stays
 * inside the [nRows × nCols] matrix. Returns them with the entry count. ModelFormatError('E_BAD_GAPS') naming `what`.
 */
export function structureFromGaps(symbols: Uint8Array, nRows: number, nCols: number, bits: number, what: string): { indptr: Int32Array; indices: Int32Array } {
  const maxGap = 2 ** bits - 1;
  const size = nRows * nCols;
  let entries = 0;
  for (let i = 0; i < symbols.length; i++) {
    if ((symbols[i] as number) > maxGap) throw new ModelFormatError('E_BAD_GAPS', `${what}: symbol ${i} is ${symbols[i]}, more than ${bits} bits hold`);
    if (symbols[i] !== 0) entries++;
  }
  if (symbols.length > 0 && symbols[symbols.length - 1] === 0) throw new ModelFormatError('E_BAD_GAPS', `${what}: the gap stream ends with a filler, which leads to no entry`);
  const indptr = new Int32Array(nRows + 1);
  const indices = new Int32Array(entries);
  let position = -1;
  let k = 0;
  let row = 0;
  for (let i = 0; i < symbols.length; i++) {
    const symbol = symbols[i] as number;
    position += symbol === 0 ? maxGap : symbol;
    if (position >= size) {
      throw new ModelFormatError('E_BAD_GAPS', `${what}: gap symbol ${i} reaches position ${position}, past the end of the ${nRows}x${nCols} matrix (the gaps overrun it)`);
    }
    if (symbol === 0) continue;
    const entryRow = Math.floor(position / nCols);
    while (row < entryRow) indptr[++row] = k;
    indices[k++] = position - entryRow * nCols;
  }
  while (row < nRows) indptr[++row] = k;
  return { indptr, indices };
}
