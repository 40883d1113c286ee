import { ShapeError } from '../../../errors.ts';
import { sliceLanes } from '../wasm-simd/sell.ts';

/*
 * The swizzle form of a sparse int8 W: the layout of the int8 backend's batch-1 kernel
 * (kernels-int8-swizzle.ts). A batch-1 sparse product is bound by its gathers: the float kernels load one
 * input per stored weight. With 8-bit activation codes, 16 consecutive inputs fit in one v128, and
 * i8x16.swizzle picks any of them for each of its 16 lanes in one instruction: a gather from a register.
 *
 * Rows are sorted by their number of entries (longest first, ties by index) and taken 8 at a time (a slice).
 * A slot serves one window of 16 consecutive columns: lanes 2t and 2t+1 hold up to two entries of the
 * slice's row t inside the window (i32x4.dot_i16x8_s then adds each row's two products into its own int32
 * lane). Slots are filled greedily: each window starts at the smallest column any row of the slice still has
 * to serve, and every row puts its next (at most two) entries there if they fall inside it; so every slot
 * serves at least one entry, and rows take their entries in column order. On random 300×784 masks this
 * needs 27 % fewer slots than windows fixed at multiples of 16 (2,654 against 3,640 at 90 % sparsity;
 * `npx tsx experiments/int8-swizzle-probe.ts`).
 * An unused lane has index 0 and weight 0: it reads a code of its own window and adds an exact zero.
 * Empty rows come last, in slices without slots (bias and activation only). A last slice with fewer than 8
 * rows repeats its last row in the missing lanes, without entries; the kernel stores lanes from 7 down to 0,
 * so the real lane writes last.
 *
 * Memory: 64 bytes per slot (16 lane indices, 16 int16 weights, the window's first column, 12 bytes of
 * padding to a cache line) plus 4 bytes per slice and, once placed, 12 per lane (its row, scale and bias in
 * lane order): ≈ 7.5 bytes per entry at 90 % sparsity.
 */

/** Rows per slice: the 8 int32 lanes of two i32x4.dot_i16x8_s results. */
export const SWIZZLE_ROWS = 8;

/** Columns per window: the 16 bytes of one v128 of int8 codes. */
export const SWIZZLE_WINDOW = 16;

/** Bytes per slot: 16 lane indices (0–15 within the window), 16 int16 weights, i32 first column, 12 unused. */
export const SWIZZLE_SLOT_BYTES = 64;

/** W [nRows × nCols] in swizzle form, as swizzleInt8Matvec reads it. */
export interface SwizzleMatrix {
  readonly nSlices: number;
  /** i32[nSlices + 1]: byte offset of each slice's first slot in `slots` (the last entry = its length). */
  readonly slicePtr: Int32Array;
  /** The slots, SWIZZLE_SLOT_BYTES each, slice by slice. */
  readonly slots: Uint8Array;
  /** The output row of each lane: i32[8·nSlices], lane t of slice s at 8s + t. */
  readonly rows: Int32Array;
}

/**
 * The swizzle form of a CSR matrix whose stored values are the int8 `codes` (as many as the stored entries).
 * O(nnz·log nnz + nRows·log nRows + 8·slots).
 */
export function swizzleFromCsr(csr: { nRows: number; indptr: Int32Array; indices: Int32Array }, codes: Int8Array): SwizzleMatrix {
  const { nRows, indptr, indices } = csr;
  if (codes.length !== indptr[nRows]) throw new ShapeError(`swizzleFromCsr: ${codes.length} codes for ${indptr[nRows]} stored entries`);
  const length = (row: number): number => indptr[row + 1]! - indptr[row]!;
  const { lanes: rows, repeated } = sliceLanes(nRows, length, SWIZZLE_ROWS);
  const nSlices = rows.length / SWIZZLE_ROWS;
  const slicePtr = new Int32Array(nSlices + 1);
  const out = new SlotWriter();
  for (let s = 0; s < nSlices; s++) {
    // Each lane's entries in column order (positions in the CSR arrays), and how many it has served.
    const pending = Array.from({ length: SWIZZLE_ROWS }, (_, t) => {
      const row = rows[SWIZZLE_ROWS * s + t]!;
      if (repeated[SWIZZLE_ROWS * s + t]) return [];
      return Array.from({ length: length(row) }, (_, e) => indptr[row]! + e).sort((a, b) => indices[a]! - indices[b]!);
    });
    const served = new Array<number>(SWIZZLE_ROWS).fill(0);
    const next = (t: number): number => (served[t]! < pending[t]!.length ? indices[pending[t]![served[t]!]!]! : Infinity);
    for (;;) {
      // The window starts at the smallest column still to serve, so every slot serves at least one entry.
      const first = Math.min(...served.map((_, t) => next(t)));
      if (first === Infinity) break;
      const slot = out.slot();
      for (let t = 0; t < SWIZZLE_ROWS; t++) {
        for (let e = 0; e < 2 && next(t) < first + SWIZZLE_WINDOW; e++) {
          const k = pending[t]![served[t]!++]!;
          out.lane(slot, 2 * t + e, indices[k]! - first, codes[k]!);
        }
      }
      out.window(slot, first);
    }
    slicePtr[s + 1] = out.bytes;
  }
  return { nSlices, slicePtr, slots: out.finish(), rows: Int32Array.from(rows) };
}

/** A growing buffer of zeroed slots. */
class SlotWriter {
  private buffer = new Uint8Array(64 * SWIZZLE_SLOT_BYTES);
  private view = new DataView(this.buffer.buffer);
  bytes = 0;

  /** Appends a zeroed slot; returns its byte offset. */
  slot(): number {
    if (this.bytes + SWIZZLE_SLOT_BYTES > this.buffer.length) {
      const bigger = new Uint8Array(2 * this.buffer.length);
      bigger.set(this.buffer);
      this.buffer = bigger;
      this.view = new DataView(bigger.buffer);
    }
    this.bytes += SWIZZLE_SLOT_BYTES;
    return this.bytes - SWIZZLE_SLOT_BYTES;
  }

  /** Lane `lane` of the slot at `at`: its index in the window and its int16 weight. */
  lane(at: number, lane: number, index: number, weight: number): void {
    this.buffer[at + lane] = index;
    this.view.setInt16(at + 16 + 2 * lane, weight, true);
  }

  /** The slot's window: its first column. */
  window(at: number, first: number): void {
    this.view.setInt32(at + 48, first, true);
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.bytes);
  }
}
