import { describe, expect, it } from 'vitest';
import { NonFiniteError } from '../../src/errors.ts';
import { deserializeModel, serializeModel } from '../../src/io/model-file.ts';
import { modelFromRecord, modelToRecord } from '../../src/io/model-adapter.ts';
import { Adam, fit, mlp, predictClasses, predict } from '../../src/nn/index.ts';
import { compileModel, inferenceLayers } from '../../src/compile/index.ts';
import { findTargets, parseGranularity, pruneTargets } from '../../src/prune/index.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { toyData } from '../prune/helpers.ts';

const train = toyData(400, 20, 4, 5);
const test = toyData(300, 20, 4, 6);

function prunedModel(granularity = 'weight', sparsity = 0.9) {
  const model = mlp([20, 32, 16, 4], { seed: 2 });
  fit(model, train, { epochs: 3, batchSize: 32, optimizer: new Adam(model.parameters(), { lr: 0.01 }), seed: 1 });
  pruneTargets(findTargets(model), sparsity, { criterion: 'magnitude', scope: granularity === '2:4' ? 'layer' : 'global', granularity: parseGranularity(granularity), rng: new Rng(0) });
  return model;
}

describe('pruned model → sparse inference', () => {
  for (const granularity of ['weight', 'neuron', '4x1', '2:4']) {
    it(`predicts exactly the classes of the masked dense model (${granularity}) at batch 1, 7 and all`, () => {
      const model = prunedModel(granularity, granularity === '2:4' ? 0 : 0.8);
      const compiled = compileModel(model);
      const expected = predictClasses(model, test.x, test.count);
      expect(Array.from(compiled.predictClasses(test.x, test.count))).toEqual(Array.from(expected));
      for (let i = 0; i < 20; i++) {
        expect(compiled.predictClasses(test.x.subarray(i * 20, (i + 1) * 20), 1)[0]).toBe(expected[i]);
      }
      const logits = predict(model, test.x.subarray(0, 7 * 20), 7).data;
      const sparse = compiled.predict(test.x.subarray(0, 7 * 20), 7);
      const scale = Math.max(...Array.from(logits, Math.abs));
      for (let i = 0; i < logits.length; i++) expect(Math.abs(sparse[i]! - logits[i]!) / scale).toBeLessThan(1e-5);
    });
  }

  it('fuses activations and drops nothing but dropout', () => {
    const layers = inferenceLayers(mlp([5, 4, 3], { seed: 0 }));
    expect(layers.map((l) => l.activation)).toEqual(['relu', 'none']);
  });

  for (const backend of ['js', 'wasm-simd'] as const) {
    it(`answers NaN where the dense model does: a sample with a NaN or infinite input, on every kernel (${backend})`, () => {
      const model = prunedModel('weight', 0.9);
      // Input 0 of the first layer fully pruned: a sparse kernel never reads it, the dense model multiplies it.
      findTargets(model)[0]!.weight.value.data.forEach((_, i, w) => { if (i % 20 === 0) w[i] = 0; });
      const x = test.x.slice(0, 5 * 20);
      x[0] = NaN;
      x[2 * 20 + 7] = Infinity;
      const dense = predict(model, x, 5).data;
      for (const strategy of ['auto', 'dense', 'csr', 'bsr4x1'] as const) {
        const compiled = compileModel(model, { backend, strategy });
        for (const [batch, samples] of [[5, x], [1, x.subarray(0, 20)]] as const) {
          const logits = compiled.predict(samples, batch);
          for (let i = 0; i < logits.length; i++) expect(Number.isNaN(logits[i]!)).toBe(Number.isNaN(dense[i]!));
        }
      }
      expect(Array.from(dense.subarray(0, 4), Number.isNaN)).toEqual([true, true, true, true]);
      expect(Array.from(dense.subarray(4, 8), Number.isNaN)).toEqual([false, false, false, false]);
    });
  }

  it('refuses a model with a non-finite weight, naming the layer and the index', () => {
    const model = mlp([5, 4, 3], { seed: 0 });
    findTargets(model)[1]!.weight.value.data[7] = NaN;
    expect(() => compileModel(model)).toThrow(NonFiniteError);
    expect(() => compileModel(model)).toThrow(/layer 1: weight\[7\] \(row 1, column 3\) is NaN/);
  });
});

describe('pruned model files', () => {
  it('save → load → save is byte-identical, and the CSR model predicts like the dense one', () => {
    const model = prunedModel();
    const first = serializeModel(modelToRecord(model, { encoding: 'auto' }), { encoding: 'auto' });
    const loaded = modelFromRecord(deserializeModel(first));
    const second = serializeModel(modelToRecord(loaded, { encoding: 'auto' }), { encoding: 'auto' });
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
    expect(Array.from(predictClasses(loaded, test.x, test.count))).toEqual(Array.from(predictClasses(model, test.x, test.count)));
    // The masks came back from the CSR structure: pruned weights stay pruned when training resumes.
    for (const [i, t] of findTargets(loaded).entries()) expect(Array.from(t.weight.mask!)).toEqual(Array.from(findTargets(model)[i]!.weight.mask!));
    const dense = serializeModel(modelToRecord(model, { encoding: 'dense' }), { encoding: 'dense' });
    expect(first.length * 2).toBeLessThan(dense.length);
    const fromDense = modelFromRecord(deserializeModel(dense));
    expect(Array.from(predictClasses(fromDense, test.x, test.count))).toEqual(Array.from(predictClasses(model, test.x, test.count)));
  });
});
