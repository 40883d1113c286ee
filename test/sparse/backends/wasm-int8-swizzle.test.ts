// The swizzle form (src/sparse/backends/wasm-int8/swizzle.ts) decoded back: every stored entry appears in
// exactly one lane of its own row's slice, inside its slot's window, with its code; unused lanes are index 0
// and weight 0; slices hold 8 lanes, rows sorted longest first, empty rows last and without slots, and a last
// slice's missing lanes repeat its last row without entries. Kernel results are in wasm-int8-kernels.test.ts.
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../../src/errors.ts';
import { csrFromDense } from '../../../src/sparse/index.ts';
import { SWIZZLE_ROWS, SWIZZLE_SLOT_BYTES, SWIZZLE_WINDOW, swizzleFromCsr } from '../../../src/sparse/backends/wasm-int8/swizzle.ts';
import { Rng } from '../../../src/tensor/index.ts';

/** A random rows×cols matrix of the given density with integer values in [−127, 127] \ {0}, and its codes. */
function matrix(rows: number, cols: number, density: number, rng: Rng) {
  const w = Float32Array.from({ length: rows * cols }, () => (rng.uniform() < density ? (1 + Math.floor(rng.uniform() * 127)) * (rng.uniform() < 0.5 ? -1 : 1) : 0));
  const csr = csrFromDense(w, rows, cols);
  return { w, csr, codes: Int8Array.from(csr.values) };
}

/** The form decoded into a dense matrix (entries added, so a doubled entry shows), checking the lane rules on the way. */
function decode(form: ReturnType<typeof swizzleFromCsr>, rows: number, cols: number): Float64Array {
  const dense = new Float64Array(rows * cols);
  const view = new DataView(form.slots.buffer, form.slots.byteOffset, form.slots.byteLength);
  for (let s = 0; s < form.nSlices; s++) {
    for (let at = form.slicePtr[s]!; at < form.slicePtr[s + 1]!; at += SWIZZLE_SLOT_BYTES) {
      const first = view.getInt32(at + 48, true);
      let served = 0;
      for (let lane = 0; lane < 16; lane++) {
        const index = form.slots[at + lane]!;
        const weight = view.getInt16(at + 16 + 2 * lane, true);
        expect(index).toBeLessThan(SWIZZLE_WINDOW);
        if (weight === 0) {
          expect(index).toBe(0);
          continue;
        }
        served++;
        const column = first + index;
        expect(column).toBeLessThan(cols);
        const element = form.rows[SWIZZLE_ROWS * s + (lane >> 1)]! * cols + column;
        dense[element] = dense[element]! + weight;
      }
      expect(served).toBeGreaterThan(0); // every slot serves at least one entry
    }
  }
  return dense;
}

describe('the swizzle form of an int8 CSR matrix', () => {
  const rng = new Rng(11);
  const shapes: [number, number][] = [[0, 5], [1, 1], [1, 37], [7, 1], [5, 5], [9, 19], [15, 16], [16, 17], [17, 17], [30, 257], [64, 100]];
  for (const [rows, cols] of shapes) {
    for (const density of [0, 0.02, 0.3, 1]) {
      it(`${rows}×${cols} at density ${density} decodes to the matrix`, () => {
        const { w, csr, codes } = matrix(rows, cols, density, rng);
        const form = swizzleFromCsr(csr, codes);
        const length = (r: number) => csr.indptr[r + 1]! - csr.indptr[r]!;
        const empty = Array.from({ length: rows }, (_, r) => r).filter((r) => length(r) === 0).length;
        expect(form.nSlices).toBe(Math.ceil((rows - empty) / SWIZZLE_ROWS) + Math.ceil(empty / SWIZZLE_ROWS));
        expect(form.rows.length).toBe(SWIZZLE_ROWS * form.nSlices);
        expect(form.slicePtr[form.nSlices]).toBe(form.slots.length);
        expect(Array.from(decode(form, rows, cols))).toEqual(Array.from(w));
        // Every row has a lane; lanes past the first of a row in its slice are repeats at the end of the slice.
        expect(new Set(form.rows).size).toBe(rows);
        for (let s = 0; s < form.nSlices; s++) {
          const lanes = Array.from(form.rows.subarray(SWIZZLE_ROWS * s, SWIZZLE_ROWS * (s + 1)));
          const firstRepeat = lanes.findIndex((r, t) => lanes.indexOf(r) !== t);
          if (firstRepeat >= 0) expect(lanes.slice(firstRepeat).every((r) => r === lanes[firstRepeat - 1])).toBe(true);
          if (lanes.every((r) => length(r) === 0)) expect(form.slicePtr[s + 1]).toBe(form.slicePtr[s]);
        }
        // Longest rows first, the empty ones last.
        const lengths = form.rows.filter((r, i) => form.rows.indexOf(r) === i).map(length);
        for (let i = 1; i < lengths.length; i++) expect(lengths[i]).toBeLessThanOrEqual(lengths[i - 1]!);
      });
    }
  }

  it('packs random 90 %-sparse 300×784 weights into fewer slots than windows fixed at multiples of 16', () => {
    const { csr, codes } = matrix(300, 784, 0.1, rng);
    const form = swizzleFromCsr(csr, codes);
    const slots = form.slots.length / SWIZZLE_SLOT_BYTES;
    // Fixed windows need, per slice and 16-column block, as many slots as the fullest row's ⌈entries/2⌉.
    let fixed = 0;
    for (let s = 0; s < form.nSlices; s++) {
      const lanes = Array.from(new Set(form.rows.subarray(SWIZZLE_ROWS * s, SWIZZLE_ROWS * (s + 1))));
      for (let b = 0; b < 784; b += 16) {
        fixed += Math.max(...lanes.map((r) => Math.ceil(Array.from(csr.indices.subarray(csr.indptr[r]!, csr.indptr[r + 1]!)).filter((c) => c >= b && c < b + 16).length / 2)));
      }
    }
    expect(slots).toBeLessThan(0.8 * fixed);
    expect(csr.nnz / (16 * slots)).toBeGreaterThan(0.5); // more than half the lanes hold an entry
  });

  it('refuses codes that do not match the stored entries', () => {
    const { csr } = matrix(4, 4, 0.5, rng);
    expect(() => swizzleFromCsr(csr, new Int8Array(csr.nnz + 1))).toThrow(ShapeError);
  });
});
