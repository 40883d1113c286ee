import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.ts';
import { bsrFromDense, bsrToDense, csrFromDense, csrToDense, csrTranspose, validateCsr } from '../../src/sparse/index.ts';
import { Rng } from '../../src/tensor/index.ts';
import { randomSparse } from '../reference/sparse.ts';

const SHAPES: [number, number][] = [[0, 0], [0, 5], [5, 0], [1, 1], [1, 9], [9, 1], [7, 13], [33, 17]];
const DENSITIES = [0, 0.05, 0.5, 1];

function denseTranspose(a: Float32Array, nRows: number, nCols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let i = 0; i < nRows; i++) for (let j = 0; j < nCols; j++) t[j * nRows + i] = a[i * nCols + j]!;
  return t;
}

describe('csrFromDense / csrToDense', () => {
  const rng = new Rng(11);
  for (const [nRows, nCols] of SHAPES) {
    for (const density of DENSITIES) {
      it(`round-trips ${nRows}×${nCols} at density ${density}`, () => {
        const w = randomSparse(nRows, nCols, density, rng);
        const a = csrFromDense(w, nRows, nCols);
        validateCsr(a.nRows, a.nCols, a.indptr, a.indices, a.values);
        expect(a.nnz).toBe(w.filter((v) => v !== 0).length);
        expect(a.density).toBeCloseTo(nRows * nCols === 0 ? 0 : a.nnz / (nRows * nCols), 12);
        expect(csrToDense(a)).toEqual(w);
        expect(a.bytes).toBe(8 * a.nnz + 4 * (nRows + 1));
      });
    }
  }

  it('keeps exactly the masked-in entries, explicit zeros included', () => {
    const w = Float32Array.from([0, 2, 3, 0, 5, 6]);
    const mask = Uint8Array.from([1, 1, 0, 0, 1, 0]);
    const a = csrFromDense(w, 2, 3, { mask });
    expect(Array.from(a.indptr)).toEqual([0, 2, 3]);
    expect(Array.from(a.indices)).toEqual([0, 1, 1]);
    expect(Array.from(a.values)).toEqual([0, 2, 5]);
    expect(Array.from(csrToDense(a))).toEqual([0, 2, 0, 0, 5, 0]);
  });

  it('drops entries at or below the tolerance', () => {
    const a = csrFromDense(Float32Array.from([0.001, -0.5, 0.01, -0.002]), 2, 2, { tol: 0.005 });
    expect(Array.from(a.indices)).toEqual([1, 0]);
    expect(Array.from(a.values)).toEqual([-0.5, Math.fround(0.01)]);
  });

  it('stores a single nonzero in the last column', () => {
    const w = new Float32Array(12);
    w[11] = 7;
    const a = csrFromDense(w, 3, 4);
    expect(Array.from(a.indptr)).toEqual([0, 0, 0, 1]);
    expect(Array.from(a.indices)).toEqual([3]);
  });

  it('rejects sizes that do not match, naming both', () => {
    expect(() => csrFromDense(new Float32Array(5), 2, 3)).toThrow(ShapeError);
    expect(() => csrFromDense(new Float32Array(5), 2, 3)).toThrow(/5 elements, expected 2×3 = 6/);
    expect(() => csrFromDense(new Float32Array(6), 2, 3, { mask: new Uint8Array(4) })).toThrow(/mask has 4 elements/);
  });
});

describe('csrTranspose', () => {
  const rng = new Rng(12);
  for (const [nRows, nCols] of SHAPES) {
    for (const density of DENSITIES) {
      it(`transposes ${nRows}×${nCols} at density ${density} into canonical CSR (= CSC of A)`, () => {
        const w = randomSparse(nRows, nCols, density, rng);
        const t = csrTranspose(csrFromDense(w, nRows, nCols));
        expect(t.nRows).toBe(nCols);
        expect(t.nCols).toBe(nRows);
        validateCsr(t.nRows, t.nCols, t.indptr, t.indices, t.values);
        expect(csrToDense(t)).toEqual(denseTranspose(w, nRows, nCols));
        expect(csrToDense(csrTranspose(t))).toEqual(w);
      });
    }
  }
});

describe('bsrFromDense / bsrToDense (4×1 blocks)', () => {
  const rng = new Rng(13);
  for (const [nRows, nCols] of [[1, 1], [3, 5], [4, 4], [9, 7], [0, 3]] as [number, number][]) {
    for (const density of [0, 0.3, 1]) {
      it(`round-trips ${nRows}×${nCols} at density ${density}`, () => {
        const w = randomSparse(nRows, nCols, density, rng);
        const a = bsrFromDense(w, nRows, nCols);
        expect(bsrToDense(a)).toEqual(w);
        expect(a.storedEntries).toBe(4 * a.nBlocks);
      });
    }
  }

  it('stores one block per kept (4 rows, 1 column) group', () => {
    const w = new Float32Array(8 * 3);
    w[0 * 3 + 2] = 1; // rows 0..3, column 2
    w[3 * 3 + 2] = 2;
    w[5 * 3 + 0] = 3; // rows 4..7, column 0
    const a = bsrFromDense(w, 8, 3);
    expect(Array.from(a.indptr)).toEqual([0, 1, 2]);
    expect(Array.from(a.indices)).toEqual([2, 0]);
    expect(Array.from(a.values)).toEqual([1, 0, 0, 2, 0, 3, 0, 0]);
  });
});
