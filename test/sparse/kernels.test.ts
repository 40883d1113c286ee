import { describe, expect, it } from 'vitest';
import {
  bsrFromDense,
  bsrMatmulPanel,
  bsrMatvec,
  csrFromDense,
  csrMatmulPanel,
  csrMatmulRows,
  csrMatvec,
  csrTranspose,
  cscMatvecSkipZeros,
  compileInference,
  panelsToRows,
  panelWidths,
  rowsToPanels,
} from '../../src/sparse/index.ts';
import { Rng } from '../../src/tensor/index.ts';
import { linearReference, maxRelativeError, randomSparse, randomVector } from '../reference/sparse.ts';

/** Shapes chosen to hit empty matrices, 1×N, a single column, and sizes that are no multiple of 4, 8 or 16. */
const SHAPES: [number, number][] = [[0, 5], [3, 0], [1, 1], [1, 37], [37, 1], [5, 9], [13, 31], [300, 78], [17, 100]];
const DENSITIES = [0, 0.02, 0.3, 1];
const TOL = 1e-6;

function cases(): { nRows: number; nCols: number; density: number; label: string }[] {
  return SHAPES.flatMap(([nRows, nCols]) => DENSITIES.map((density) => ({ nRows, nCols, density, label: `${nRows}×${nCols} density ${density}` })));
}

/** Weights with one nonzero only, in the last column of the last row (or nothing for empty shapes). */
function lastColumnOnly(nRows: number, nCols: number): Float32Array {
  const w = new Float32Array(nRows * nCols);
  if (w.length > 0) w[w.length - 1] = 1.5;
  return w;
}

describe('csrMatvec', () => {
  const rng = new Rng(21);
  for (const { nRows, nCols, density, label } of cases()) {
    it(`matches the float64 reference: ${label}, with bias and relu`, () => {
      const w = randomSparse(nRows, nCols, density, rng);
      const a = csrFromDense(w, nRows, nCols);
      const x = randomVector(nCols, rng);
      const bias = randomVector(nRows, rng);
      for (const relu of [false, true]) {
        for (const b of [null, bias]) {
          const y = new Float32Array(nRows).fill(NaN);
          csrMatvec(nRows, a.indptr, a.indices, a.values, b, relu, x, y);
          expect(maxRelativeError(y, linearReference(nRows, nCols, 1, w, b, relu ? 'relu' : 'none', x))).toBeLessThan(TOL);
        }
      }
    });
  }

  it('handles a single nonzero in the last column and rows of every length mod 8', () => {
    const w = lastColumnOnly(4, 9);
    const a = csrFromDense(w, 4, 9);
    const x = randomVector(9, rng);
    const y = new Float64Array(4);
    csrMatvec(4, a.indptr, a.indices, a.values, null, false, x, y);
    expect(Array.from(y)).toEqual([0, 0, 0, 1.5 * x[8]!]);
    // Row i has i + 1 nonzeros: covers the 8-unrolled body and every tail length.
    const n = 20;
    const tri = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) tri[i * n + j] = rng.normal();
    const t = csrFromDense(tri, n, n);
    const xt = randomVector(n, rng);
    const yt = new Float64Array(n);
    csrMatvec(n, t.indptr, t.indices, t.values, null, false, xt, yt);
    expect(maxRelativeError(yt, linearReference(n, n, 1, tri, null, 'none', xt))).toBeLessThan(TOL);
  });
});

describe('cscMatvecSkipZeros (batch 1, skipping zero inputs)', () => {
  const rng = new Rng(23);
  for (const { nRows, nCols, density, label } of cases()) {
    it(`matches the float64 reference on mostly-zero inputs: ${label}`, () => {
      const w = randomSparse(nRows, nCols, density, rng);
      const csc = csrTranspose(csrFromDense(w, nRows, nCols));
      const x = randomVector(nCols, rng).map((v, j) => (j % 3 === 0 ? v : 0)); // two thirds zeros
      const bias = randomVector(nRows, rng);
      for (const relu of [false, true]) {
        for (const b of [null, bias]) {
          const y = new Float64Array(nRows).fill(NaN);
          cscMatvecSkipZeros(nRows, nCols, csc.indptr, csc.indices, csc.values, b, relu, x, y);
          expect(maxRelativeError(y, linearReference(nRows, nCols, 1, w, b, relu ? 'relu' : 'none', x))).toBeLessThan(TOL);
        }
      }
    });
  }

  it('still propagates NaN and infinite inputs (only exact zeros are skipped)', () => {
    const w = Float32Array.from([1, 0, 2, 0, 3, 0]); // [2 × 3]
    const csc = csrTranspose(csrFromDense(w, 2, 3));
    const y = new Float64Array(2);
    cscMatvecSkipZeros(2, 3, csc.indptr, csc.indices, csc.values, null, false, Float32Array.from([NaN, 0, 0]), y);
    expect(Number.isNaN(y[0]!)).toBe(true);
    cscMatvecSkipZeros(2, 3, csc.indptr, csc.indices, csc.values, null, false, Float32Array.from([0, Infinity, 0]), y);
    expect(y[1]).toBe(Infinity);
  });

  it('is what compiled inference runs on sparse inputs at batch 1, with identical results', () => {
    const nRows = 40;
    const nCols = 60;
    const w = randomSparse(nRows, nCols, 0.1, rng);
    const model = compileInference([{ weight: w, inFeatures: nCols, outFeatures: nRows, bias: null, activation: 'relu' }], { strategy: 'csr' });
    for (const keep of [1, 0.5, 0.1, 0]) {
      const x = randomVector(nCols, rng).map((v) => (rng.uniform() < keep ? v : 0));
      expect(maxRelativeError(model.predict(x, 1), linearReference(nRows, nCols, 1, w, null, 'relu', x))).toBeLessThan(TOL);
    }
  });
});

describe('csrMatmulRows (row-major batches)', () => {
  const rng = new Rng(22);
  for (const { nRows, nCols, density, label } of cases()) {
    it(`matches the reference at batches 1, 3, 4, 7: ${label}`, () => {
      const w = randomSparse(nRows, nCols, density, rng);
      const a = csrFromDense(w, nRows, nCols);
      const bias = randomVector(nRows, rng);
      for (const batch of [1, 3, 4, 7]) {
        const x = randomVector(batch * nCols, rng);
        const y = new Float32Array(batch * nRows).fill(NaN);
        csrMatmulRows(nRows, nCols, batch, a.indptr, a.indices, a.values, bias, true, x, y);
        expect(maxRelativeError(y, linearReference(nRows, nCols, batch, w, bias, 'relu', x))).toBeLessThan(TOL);
      }
    });
  }
});

describe('panel layout', () => {
  it('cuts batches into 16s, then one 8, one 4 and 1s', () => {
    expect(panelWidths(1)).toEqual([1]);
    expect(panelWidths(16)).toEqual([16]);
    expect(panelWidths(31)).toEqual([16, 8, 4, 1, 1, 1]);
    expect(panelWidths(64)).toEqual([16, 16, 16, 16]);
    expect(panelWidths(0)).toEqual([]);
  });

  it('round-trips rows → panels → rows, puts feature j of sample t of a panel at j·width + t, and sums each sample', () => {
    const rng = new Rng(23);
    const batch = 29;
    const features = 5;
    const widths = panelWidths(batch);
    const x = randomVector(batch * features, rng);
    const panels = new Float64Array(batch * features);
    const sums = new Float64Array(batch).fill(NaN);
    rowsToPanels(x, features, widths, panels, sums);
    for (let s = 0; s < batch; s++) expect(sums[s]).toBeCloseTo(x.subarray(s * features, (s + 1) * features).reduce((a, v) => a + v, 0), 12);
    expect(panels[2 * 16 + 3]).toBe(x[3 * features + 2]); // first panel: feature 2, sample 3
    expect(panels[16 * features + 1 * 8 + 0]).toBe(x[16 * features + 1]); // second panel (width 8): feature 1, sample 16
    const back = new Float32Array(batch * features);
    panelsToRows(panels, features, widths, back);
    expect(back).toEqual(x);
  });
});

/** Runs a panel kernel over a whole batch the way the inference engine does, returning row-major output. */
function runPanels(
  kernel: typeof csrMatmulPanel, nRows: number, nCols: number, batch: number, widths: number[],
  m: { indptr: Int32Array; indices: Int32Array; values: Float32Array }, bias: Float32Array | null, relu: boolean, x: Float32Array,
): Float64Array {
  const xp = new Float64Array(batch * nCols);
  const yp = new Float64Array(batch * nRows).fill(NaN);
  rowsToPanels(x, nCols, widths, xp);
  let s0 = 0;
  for (const w of widths) {
    kernel(nRows, w, m.indptr, m.indices, m.values, bias, relu, xp.subarray(s0 * nCols, (s0 + w) * nCols), yp.subarray(s0 * nRows, (s0 + w) * nRows));
    s0 += w;
  }
  const y = new Float64Array(batch * nRows);
  panelsToRows(yp, nRows, widths, y);
  return y;
}

const PANEL_BATCHES: { batch: number; widths: number[] }[] = [
  { batch: 1, widths: [1] },
  { batch: 16, widths: [16] },
  { batch: 8, widths: [8] },
  { batch: 4, widths: [4] },
  { batch: 37, widths: panelWidths(37) },
  { batch: 5, widths: [2, 3] }, // widths panelWidths never makes: the generic fallback
];

describe('csrMatmulPanel (feature-major panels)', () => {
  const rng = new Rng(24);
  for (const { nRows, nCols, density, label } of cases()) {
    it(`matches the reference for widths 1, 2, 3, 4, 8, 16 and batch 37, with and without bias and relu: ${label}`, () => {
      const w = randomSparse(nRows, nCols, density, rng);
      const a = csrFromDense(w, nRows, nCols);
      const bias = randomVector(nRows, rng);
      for (const { batch, widths } of PANEL_BATCHES) {
        const x = randomVector(batch * nCols, rng);
        for (const relu of [false, true]) {
          for (const b of [null, bias]) {
            const y = runPanels(csrMatmulPanel, nRows, nCols, batch, widths, a, b, relu, x);
            const expected = linearReference(nRows, nCols, batch, w, b, relu ? 'relu' : 'none', x);
            expect(maxRelativeError(y, expected)).toBeLessThan(TOL);
          }
        }
      }
    });
  }

  it('computes a single last-column nonzero at every width', () => {
    const w = lastColumnOnly(6, 11);
    const a = csrFromDense(w, 6, 11);
    const x = randomVector(21 * 11, rng);
    const y = runPanels(csrMatmulPanel, 6, 11, 21, panelWidths(21), a, null, false, x);
    expect(maxRelativeError(y, linearReference(6, 11, 21, w, null, 'none', x))).toBeLessThan(TOL);
  });
});

describe('bsrMatvec and bsrMatmulPanel (4×1 blocks)', () => {
  const rng = new Rng(25);
  const bsrCases = [...cases(), { nRows: 10, nCols: 7, density: 0.4, label: '10×7 (rows not a multiple of 4)' }];
  for (const { nRows, nCols, density, label } of bsrCases) {
    it(`matches the reference: ${label}`, () => {
      const w = randomSparse(nRows, nCols, density, rng);
      const a = bsrFromDense(w, nRows, nCols);
      const bias = randomVector(nRows, rng);
      const x1 = randomVector(nCols, rng);
      const y1 = new Float64Array(nRows).fill(NaN);
      bsrMatvec(nRows, a.indptr, a.indices, a.values, bias, true, x1, y1);
      expect(maxRelativeError(y1, linearReference(nRows, nCols, 1, w, bias, 'relu', x1))).toBeLessThan(TOL);
      for (const batch of [1, 4, 8, 16, 29]) {
        const x = randomVector(batch * nCols, rng);
        for (const relu of [false, true]) {
          for (const b of [null, bias]) {
            const y = runPanels(bsrMatmulPanel, nRows, nCols, batch, panelWidths(batch), a, b, relu, x);
            expect(maxRelativeError(y, linearReference(nRows, nCols, batch, w, b, relu ? 'relu' : 'none', x))).toBeLessThan(TOL);
          }
        }
      }
    });
  }

  it('leaves the padding rows of the last block row unwritten', () => {
    const w = randomSparse(5, 3, 1, rng);
    const a = bsrFromDense(w, 5, 3);
    const y = new Float64Array(6).fill(-7); // one slot past nRows
    bsrMatvec(5, a.indptr, a.indices, a.values, null, false, randomVector(3, rng), y);
    expect(y[5]).toBe(-7);
  });
});
