/**
 * The quantizers on convolution weights (issue 14, Deep Compression's conv layers): a conv2d weight
 * [out, in/groups, kh, kw] is quantized as the matrix [out, in/groups·kh·kw] — one int8 scale per filter, one
 * codebook per layer — with the same invariants as a linear weight: masks untouched, pruned zeros stay zero,
 * codebooks of at most 2^bits centroids, the centroid gradient is the sum of its members' gradients.
 */
import { describe, expect, it } from 'vitest';
import { backward } from '../../src/autograd/graph.ts';
import { crossEntropy } from '../../src/autograd/ops/losses.ts';
import { constant } from '../../src/autograd/var.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { architectureSpec, buildModel, Rng, type Sequential } from '../../src/index.ts';
import type { QuantizedValues } from '../../src/io/encodings/quantized-values.ts';
import type { Parameter } from '../../src/nn/parameter.ts';
import { roundToFloat16 } from '../../src/tensor/float16.ts';
import { centroidGradients, quantizableParameters, quantizeAndFineTune, quantizeModel } from '../../src/quantize/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { expectCentroidGradients } from '../support/centroid-gradients.ts';

/** Two convolutions (54 and 96 weights) and a linear layer; names layers.1, layers.4 (conv) and layers.7 (linear). */
const ARCH = '1x8x8-c6k3-m2-c4k2-5';
const CONVS = ['layers.1.weight', 'layers.4.weight'];

/** The conv model with about half of every weight pruned (masks installed). */
function prunedConvModel(seed: number): Sequential {
  const model = buildModel(architectureSpec(ARCH), new Rng(seed));
  const rng = new Rng(seed + 100);
  for (const [, p] of quantizableParameters(model)) p.setMask(Uint8Array.from({ length: p.value.size }, () => (rng.uniform() < 0.5 ? 0 : 1)));
  return model;
}

function images(count: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: count * 64 }, () => rng.uniform());
  const y = Uint8Array.from({ length: count }, (_, i) => (x[i * 64 + 9]! > 0.5 ? 1 : 0) + (x[i * 64 + 36]! > 0.5 ? 2 : 0));
  return { x, y, count, features: 64, numClasses: 5, name: 'toy images' };
}

/** Every kept entry holds what its code stands for (its filter's scale for int8); every pruned one 0 with code 0. */
function expectTied(name: string, p: Parameter, q: QuantizedValues): void {
  const cols = p.value.size / p.value.shape[0]!;
  for (let i = 0; i < p.value.size; i++) {
    if (p.mask !== null && p.mask[i] === 0) {
      expect(p.value.data[i], `${name}[${i}]`).toBe(0);
      expect(q.codes[i], `${name}[${i}]`).toBe(0);
    } else {
      expect(p.value.data[i], `${name}[${i}]`).toBe(q.kind === 'int8' ? Math.fround(q.codes[i]! * q.scales[Math.floor(i / cols)]!) : q.codebook[q.codes[i]!]);
    }
  }
}

describe('quantizers on conv2d weights', () => {
  it('quantize both convolutions and the linear layer; biases stay float32', () => {
    const model = buildModel(architectureSpec(ARCH), new Rng(1));
    expect(quantizableParameters(model).map(([name]) => name)).toEqual([...CONVS, 'layers.7.weight']);
    const biases = model.namedParameters().filter(([, p]) => p.value.shape.length === 1).map(([, p]) => Float32Array.from(p.value.data));
    const quantization = quantizeModel(model, { method: 'kmeans', bits: 3 });
    expect([...quantization.keys()]).toEqual([...CONVS, 'layers.7.weight']);
    expect(model.namedParameters().filter(([, p]) => p.value.shape.length === 1).map(([, p]) => Float32Array.from(p.value.data))).toEqual(biases);
  });

  for (const method of ['int8', 'kmeans'] as const) {
    it(`${method}: masks untouched, pruned zeros stay zero, values are what the codes say`, () => {
      const model = prunedConvModel(2);
      const masks = new Map(quantizableParameters(model).map(([name, p]) => [name, { array: p.mask!, copy: Uint8Array.from(p.mask!) }]));
      const quantization = quantizeModel(model, { method, bits: 2 });
      for (const [name, p] of quantizableParameters(model)) {
        const q = quantization.get(name)!;
        expect(p.mask).toBe(masks.get(name)!.array);
        expect(Array.from(p.mask!)).toEqual(Array.from(masks.get(name)!.copy));
        expectTied(name, p, q);
        if (q.kind === 'codebook') expect(q.codebook.length, name).toBeLessThanOrEqual(4);
      }
    });
  }

  it('int8 keeps one scale per filter: [out] scales, and each filter with a kept weight reaches code ±127', () => {
    const model = buildModel(architectureSpec(ARCH), new Rng(3));
    const quantization = quantizeModel(model, { method: 'int8' });
    for (const name of CONVS) {
      const q = quantization.get(name)!;
      if (q.kind !== 'int8') throw new Error('expected int8');
      const [out] = model.namedParameters().find(([n]) => n === name)![1].value.shape as number[];
      expect(q.scales.length).toBe(out);
      const cols = q.codes.length / out!;
      for (let r = 0; r < out!; r++) expect(Math.max(...Array.from(q.codes.subarray(r * cols, (r + 1) * cols), Math.abs))).toBe(127);
    }
  });

  it('layerBits gives a conv layer its own width (8-bit conv, 2-bit fc, as Deep Compression)', () => {
    const model = buildModel(architectureSpec(ARCH), new Rng(4));
    const quantization = quantizeModel(model, { method: 'kmeans', bits: 2, layerBits: { 'layers.1': 8, 'layers.4.weight': 5 } });
    const bits = [...quantization.values()].map((q) => (q.kind === 'codebook' ? [q.bits, q.codebook.length] : null));
    expect(bits.map((b) => b![0])).toEqual([8, 5, 2]);
    expect(bits[0]![1]).toBeGreaterThan(32); // 54 distinct weights use more than 5 bits' worth of centroids
    expect(bits[2]![1]).toBeLessThanOrEqual(4);
  });

  it('float16 rounds the conv centroids and biases and re-ties the conv weights', () => {
    const model = prunedConvModel(5);
    const quantization = quantizeModel(model, { method: 'kmeans', bits: 4, float16: true });
    for (const [name, p] of quantizableParameters(model)) {
      const q = quantization.get(name)!;
      if (q.kind !== 'codebook') throw new Error('expected a codebook');
      expect(q.codebook.every((c) => roundToFloat16(c) === c), name).toBe(true);
      expectTied(name, p, q);
    }
    for (const [, p] of model.namedParameters().filter(([, p]) => p.value.shape.length === 1)) expect(p.value.data.every((b) => roundToFloat16(b) === b)).toBe(true);
  });
});

describe('trained quantization on conv2d weights', () => {
  it('the gradient of a conv centroid is the sum of its members’ gradients (checked numerically)', () => {
    // tanh and average pooling: a smooth loss, so central differences see no ReLU or max-pool kinks.
    const model = buildModel(architectureSpec(ARCH.replace('m2', 'a2'), 'tanh'), new Rng(6));
    const quantization = quantizeModel(model, { method: 'kmeans', bits: 2 });
    const data = images(4, 7);
    const x = new Tensor(data.x, [4, 64]);
    const labels = Int32Array.from(data.y);
    for (const name of CONVS) {
      const weight = model.namedParameters().find(([n]) => n === name)![1];
      const q = quantization.get(name)!;
      if (q.kind !== 'codebook') throw new Error('expected a codebook');
      const lossAt = (codebook: Float64Array): number => {
        for (let i = 0; i < weight.value.size; i++) weight.value.data[i] = codebook[q.codes[i]!]!;
        return crossEntropy(model.forward(constant(x)), labels).value.data[0]!;
      };
      const base = Float64Array.from(q.codebook);
      lossAt(base);
      for (const p of model.parameters()) p.grad = null;
      backward(crossEntropy(model.forward(constant(x)), labels));
      const analytic = centroidGradients(weight.grad!.data as Float32Array, q.codes, q.codebook.length, null);
      expect(analytic.some((g) => Math.abs(g) > 1e-3), name).toBe(true); // the check below is not vacuous
      expectCentroidGradients(lossAt, base, analytic, 1e-3, `${name} centroid`);
      lossAt(base);
    }
  });

  for (const backend of ['js', 'wasm-simd'] as const) {
    it(`fine-tuning (${backend}) moves the conv centroids, keeps weights tied, masks and pruned zeros`, () => {
      const model = prunedConvModel(8);
      const masks = quantizableParameters(model).map(([, p]) => Uint8Array.from(p.mask!));
      const before = quantizeModel(buildModelLike(model), { method: 'kmeans', bits: 3 });
      const { quantization } = quantizeAndFineTune(model, images(120, 9), { method: 'kmeans', bits: 3, epochs: 2, lr: 1e-2, batchSize: 20, fit: { backend } });
      quantizableParameters(model).forEach(([name, p], l) => {
        const q = quantization.get(name)!;
        expect(Array.from(p.mask!)).toEqual(Array.from(masks[l]!));
        expectTied(name, p, q);
        if (q.kind !== 'codebook') throw new Error('expected a codebook');
        expect(q.codebook.length).toBeLessThanOrEqual(8);
        const start = before.get(name)!;
        if (start.kind === 'codebook' && CONVS.includes(name)) expect(Array.from(q.codebook), name).not.toEqual(Array.from(start.codebook));
      });
    });
  }

  it('int8 quantization-aware training on conv weights: forward weights int8 per filter, masks and zeros kept', () => {
    const model = prunedConvModel(10);
    const start = quantizableParameters(model).map(([, p]) => Float32Array.from(p.value.data));
    const masks = quantizableParameters(model).map(([, p]) => Uint8Array.from(p.mask!));
    const { quantization } = quantizeAndFineTune(model, images(120, 11), { method: 'int8', epochs: 2, lr: 1e-2, batchSize: 20, fit: { backend: 'js' } });
    quantizableParameters(model).forEach(([name, p], l) => {
      expect(Array.from(p.mask!)).toEqual(Array.from(masks[l]!));
      expectTied(name, p, quantization.get(name)!);
      expect(Array.from(p.value.data), name).not.toEqual(Array.from(start[l]!));
    });
  });
});

/** A copy of `model` (same architecture, weights and masks), for quantizing without touching the original. */
function buildModelLike(model: Sequential): Sequential {
  const copy = buildModel(model.spec(), new Rng(0));
  const source = model.namedParameters();
  copy.namedParameters().forEach(([, p], i) => {
    const from = source[i]![1];
    p.value = new Tensor(Float32Array.from(from.value.data), from.value.shape);
    if (from.mask !== null) p.setMask(Uint8Array.from(from.mask));
  });
  return copy;
}
