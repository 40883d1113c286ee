/**
 * Issue 17, item 10: Dynamic Network Surgery as Guo, Yao & Chen (2016) and their Caffe code define it — per
 * layer μ = mean|w| and σ = std|w| over the non-zero weights and biases once, then with probability
 * σ(t) = (1 + γt)^(−power) a kept weight with |w| ≤ 0.9·max(μ + c·σ, 0) is pruned and a pruned one with
 * |w| > 1.1·max(μ + c·σ, 0) spliced back, biases too — is `dns`. The cubic-schedule variant that `dns` used to
 * be is `dns-scheduled`.
 */
import { describe, expect, it } from 'vitest';
import { cloneModel, type Sequential } from '../../src/nn/index.ts';
import { calibrateCRate, dnsSurgery, findTargets, pruningMethod, runPruning } from '../../src/prune/index.ts';
import { toyConfig, toyTrain as train, trainedToyModel } from './helpers.ts';

const dense = trainedToyModel();

/** The paper's thresholds max(μ + c·σ, 0) per layer, from its non-zero weights and biases. */
function thresholds(model: Sequential, c: number): number[] {
  return findTargets(model).map((t) => {
    const values = [...t.weight.value.data, ...t.layer.bias!.value.data].filter((v) => v !== 0).map(Math.abs);
    const mu = values.reduce((a, b) => a + b, 0) / values.length;
    const sigma = Math.sqrt(values.reduce((a, b) => a + b * b, 0) / values.length - mu * mu);
    return Math.max(mu + c * sigma, 0);
  });
}

describe('dns: the paper\'s prune-and-splice rule', () => {
  it('prunes kept weights at |w| ≤ 0.9·t and splices pruned ones back at |w| > 1.1·t; the band in between keeps its state', () => {
    const previous = Uint8Array.from([1, 1, 1, 0, 0, 0]);
    const w = Float64Array.from([0.89, 0.9, 1.05, 1.05, 1.1, -1.11]);
    expect(Array.from(dnsSurgery(previous, w, 1))).toEqual([0, 0, 1, 0, 0, 1]);
  });

  it('at the first iteration masks weights and biases by the layer statistics (μ, σ over weights and biases)', () => {
    // γ huge: after iteration 0 the update probability (1 + γt)^−1 is ~0, and a tiny lr keeps the weights put.
    const result = runPruning(cloneModel(dense), { train }, toyConfig('dns', { epochs: 1, lr: 1e-12, options: { cRate: 0.5, gamma: 1e12 } }));
    const limits = thresholds(dense, 0.5);
    const denseTargets = findTargets(dense);
    findTargets(result.model).forEach((t, k) => {
      const w0 = denseTargets[k]!.weight.value.data;
      expect(Array.from(t.weight.mask!)).toEqual(Array.from(w0, (v) => (Math.abs(v) <= 0.9 * limits[k]! ? 0 : 1)));
      const b0 = denseTargets[k]!.layer.bias!.value.data;
      expect(Array.from(t.layer.bias!.mask!)).toEqual(Array.from(b0, (v) => (Math.abs(v) <= 0.9 * limits[k]! ? 0 : 1)));
    });
  });

  it('calibrates c so that the first iteration prunes a target fraction of the weights', () => {
    const c = calibrateCRate(dense, 0.7);
    const result = runPruning(cloneModel(dense), { train }, toyConfig('dns', { epochs: 1, lr: 1e-12, options: { cRate: c, gamma: 1e12 } }));
    const total = findTargets(dense).reduce((n, t) => n + t.weight.value.size, 0);
    expect(Math.abs(result.sparsity - 0.7) * total).toBeLessThanOrEqual(1);
  });

  it('trains with prune and splice and ends with masks matching the zeros', () => {
    const result = runPruning(cloneModel(dense), { train }, toyConfig('dns', { epochs: 2, options: { cRate: 1 } }));
    expect(result.sparsity).toBeGreaterThan(0.5);
    for (const t of findTargets(result.model)) t.weight.mask!.forEach((m, i) => m === 0 && expect(t.weight.value.data[i]).toBe(0));
  });
});

describe('dns-scheduled: the variant', () => {
  it('is registered under its own name and reaches the target sparsity', () => {
    expect(pruningMethod('dns-scheduled').paper).toMatch(/variant/);
    const result = runPruning(cloneModel(dense), { train }, toyConfig('dns-scheduled', { epochs: 2, sparsity: 0.8 }));
    const total = findTargets(dense).reduce((n, t) => n + t.weight.value.size, 0);
    expect(Math.abs(result.sparsity - 0.8) * total).toBeLessThanOrEqual(1);
  });
});
