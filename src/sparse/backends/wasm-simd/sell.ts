import { ShapeError } from '../../../errors.ts';

/*
 * SELL-4 ("sliced ELLPACK", slices of 4 rows; Kreutzer et al., SIAM J. Sci. Comput. 2014): the form of a
 * sparse W that lets a batch-1 product run four output rows in the four lanes of one f32x4 vector
 * (sellMatvec, kernels-sell.ts). A CSR product at batch 1 is a scalar gather per nonzero; here one slot holds
 * one nonzero of each of 4 rows, so one vector multiply-add serves 4 rows and the 4 gathered inputs are loaded
 * into lanes. Measured on 300×784 at 90 % sparsity: 2.9× the dense SIMD matvec, against 1.65× for the scalar
 * CSR gather (experiments/simd-spmv-probe.ts).
 *
 * Rows are sorted by their number of nonzeros (longest first, ties by index), so the 4 rows of a slice have
 * nearly equal lengths and few slots are padding (0–2 % on random masks). A slice is as long as its longest
 * row; a shorter row is padded with weight 0 at its own last column, so padding never reads an input the row
 * does not read (a NaN input stays in the rows that use it; a row that reads ±Infinity may give NaN instead
 * of ±Infinity, which the model's non-finite rule makes NaN anyway). Empty rows come last, in slices of their
 * own (width 0: bias and activation only). A last slice with fewer than 4 rows repeats its last row in the
 * missing lanes: the same value is computed and stored twice.
 *
 * Memory: one 24-byte slot per 4 stored entries (4 × u16 column·4, then 4 × f32), plus 16 bytes per slice:
 * about CSR's size. The u16 offsets limit the input width to SELL_MAX_INPUTS.
 */

/** The widest input a SELL-4 form can address: column·4 must fit in 16 bits. */
export const SELL_MAX_INPUTS = 16384;

/** Bytes per slot: 4 u16 column offsets (8 bytes), then 4 float32 weights (16 bytes). */
export const SELL_SLOT_BYTES = 24;

/** W [nRows × nCols] in SELL-4 form, as sellMatvec reads it. */
export interface SellMatrix {
  readonly nSlices: number;
  /** i32[nSlices + 1]: byte offset of each slice's first slot in `slots` (the last entry = its length). */
  readonly slicePtr: Int32Array;
  /** i32[4·nSlices]: row·4, the byte offset in y (and bias) of each lane's output row. */
  readonly rowOffsets: Int32Array;
  /** The slots, SELL_SLOT_BYTES each. */
  readonly slots: Uint8Array;
}

/**
 * Rows in slices of `width` lanes, the order of sliced forms (SELL-4 here, the int8 swizzle form): sorted by
 * `length` (longest first, ties by index), the non-empty rows' slices first, then the empty rows'; each
 * group's last slice is padded by repeating the group's last row, and `repeated` marks those lanes.
 */
export function sliceLanes(nRows: number, length: (row: number) => number, width: number): { lanes: number[]; repeated: boolean[] } {
  const order = Array.from({ length: nRows }, (_, i) => i).sort((a, b) => length(b) - length(a) || a - b);
  const nonEmpty = order.findIndex((row) => length(row) === 0);
  const filled = nonEmpty < 0 ? nRows : nonEmpty;
  const lanes: number[] = [];
  const repeated: boolean[] = [];
  for (const [from, to] of [[0, filled], [filled, nRows]] as const) {
    for (let i = from; i < to; i += width) {
      for (let t = 0; t < width; t++) {
        lanes.push(order[Math.min(i + t, to - 1)]!);
        repeated.push(i + t >= to);
      }
    }
  }
  return { lanes, repeated };
}

/**
 * The SELL-4 form of a CSR matrix (nRows ≥ 0, nCols ≤ SELL_MAX_INPUTS; throws ShapeError beyond).
 * O(nnz + nRows·log nRows).
 */
export function sellFromCsr(csr: { nRows: number; nCols: number; indptr: Int32Array; indices: Int32Array; values: Float32Array }): SellMatrix {
  const { nRows, nCols, indptr, indices, values } = csr;
  if (nCols > SELL_MAX_INPUTS) throw new ShapeError(`sellFromCsr: ${nCols} inputs, at most ${SELL_MAX_INPUTS} fit the 16-bit column offsets`);
  const length = (row: number): number => indptr[row + 1]! - indptr[row]!;
  const { lanes } = sliceLanes(nRows, length, 4);
  const nSlices = lanes.length / 4;
  const slicePtr = new Int32Array(nSlices + 1);
  for (let s = 0; s < nSlices; s++) slicePtr[s + 1] = slicePtr[s]! + SELL_SLOT_BYTES * length(lanes[4 * s]!);
  const slots = new Uint8Array(slicePtr[nSlices]!);
  const view = new DataView(slots.buffer);
  for (let s = 0; s < nSlices; s++) {
    const width = (slicePtr[s + 1]! - slicePtr[s]!) / SELL_SLOT_BYTES;
    for (let t = 0; t < 4; t++) {
      const row = lanes[4 * s + t]!;
      const start = indptr[row]!;
      const n = length(row);
      for (let k = 0; k < width; k++) {
        const at = slicePtr[s]! + SELL_SLOT_BYTES * k;
        const real = k < n;
        view.setUint16(at + 2 * t, 4 * indices[real ? start + k : start + n - 1]!, true);
        view.setFloat32(at + 8 + 4 * t, real ? values[start + k]! : 0, true);
      }
    }
  }
  return { nSlices, slicePtr, rowOffsets: Int32Array.from(lanes, (row) => 4 * row), slots };
}
