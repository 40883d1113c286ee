import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/dataset.ts';
import { ConfigError } from '../../src/errors.ts';
import { mlp, type Sequential } from '../../src/nn/index.ts';
import { quantizeAndFineTune, quantizeModel, type ModelQuantization } from '../../src/quantize/index.ts';
import { roundToFloat16 } from '../../src/tensor/float16.ts';
import { Rng } from '../../src/tensor/rng.ts';

function toyData(count: number, features: number, classes: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: count * features }, () => rng.uniform());
  const y = Uint8Array.from({ length: count }, (_, i) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (x[i * features + c]! > x[i * features + best]!) best = c;
    return best;
  });
  return { x, y, count, features, numClasses: classes, name: 'toy' };
}

/** A 12-9-4 model whose first weight is pruned at random, with biases far from halves (float32 noise). */
function prunedModel(seed: number): Sequential {
  const model = mlp([12, 9, 4], { seed });
  const rng = new Rng(seed + 100);
  for (const [, p] of model.namedParameters()) {
    if (p.value.shape.length === 1) for (let i = 0; i < p.value.size; i++) p.value.data[i] = Math.fround(rng.normal() * 0.1);
  }
  const [, weight] = model.namedParameters()[0]!;
  weight.setMask(Uint8Array.from({ length: weight.value.size }, () => (rng.uniform() < 0.5 ? 0 : 1)));
  return model;
}

const isHalf = (x: number): boolean => Object.is(roundToFloat16(x), x);
const paramsOf = (model: Sequential): [string, Float32Array][] => model.namedParameters().map(([name, p]) => [name, Float32Array.from(p.value.data)]);
const rounded = (values: Float32Array): number[] => Array.from(values, roundToFloat16);

/**
 * The float16 model is the float32 one with biases, centroids and (through the centroids) kept weights rounded
 * to halves, nothing else: same codes, same masks, same codebook sizes, zeros where pruned.
 */
function expectRoundedCopy(plain: { model: Sequential; quantization: ModelQuantization }, half: { model: Sequential; quantization: ModelQuantization }): void {
  const plainParams = new Map(paramsOf(plain.model));
  for (const [name, p] of half.model.namedParameters()) {
    const before = plainParams.get(name)!;
    const values = p.value.data as Float32Array;
    if (p.value.shape.length === 1) {
      expect(Array.from(values), name).toEqual(rounded(before));
      expect(Array.from(values).every(isHalf)).toBe(true);
      expect(Array.from(values)).not.toEqual(Array.from(before)); // the biases were no halves: rounding changed them
      continue;
    }
    const q = half.quantization.get(name)!;
    const qPlain = plain.quantization.get(name)!;
    expect(Array.from(q.codes), name).toEqual(Array.from(qPlain.codes));
    expect(Array.from(p.mask ?? [])).toEqual(Array.from(plain.model.namedParameters().find(([n]) => n === name)![1].mask ?? []));
    if (q.kind === 'codebook' && qPlain.kind === 'codebook') {
      expect(q.codebook.length).toBe(qPlain.codebook.length);
      expect(Array.from(q.codebook)).toEqual(rounded(qPlain.codebook));
      for (let i = 0; i < values.length; i++) {
        const pruned = p.mask !== null && p.mask[i] === 0;
        expect(values[i]).toBe(pruned ? 0 : q.codebook[q.codes[i]!]);
      }
      expect(Array.from(values)).toEqual(rounded(before)); // = the float32 weights rounded, entry by entry
    } else if (q.kind === 'int8' && qPlain.kind === 'int8') {
      expect(Array.from(q.scales)).toEqual(Array.from(qPlain.scales)); // scales stay float32
      expect(Array.from(values)).toEqual(Array.from(before));
    } else {
      expect.fail(`${name}: different kinds`);
    }
  }
}

describe('quantizeModel with float16', () => {
  for (const method of ['kmeans', 'int8'] as const) {
    it(`${method}: biases${method === 'kmeans' ? ' and centroids' : ''} become the nearest halves; codes, masks and pruned zeros stay`, () => {
      const plain = prunedModel(3);
      const half = prunedModel(3);
      const mask = half.namedParameters()[0]![1].mask!;
      const plainQ = quantizeModel(plain, { method, bits: 3 });
      const halfQ = quantizeModel(half, { method, bits: 3, float16: true });
      expect(half.namedParameters()[0]![1].mask).toBe(mask);
      expectRoundedCopy({ model: plain, quantization: plainQ }, { model: half, quantization: halfQ });
    });
  }

  it('float16: false and no option are the same model', () => {
    const a = prunedModel(4);
    const b = prunedModel(4);
    quantizeModel(a, { method: 'kmeans', bits: 4 });
    quantizeModel(b, { method: 'kmeans', bits: 4, float16: false });
    expect(paramsOf(b)).toEqual(paramsOf(a));
  });

  it('refuses a bias float16 cannot hold, naming it, before changing the model', () => {
    const model = prunedModel(5);
    model.namedParameters()[3]![1].value.data[2] = 65520;
    const before = paramsOf(model);
    expect(() => quantizeModel(model, { method: 'kmeans', bits: 3, float16: true })).toThrowError(ConfigError);
    expect(() => quantizeModel(model, { method: 'kmeans', bits: 3, float16: true })).toThrowError(/bias layers\.2\.bias\[2\] is 65520, which float16 cannot hold/);
    expect(paramsOf(model)).toEqual(before);
    model.namedParameters()[3]![1].value.data[2] = 65519; // rounds to 65504: fine
    quantizeModel(model, { method: 'kmeans', bits: 3, float16: true });
    expect(model.namedParameters()[3]![1].value.data[2]).toBe(65504);
    expect(() => quantizeModel(prunedModel(5), { method: 'int8', float16: 'yes' as unknown as boolean })).toThrowError(/float16 must be true or false/);
  });

  it('refuses a centroid float16 cannot hold (weights that large), naming the weight', () => {
    const model = mlp([3, 2], { seed: 6 });
    model.namedParameters()[0]![1].value.data.fill(70000);
    expect(() => quantizeModel(model, { method: 'kmeans', bits: 2, float16: true })).toThrowError(/centroid 0 of layers\.0\.weight is 70000, which float16 cannot hold/);
  });
});

describe('quantizeAndFineTune with float16', () => {
  for (const method of ['kmeans', 'int8'] as const) {
    it(`${method}: trains bit for bit as without it, then rounds`, () => {
      const data = toyData(120, 12, 4, 7);
      const settings = { method, bits: 3, epochs: 2, lr: 1e-2, batchSize: 20, seed: 1, fit: { backend: 'js' as const } };
      const plain = prunedModel(8);
      const half = prunedModel(8);
      const plainRun = quantizeAndFineTune(plain, data, settings);
      const halfRun = quantizeAndFineTune(half, data, { ...settings, float16: true });
      // The same losses at every epoch, and a final model that is the float32 one rounded: the same training run.
      expect(halfRun.history!.epochs.map((e) => e.loss)).toEqual(plainRun.history!.epochs.map((e) => e.loss));
      expectRoundedCopy({ model: plain, quantization: plainRun.quantization }, { model: half, quantization: halfRun.quantization });
    });
  }

  it('with 0 epochs it is quantizeModel with float16', () => {
    const a = prunedModel(9);
    const b = prunedModel(9);
    const { quantization } = quantizeAndFineTune(a, toyData(10, 12, 4, 1), { method: 'kmeans', bits: 3, epochs: 0, float16: true });
    const direct = quantizeModel(b, { method: 'kmeans', bits: 3, float16: true });
    expect(paramsOf(a)).toEqual(paramsOf(b));
    expect(quantization).toEqual(direct);
  });
});
