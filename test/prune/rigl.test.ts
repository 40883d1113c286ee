/**
 * Issue 17, item 3: RigL (Evci et al. 2020) barely ran — ΔT = 100 fixed, so a 1-epoch digits run made no
 * connection update and 4 epochs one; a weight dropped in an update could not be regrown in the same
 * update; there was no ERK layer distribution and no sparse-from-scratch start, RigL's own setting.
 */
import { describe, expect, it } from 'vitest';
import { buildModel, cloneModel } from '../../src/nn/index.ts';
import { exchangeWeights, findTargets, keptPerLayer, riglUpdateInterval, runPruning } from '../../src/prune/index.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { toyConfig, toyTrain as train, trainedToyModel } from './helpers.ts';

const dense = trainedToyModel();

describe('drop and grow', () => {
  it('grows among the connections inactive after the drop, so a just-dropped weight can be regrown (keeping its value)', () => {
    const mask = Uint8Array.from([1, 1, 0]);
    // k = floor(0.5·2) = 1: weight 0 (|w| 0.1) is dropped; of {0, 2} the larger |g| is weight 0's.
    expect(Array.from(exchangeWeights(mask, [0.1, 5, 0], [9, 0, 1], 0.5)!)).toEqual([1, 1, 0]);
    expect(Array.from(exchangeWeights(mask, [0.1, 5, 0], [1, 0, 9], 0.5)!)).toEqual([0, 1, 1]);
  });
});

describe('update interval ΔT, scaled to the run', () => {
  it("is the paper's 100 where T_end allows ten updates, and T_end/10 for shorter runs", () => {
    expect(riglUpdateInterval(47)).toBe(5); // 1 epoch of the digits at batch 128: T_end = 0.75 · 63
    expect(riglUpdateInterval(189)).toBe(19); // 4 epochs
    expect(riglUpdateInterval(100_000)).toBe(100);
    expect(riglUpdateInterval(3)).toBe(1);
  });

  for (const epochs of [1, 3]) {
    it(`a ${epochs}-epoch run makes about T_end/ΔT updates`, () => {
      const result = runPruning(cloneModel(dense), { train }, toyConfig('rigl', { epochs }));
      const endStep = Math.floor(epochs * Math.ceil(train.count / 32) * 0.75);
      const every = riglUpdateInterval(endStep);
      const expected = Math.floor((endStep - 1) / every);
      expect(expected).toBeGreaterThanOrEqual(epochs === 1 ? 5 : 9);
      expect(result.notes.join('\n')).toContain(`rigl: ${expected} connection updates`);
    });
  }
});

describe('layer distributions', () => {
  const layers = [{ rows: 300, cols: 784 }, { rows: 100, cols: 300 }, { rows: 10, cols: 100 }];

  it('ERK: density ∝ (n_in + n_out)/(n_in·n_out), capped at 1 with the rest rescaled, on the exact budget', () => {
    const kept = keptPerLayer(layers, 0.9, 'erk');
    expect(kept[2]).toBe(1000); // (100 + 10)/(100·10) is the largest: this layer becomes dense
    const budget = Math.round(0.1 * (235_200 + 30_000 + 1000));
    expect(kept.reduce((a, b) => a + b, 0)).toBe(budget);
    // The others share the rest in proportion to (n_in + n_out)/(n_in·n_out) · n_in·n_out = n_in + n_out.
    expect(kept[0]! / kept[1]!).toBeCloseTo((784 + 300) / (300 + 100), 2);
  });

  it('uniform: every layer at the same sparsity; a fixed (overridden) layer keeps its own', () => {
    expect(keptPerLayer(layers, 0.9, 'uniform')).toEqual([23_520, 3000, 100]);
    const kept = keptPerLayer([layers[0]!, layers[1]!, { ...layers[2]!, sparsity: 0 }], 0.9, 'erk');
    expect(kept[2]).toBe(1000);
    expect(kept[0]! + kept[1]!).toBe(Math.round(0.1 * 265_200));
  });
});

describe('sparse from scratch', () => {
  it("re-initialises and starts from a random mask at the ERK densities (RigL's own setting)", () => {
    const result = runPruning(cloneModel(dense), { train }, toyConfig('rigl', { epochs: 1, lr: 1e-12 }));
    const fresh = findTargets(buildModel(dense.spec(), new Rng(3)));
    const targets = findTargets(result.model);
    const kept = keptPerLayer(targets.map((t) => ({ rows: t.weight.value.shape[0]!, cols: t.weight.value.shape[1]! })), 0.8, 'erk');
    targets.forEach((t, k) => {
      expect(t.weight.keptCount()).toBe(kept[k]);
      // With a vanishing learning rate a kept weight is its fresh initial value, or ~0 if it was grown.
      t.weight.value.data.forEach((v, i) => Math.abs(v) > 1e-6 && expect(v).toBeCloseTo(fresh[k]!.weight.value.data[i]!, 6));
    });
  });

  it("start 'trained' keeps the trained weights: the largest |w| per layer at the ERK densities", () => {
    const result = runPruning(cloneModel(dense), { train }, toyConfig('rigl', { epochs: 1, lr: 1e-12, options: { start: 'trained', updateEvery: 1000 } }));
    const trained = findTargets(dense);
    findTargets(result.model).forEach((t, k) => {
      const w = trained[k]!.weight.value.data;
      const keptMagnitudes = Array.from(w).filter((_, i) => t.weight.mask![i] === 1).map(Math.abs);
      const prunedMagnitudes = Array.from(w).filter((_, i) => t.weight.mask![i] === 0).map(Math.abs);
      expect(Math.min(...keptMagnitudes)).toBeGreaterThanOrEqual(Math.max(...prunedMagnitudes));
    });
  });
});
