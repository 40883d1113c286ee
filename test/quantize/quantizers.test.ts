import { describe, expect, it } from 'vitest';
import { backward } from '../../src/autograd/graph.ts';
import { crossEntropy } from '../../src/autograd/ops/losses.ts';
import { constant } from '../../src/autograd/var.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { ConfigError } from '../../src/errors.ts';
import { Adam, fit, mlp, type Sequential } from '../../src/nn/index.ts';
import {
  centroidGradients, Int8AwareTraining, kmeansCodebook, quantizeAndFineTune, quantizeModel, quantizeRowsInt8, SharedWeightTraining,
} from '../../src/quantize/index.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { expectCentroidGradients } from '../support/centroid-gradients.ts';

function toyData(count: number, features: number, classes: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(count * features);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < features; j++) x[i * features + j] = rng.uniform();
    let best = 0;
    for (let c = 1; c < classes; c++) if (x[i * features + c]! > x[i * features + best]!) best = c;
    y[i] = best;
  }
  return { x, y, count, features, numClasses: classes, name: 'toy' };
}

/** A model whose first weight is pruned at random (about half its entries), with the mask installed. */
function prunedModel(seed: number): Sequential {
  const model = mlp([12, 9, 4], { seed });
  const rng = new Rng(seed + 100);
  const [, weight] = model.namedParameters()[0]!;
  weight.setMask(Uint8Array.from({ length: weight.value.size }, () => (rng.uniform() < 0.5 ? 0 : 1)));
  return model;
}

function weightsOf(model: Sequential): Float32Array[] {
  return model.namedParameters().map(([, p]) => Float32Array.from(p.value.data));
}

describe('int8 per-row quantization', () => {
  it('keeps zeros, uses [−127, 127] and stays within half a step of every weight', () => {
    const rng = new Rng(1);
    const rows = 7, cols = 13;
    const w = Float32Array.from({ length: rows * cols }, (_, i) => (i % 5 === 0 ? 0 : rng.normal() * (1 + (i % 3) * 10)));
    w.fill(0, 2 * cols, 3 * cols); // an all-zero row
    const q = quantizeRowsInt8(w, rows, cols);
    for (let r = 0; r < rows; r++) {
      const scale = q.scales[r]!;
      expect(scale).toBeGreaterThan(0);
      for (let j = 0; j < cols; j++) {
        const k = r * cols + j;
        expect(Math.abs(q.codes[k]!)).toBeLessThanOrEqual(127);
        if (w[k] === 0) expect(q.codes[k]).toBe(0);
        expect(Math.abs(q.codes[k]! * scale - w[k]!)).toBeLessThanOrEqual(scale / 2 + 1e-6 * Math.abs(w[k]!));
      }
    }
    expect(Math.max(...Array.from(q.codes.subarray(0, cols), Math.abs))).toBe(127);
  });

  it('requantizing dequantized weights gives the same codes', () => {
    const rng = new Rng(2);
    const w = Float32Array.from({ length: 5 * 31 }, () => rng.normal());
    const q = quantizeRowsInt8(w, 5, 31);
    const back = Float32Array.from(q.codes, (c, k) => Math.fround(c * q.scales[Math.floor(k / 31)]!));
    expect(Array.from(quantizeRowsInt8(back, 5, 31).codes)).toEqual(Array.from(q.codes));
  });
});

describe('k-means weight sharing', () => {
  it('gives at most 2^bits ascending centroids, each value assigned to its nearest one', () => {
    const rng = new Rng(3);
    const values = Float32Array.from({ length: 2000 }, () => rng.normal());
    for (const bits of [2, 3, 5, 8]) {
      const { codebook, codes } = kmeansCodebook(values, bits);
      expect(codebook.length).toBeLessThanOrEqual(2 ** bits);
      for (let c = 1; c < codebook.length; c++) expect(codebook[c]!).toBeGreaterThan(codebook[c - 1]!);
      for (let i = 0; i < values.length; i++) {
        const own = Math.abs(values[i]! - codebook[codes[i]!]!);
        let nearest = Infinity;
        for (let c = 0; c < codebook.length; c++) nearest = Math.min(nearest, Math.abs(values[i]! - codebook[c]!));
        if (own > nearest + 1e-6) expect.fail(`value ${i} is not assigned to its nearest centroid`);
      }
    }
  });

  it('recovers a few distinct values exactly and handles one value and no values', () => {
    const values = Float32Array.from([0.5, -1.25, 0.5, 3, -1.25, 3, 3]);
    const { codebook, codes } = kmeansCodebook(values, 2);
    expect(Array.from(codebook)).toEqual([-1.25, 0.5, 3]);
    expect(Array.from(codes, (c) => codebook[c])).toEqual(Array.from(values));
    expect(Array.from(kmeansCodebook(Float32Array.from([2, 2]), 4).codebook)).toEqual([2]);
    expect(kmeansCodebook(new Float32Array(0), 4).codebook.length).toBe(0);
    expect(() => kmeansCodebook(values, 9)).toThrow(ConfigError);
    expect(() => kmeansCodebook(Float32Array.from([NaN]), 3)).toThrow(ConfigError);
  });
});

describe('quantizeModel', () => {
  for (const method of ['int8', 'kmeans'] as const) {
    it(`${method}: masks untouched, pruned zeros stay zero, values are what the codes say`, () => {
      const model = prunedModel(4);
      const [, weight] = model.namedParameters()[0]!;
      const maskBefore = weight.mask!;
      const maskCopy = Uint8Array.from(maskBefore);
      const biasBefore = Float32Array.from(model.namedParameters()[1]![1].value.data);
      const quantization = quantizeModel(model, { method, bits: 3 });
      expect(weight.mask).toBe(maskBefore);
      expect(Array.from(weight.mask!)).toEqual(Array.from(maskCopy));
      expect(Array.from(model.namedParameters()[1]![1].value.data)).toEqual(Array.from(biasBefore));
      for (const [name, p] of model.namedParameters().filter(([, p]) => p.value.shape.length === 2)) {
        const q = quantization.get(name)!;
        const cols = p.value.shape[1]!;
        for (let i = 0; i < p.value.size; i++) {
          if (p.mask !== null && p.mask[i] === 0) {
            expect(p.value.data[i]).toBe(0);
            expect(q.codes[i]).toBe(0);
          } else {
            const expected = q.kind === 'int8' ? Math.fround(q.codes[i]! * q.scales[Math.floor(i / cols)]!) : q.codebook[q.codes[i]!]!;
            expect(p.value.data[i]).toBe(expected);
          }
        }
        if (q.kind === 'codebook') expect(q.codebook.length).toBeLessThanOrEqual(8);
      }
    });
  }
});

describe('quantizeModel: per-layer codebook widths (layerBits)', () => {
  it('gives a named layer its own width, by layer or by parameter name, and the others `bits`', () => {
    for (const key of ['layers.0', 'layers.0.weight']) {
      const model = mlp([12, 40, 30], { seed: 5 });
      const quantization = quantizeModel(model, { method: 'kmeans', bits: 5, layerBits: { [key]: 2 } });
      const first = quantization.get('layers.0.weight')!;
      const second = quantization.get('layers.2.weight')!;
      if (first.kind !== 'codebook' || second.kind !== 'codebook') throw new Error('expected codebooks');
      expect([first.bits, second.bits], key).toEqual([2, 5]);
      expect(first.codebook.length).toBeLessThanOrEqual(4);
      expect(second.codebook.length).toBeGreaterThan(4); // 1,200 distinct weights fill more than 2 bits' worth
    }
  });

  it.each([
    ['a name that is no quantizable weight', { method: 'kmeans', bits: 4, layerBits: { 'layers.1': 3 } }, /'layers.1', which is no quantizable weight of this model \(layers.0.weight, layers.2.weight\)/],
    ['a width past 8 bits', { method: 'kmeans', bits: 4, layerBits: { 'layers.0': 9 } }, /must be an integer in 1…8, got 9/],
    ['widths for int8', { method: 'int8', layerBits: { 'layers.0': 4 } }, /for the kmeans method only/],
  ] as const)('refuses %s with a ConfigError', (_, options, message) => {
    expect(() => quantizeModel(mlp([12, 9, 4], { seed: 1 }), options)).toThrowError(ConfigError);
    expect(() => quantizeModel(mlp([12, 9, 4], { seed: 1 }), options)).toThrowError(message);
  });
});

describe('trained quantization', () => {
  it('the gradient of a centroid is the sum of its members’ gradients (checked numerically)', () => {
    const model = mlp([6, 5], { seed: 7 });
    const quantization = quantizeModel(model, { method: 'kmeans', bits: 2 });
    const [, weight] = model.namedParameters()[0]!;
    const q = quantization.get('layers.0.weight')!;
    if (q.kind !== 'codebook') throw new Error('expected a codebook');
    const rng = new Rng(8);
    const x = new Tensor(Float32Array.from({ length: 4 * 6 }, () => rng.normal()), [4, 6]);
    const labels = Int32Array.from([0, 3, 1, 4]);
    const lossAt = (codebook: Float64Array): number => {
      for (let i = 0; i < weight.value.size; i++) weight.value.data[i] = codebook[q.codes[i]!]!;
      return crossEntropy(model.forward(constant(x)), labels).value.data[0]!;
    };
    const base = Float64Array.from(q.codebook);
    lossAt(base);
    weight.grad = null;
    backward(crossEntropy(model.forward(constant(x)), labels));
    const analytic = centroidGradients(weight.grad!.data as Float32Array, q.codes, q.codebook.length, null);
    expectCentroidGradients(lossAt, base, analytic, 1e-2);
  });

  it('fine-tuning moves the centroids, keeps every weight tied to one, and keeps masks and pruned zeros', () => {
    const model = prunedModel(9);
    const [, weight] = model.namedParameters()[0]!;
    const mask = weight.mask!;
    const maskCopy = Uint8Array.from(mask);
    const quantization = quantizeModel(model, { method: 'kmeans', bits: 3 });
    const before = quantization.get('layers.0.weight')!;
    const hooks = new SharedWeightTraining(model, quantization);
    fit(model, toyData(200, 12, 4, 10), { epochs: 2, batchSize: 20, optimizer: new Adam(model.parameters(), { lr: 1e-2 }), seed: 1, hooks, backend: 'js' });
    const after = hooks.result().get('layers.0.weight')!;
    if (before.kind !== 'codebook' || after.kind !== 'codebook') throw new Error('expected codebooks');
    expect(Array.from(after.codebook)).not.toEqual(Array.from(before.codebook));
    expect(weight.mask).toBe(mask);
    expect(Array.from(mask)).toEqual(Array.from(maskCopy));
    for (let i = 0; i < weight.value.size; i++) {
      expect(weight.value.data[i]).toBe(mask[i] === 0 ? 0 : after.codebook[after.codes[i]!]);
    }
  });

  it('runs on the SIMD training kernels too, with the same invariants', () => {
    const model = prunedModel(11);
    const { quantization } = quantizeAndFineTune(model, toyData(200, 12, 4, 12), { method: 'kmeans', bits: 4, epochs: 1, lr: 1e-2, batchSize: 25, fit: { backend: 'wasm-simd' } });
    for (const [name, p] of model.namedParameters().filter(([, p]) => p.value.shape.length === 2)) {
      const q = quantization.get(name)!;
      if (q.kind !== 'codebook') throw new Error('expected a codebook');
      for (let i = 0; i < p.value.size; i++) expect(p.value.data[i]).toBe(p.mask !== null && p.mask[i] === 0 ? 0 : q.codebook[q.codes[i]!]);
    }
  });
});

describe('int8 quantization-aware training', () => {
  it('the forward weights are int8 after every step; masks and pruned zeros are kept; the shadows learn', () => {
    const model = prunedModel(13);
    const [, weight] = model.namedParameters()[0]!;
    const mask = Uint8Array.from(weight.mask!);
    const start = weightsOf(model);
    const hooks = new Int8AwareTraining(model);
    fit(model, toyData(200, 12, 4, 14), { epochs: 2, batchSize: 20, optimizer: new Adam(model.parameters(), { lr: 1e-2 }), seed: 2, hooks, backend: 'js' });
    const result = hooks.result();
    for (const [name, p] of model.namedParameters().filter(([, p]) => p.value.shape.length === 2)) {
      const q = result.get(name)!;
      if (q.kind !== 'int8') throw new Error('expected int8');
      const cols = p.value.shape[1]!;
      for (let i = 0; i < p.value.size; i++) expect(p.value.data[i]).toBe(Math.fround(q.codes[i]! * q.scales[Math.floor(i / cols)]!));
    }
    expect(Array.from(weight.mask!)).toEqual(Array.from(mask));
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) expect(weight.value.data[i]).toBe(0);
    expect(weightsOf(model)[0]).not.toEqual(start[0]);
  });

  it('quantizeAndFineTune with 0 epochs is post-training quantization', () => {
    const model = mlp([5, 4], { seed: 15 });
    const { quantization, history } = quantizeAndFineTune(model, toyData(10, 5, 4, 16), { method: 'int8', epochs: 0 });
    expect(history).toBeNull();
    expect(quantization.get('layers.0.weight')!.kind).toBe('int8');
    expect(() => quantizeAndFineTune(model, toyData(10, 5, 4, 16), { method: 'int8', epochs: -1 })).toThrow(ConfigError);
  });
});
