// Non-finite values in compiled inference: weights and biases are refused at compile time (layers.ts), and a
// sample whose input holds a NaN or ±Infinity answers NaN for every output on every kernel and backend
// (model.ts), so the answer never depends on which kernel the batch size picked. Below the model, every
// kernel keeps a NaN through ReLU.
import { describe, expect, it } from 'vitest';
import {
  compileInference, countNonZeros, csrFromDense, csrMatmulPanel, csrMatvec, csrTranspose, cscMatvecSkipZeros, bsrFromDense, bsrMatmulPanel,
  flagNonFiniteRows, JS_COST_MODEL, preferSkipZeros, WASM_COST_MODEL, wasmSimdSupported, type InferenceLayer, type InferenceStrategy,
} from '../../../src/sparse/index.ts';
import { compileJsLayer, runDense } from '../../../src/sparse/backends/js/layer.ts';
import { checkLayers } from '../../../src/sparse/inference/layers.ts';
import { Rng } from '../../../src/tensor/index.ts';
import { forwardReference, makeLayers, maxRelativeError, randomVector } from '../../reference/sparse.ts';

const BACKENDS = [
  { backend: 'js', strategies: ['auto', 'dense', 'csr', 'bsr4x1', 'autotune'] as InferenceStrategy[] },
  ...(wasmSimdSupported() ? [{ backend: 'wasm-simd', strategies: ['auto', 'dense', 'csr', 'bsr4x1'] as InferenceStrategy[] }] : []),
];

/** A 95 %-sparse 40-30-10 ReLU network whose input 0 has no weight at all (a sparse kernel never reads it). */
function network(rng: Rng): InferenceLayer[] {
  const layers = makeLayers([40, 30, 10], [0.05, 0.3], ['relu', 'none'], rng);
  for (let i = 0; i < 30; i++) layers[0]!.weight[i * 40] = 0;
  layers[0]!.weight[3 * 40 + 1] = 0.5; // input 1 reaches row 3
  return layers;
}

describe('a sample with a NaN or ±Infinity input answers NaN, the same on every kernel and backend', () => {
  const rng = new Rng(71);
  const layers = network(rng);
  const poisoned: [number, number][] = [[0, NaN], [1, NaN], [17, Infinity], [39, -Infinity]]; // (input, value)

  for (const { backend, strategies } of BACKENDS) {
    for (const strategy of strategies) {
      it(`${backend}, ${strategy}: every batch size`, () => {
        const model = compileInference(layers, { backend, strategy });
        for (const batch of [1, 2, 4, 8, 16, 17, 29]) {
          const x = randomVector(batch * 40, rng);
          const expected = forwardReference(layers, x, batch);
          const bad = new Set<number>();
          for (let s = 0; s < batch; s += 2) {
            const [input, value] = poisoned[(s / 2) % poisoned.length]!;
            x[s * 40 + input] = value;
            bad.add(s);
          }
          const y = model.predict(x, batch);
          for (let s = 0; s < batch; s++) {
            const row = Array.from(y.subarray(s * 10, (s + 1) * 10));
            if (bad.has(s)) expect(row.every(Number.isNaN), `sample ${s} of ${batch}`).toBe(true);
            else expect(maxRelativeError(row, expected.subarray(s * 10, (s + 1) * 10))).toBeLessThan(1e-5);
          }
          const classes = model.predictClasses(x, batch);
          for (let s = 0; s < batch; s++) {
            if (bad.has(s)) expect(classes[s], `sample ${s}: no class for NaN logits`).toBe(-1);
            else expect(classes[s]).toBeGreaterThanOrEqual(0);
          }
        }
      });
    }

    it(`${backend}: the batch-1 skip-zeros path too, and the next call with a finite input is clean`, () => {
      // 784 inputs: wide enough that skipping the zero ones beats the gather on both backends' cost models.
      const wide = makeLayers([784, 30, 10], [0.2, 0.3], ['relu', 'none'], rng);
      const model = compileInference(wide, { backend });
      const x = new Float32Array(784);
      x[5] = 1.5; // mostly zeros, like image background: the skip-zeros kernel's case
      const nnz = wide[0]!.weight.filter((v) => v !== 0).length;
      const costModel = backend === 'js' ? JS_COST_MODEL : WASM_COST_MODEL;
      expect(preferSkipZeros(costModel, nnz, 784, countNonZeros(784, x) + 1)).toBe(true);
      expect(model.kernels(1)[0]).toBe('csr');
      const clean = model.predict(x, 1).slice();
      expect(clean.every(Number.isFinite)).toBe(true);
      for (const [input, value] of poisoned) {
        const bad = x.slice();
        bad[input] = value;
        expect(Array.from(model.predict(bad, 1)).every(Number.isNaN)).toBe(true);
      }
      expect(Array.from(model.predict(x, 1))).toEqual(Array.from(clean));
    });

    it(`${backend}: a Float64Array value beyond the float32 range counts as infinite`, () => {
      const model = compileInference(layers, { backend });
      const x = Float64Array.from(randomVector(2 * 40, rng));
      x[40 + 3] = 1e39;
      const y = model.predict(x, 2);
      expect(Array.from(y.subarray(0, 10)).every(Number.isFinite)).toBe(true);
      expect(Array.from(y.subarray(10, 20)).every(Number.isNaN)).toBe(true);
    });
  }
});

describe('flagNonFiniteRows', () => {
  it('flags exactly the rows with a NaN or ±Infinity (float32), or a float64 value beyond the float32 range', () => {
    const x = Float32Array.from([1, 2, 3, NaN, 0, 0, 3e38, 3e38, 3e38, -Infinity, 1, 1, 0, 0, Infinity]);
    const flags = new Uint8Array(5).fill(7);
    expect(flagNonFiniteRows(5, 3, x, flags)).toBe(3);
    expect(Array.from(flags)).toEqual([0, 1, 0, 1, 1]);
    const wide = Float64Array.from([1e300, 1e300, 1, 3.4e38, -3.5e38, 0]);
    expect(flagNonFiniteRows(3, 2, wide, flags)).toBe(2);
    expect(Array.from(flags.subarray(0, 3))).toEqual([1, 0, 1]);
    expect(flagNonFiniteRows(2, 0, new Float32Array(0), flags)).toBe(0);
  });
});

describe('compile time: non-finite weights and biases are refused with the layer and the index', () => {
  const rng = new Rng(72);
  for (const [what, value] of [['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]] as const) {
    it(`${what}`, () => {
      const layers = makeLayers([6, 5, 3], [1, 1], ['relu', 'none'], rng);
      layers[1]!.weight[13] = value;
      for (const { backend } of BACKENDS) {
        expect(() => compileInference(layers, { backend })).toThrow(new RegExp(`compileInference: layer 1: weight\\[13\\] \\(row 2, column 3\\) is ${what}`));
      }
    });
  }
});

describe('every TypeScript kernel keeps a NaN input through ReLU', () => {
  // W [2 × 3] = [[1, 0, 0], [0, 2, 0]], x = [NaN, 1, 0]: row 0 reads the NaN through its weight.
  const w = Float32Array.from([1, 0, 0, 0, 2, 0]);
  const csr = csrFromDense(w, 2, 3);
  const x = Float32Array.from([NaN, 1, 0]);

  it('the dense step (gemmNT + bias + ReLU): NaN in every row, since 0·NaN = NaN', () => {
    const [checked] = checkLayers([{ weight: w, inFeatures: 3, outFeatures: 2, bias: Float32Array.from([-5, -5]), activation: 'relu' }], 'test');
    const y = new Float32Array(2);
    runDense(compileJsLayer(checked!, false), 1, x, y);
    expect(Array.from(y, Number.isNaN)).toEqual([true, true]);
  });

  it('the sparse kernels: NaN where a weight reads it, ReLU of the rest', () => {
    const y = new Float64Array(2);
    csrMatvec(2, csr.indptr, csr.indices, csr.values, null, true, x, y);
    expect(Array.from(y)).toEqual([NaN, 2]);
    const csc = csrTranspose(csr);
    cscMatvecSkipZeros(2, 3, csc.indptr, csc.indices, csc.values, null, true, x, y);
    expect(Array.from(y)).toEqual([NaN, 2]);
    for (const width of [4, 8, 16]) {
      const panel = new Float64Array(3 * width);
      for (let t = 0; t < width; t++) for (let j = 0; j < 3; j++) panel[j * width + t] = x[j]!;
      const yPanel = new Float64Array(2 * width).fill(-1);
      csrMatmulPanel(2, width, csr.indptr, csr.indices, csr.values, null, true, panel, yPanel);
      expect(Array.from(yPanel)).toEqual([...new Array<number>(width).fill(NaN), ...new Array<number>(width).fill(2)]);
      const bsr = bsrFromDense(w, 2, 3);
      yPanel.fill(-1);
      bsrMatmulPanel(2, width, bsr.indptr, bsr.indices, bsr.values, null, true, panel, yPanel);
      // 4×1 BSR stores row 1's zero in column 0 inside row 0's block, and multiplies it: 0·NaN = NaN.
      expect(Array.from(yPanel)).toEqual(new Array<number>(2 * width).fill(NaN));
    }
  });
});
