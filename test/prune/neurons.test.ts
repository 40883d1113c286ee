/**
 * Issue 17, item 4: neuron pruning. A global ranking of raw neuron scores was biased by fan-in (at 0.5 on
 * 784-300-100-10 it removed 169 of 300 neurons of layer 0 and none of layer 1); Taylor scored a neuron by
 * mean |w·g| instead of Molchanov et al.'s group score (Σ w·g + b·g_b)²; and "sparsity" counted the removed
 * rows only, not the next layer's columns that go with them (0.528 for a 0.5 target).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { mlp, type Parameter } from '../../src/nn/index.ts';
import { computeMasks, findTargets, GradientStats, importanceScores, pruneTargets, runPruning, targetsSparsity } from '../../src/prune/index.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { toyConfig, toyTrain } from './helpers.ts';

const neuron = { kind: 'neuron' } as const;
const rng = new Rng(0);

function deadRows(p: Parameter): number {
  const [rows, cols] = p.value.shape as [number, number];
  let dead = 0;
  for (let r = 0; r < rows; r++) if (p.mask!.subarray(r * cols, (r + 1) * cols).every((m) => m === 0)) dead++;
  return dead;
}

describe('neuron selection', () => {
  it('global scope ranks per-layer normalised scores, so a wide-input layer is not emptied first', () => {
    // Two hidden layers of 100 neurons with fan-in 784 and 100. He init: the mean |w| of a row ∝ 1/√fan-in, so
    // raw scores rank every neuron of layer 0 below every neuron of layer 1.
    const model = mlp([784, 100, 100, 10], { seed: 0 });
    const targets = findTargets(model);
    pruneTargets(targets, 0.5, { criterion: 'magnitude', scope: 'global', granularity: neuron, rng });
    const removed0 = deadRows(targets[0]!.weight) / 100;
    const removed1 = deadRows(targets[1]!.weight) / 100;
    expect(removed0).toBeGreaterThan(0.2);
    expect(removed1).toBeGreaterThan(0.2);
  });

  for (const scope of ['layer', 'global'] as const) {
    it(`${scope} scope reaches the target in real weights: rows and the next layer's columns`, () => {
      const targets = findTargets(mlp([20, 16, 12, 4], { seed: 3 }));
      pruneTargets(targets, 0.5, { criterion: 'magnitude', scope, granularity: neuron, rng });
      const total = targets.reduce((n, t) => n + t.weight.value.size, 0);
      const largestNeuron = 20 + 12; // a layer-0 neuron: its row (20) and its column in layer 1 (12)
      expect(Math.abs(targetsSparsity(targets) - 0.5) * total).toBeLessThanOrEqual(largestNeuron / 2);
    });
  }

  it('layer scope removes the same fraction of each hidden layer (to one neuron)', () => {
    const targets = findTargets(mlp([20, 16, 12, 4], { seed: 3 }));
    pruneTargets(targets, 0.5, { criterion: 'magnitude', scope: 'layer', granularity: neuron, rng });
    expect(Math.abs(deadRows(targets[0]!.weight) / 16 - deadRows(targets[1]!.weight) / 12)).toBeLessThanOrEqual(1 / 12);
  });

  it('refuses per-layer overrides, which one neuron\'s two layers make ill-defined', () => {
    const targets = findTargets(mlp([6, 4, 2], { seed: 1 }));
    const scores = new Map(targets.map((t) => [t, new Float64Array(t.weight.value.size).fill(1)]));
    expect(() => computeMasks(targets, scores, { sparsity: 0.5, scope: 'layer', granularity: neuron, overrides: { 'layers.0.weight': 0.5 } })).toThrow(ConfigError);
  });
});

describe('Taylor scores of whole neurons (Molchanov et al. 2019)', () => {
  it('GradientStats accumulates (Σ_row w·g + b·g_b)² per mini-batch', () => {
    const model = mlp([3, 2, 2], { seed: 1 });
    const [target] = findTargets(model);
    const w = target!.weight;
    const b = target!.layer.bias!;
    w.value.data.set([1, 2, -1, 0.5, -0.5, 2]);
    b.value.data.set([0.5, -1]);
    const stats = GradientStats.forTargets([target!]);
    const batches = [
      { g: [0.1, -0.2, 0.3, 1, 1, 1], gb: [2, 0] },
      { g: [0, 0, 0, -1, 0, 0.5], gb: [1, -1] },
    ];
    for (const { g, gb } of batches) {
      w.grad = new Tensor(Float32Array.from(g), [2, 3]);
      b.grad = new Tensor(Float32Array.from(gb), [2]);
      stats.accumulate();
    }
    // Batch 1: row 0: 0.1 − 0.4 − 0.3 + 0.5·2 = 0.4; row 1: 0.5 − 0.5 + 2 + (−1)·0 = 2.
    // Batch 2: row 0: 0 + 0.5·1 = 0.5; row 1: −0.5 + 0 + 1 + (−1)(−1) = 1.5.
    const sums = stats.neuronSum(w);
    expect(sums[0]).toBeCloseTo(0.4 ** 2 + 0.5 ** 2, 6);
    expect(sums[1]).toBeCloseTo(2 ** 2 + 1.5 ** 2, 6);
  });

  it('taylor with neuron granularity prunes the neuron whose group sum is small, even when its |w·g| are large', () => {
    const model = mlp([2, 2, 2], { seed: 0 });
    const [target] = findTargets(model);
    const stats = GradientStats.forTargets([target!]);
    stats.batches = 1;
    // Neuron 0: w·g = +1 and −1, which cancel (group sum 0) although mean |w·g| = 1.
    // Neuron 1: w·g = 0.3 and 0.3 (group sum 0.6, squared 0.36), mean |w·g| = 0.3.
    stats.sumAbsWeightGrad.set(target!.weight, Float64Array.from([1, 1, 0.3, 0.3]));
    stats.sumSqNeuronWeightGrad.set(target!.weight, Float64Array.from([0, 0.36]));
    const perWeight = importanceScores('taylor', target!, stats, rng);
    const perNeuron = importanceScores('taylor', target!, stats, rng, neuron);
    expect(Array.from(perWeight)).toEqual([1, 1, expect.closeTo(0.3, 12), expect.closeTo(0.3, 12)]);
    expect(Array.from(perNeuron)).toEqual([0, 0, expect.closeTo(0.36, 12), expect.closeTo(0.36, 12)]);
  });
});

describe('neuron settings are checked before training', () => {
  it('runPruning refuses overrides with neurons before any step', () => {
    let epochs = 0;
    expect(() => runPruning(mlp([12, 8, 3], { seed: 0 }), { train: toyTrain }, toyConfig('gradual', { granularity: neuron, overrides: { 'layers.0.weight': 0.5 } }), { onEpoch: () => epochs++ })).toThrow(/do not apply to neuron pruning/);
    expect(epochs).toBe(0);
  });
});
