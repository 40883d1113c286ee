/**
 * The weight-level selection rules of methods that recompute masks while training, and the regrowing
 * masks they install through (`Parameter.updatePruned`): pruned weights are updated by the optimizer and
 * may come back, the decision is a mask, and weights pruned before the run stay pruned.
 */
import { describe, expect, it } from 'vitest';
import { Adam, mlp, Parameter, SGD } from '../../src/nn/index.ts';
import { exchangeWeights, findTargets, maskByThreshold, maskTopK, maskWithHysteresis, RegrowingMasks } from '../../src/prune/index.ts';
import { tensor } from '../../src/tensor/tensor.ts';

describe('selection rules', () => {
  it('maskByThreshold prunes scores below the threshold, and at it when asked', () => {
    expect(Array.from(maskByThreshold([0.1, 0.5, 0.9, 0.5], 0.5))).toEqual([0, 1, 1, 1]);
    expect(Array.from(maskByThreshold([0.1, 0.5, 0.9, 0.5], 0.5, { pruneAtThreshold: true }))).toEqual([0, 0, 1, 0]);
    expect(Array.from(maskByThreshold([], 1))).toEqual([]);
    expect(() => maskByThreshold([1], Number.NaN)).toThrow(/NaN/);
  });

  it('maskTopK prunes exactly round(s·n) across the group, ties by position, already-zero scores included', () => {
    const a = [3, 1, 2, 1];
    const b = [1, 5, 0];
    const [ma, mb] = maskTopK([a, b], 3 / 7);
    // pruned: 0 (b[2]), then the three 1s in order a[1], a[3], b[0] → only the first two of the ties go
    expect(Array.from(ma!)).toEqual([1, 0, 1, 0]);
    expect(Array.from(mb!)).toEqual([1, 1, 0]);
    expect(maskTopK([a], 0).map((m) => Array.from(m))).toEqual([[1, 1, 1, 1]]);
    expect(Array.from(maskTopK([[4, 3, 2, 1]], 0.74)[0]!)).toEqual([1, 0, 0, 0]);
    expect(() => maskTopK([a], 1)).toThrow(/sparsity must be in \[0, 1\)/);
  });

  it('maskWithHysteresis prunes below low, keeps above high, leaves the band alone', () => {
    const previous = Uint8Array.from([1, 0, 1, 0, 0]);
    const next = maskWithHysteresis(previous, [0.1, 0.5, 0.5, 0.9, 0.45], 0.4, 0.6);
    expect(Array.from(next)).toEqual([0, 0, 1, 1, 0]);
    expect(Array.from(previous)).toEqual([1, 0, 1, 0, 0]); // not mutated
    expect(() => maskWithHysteresis(previous, [1], 2, 1)).toThrow(/low 2 must not exceed high 1/);
  });

  it('exchangeWeights drops the weakest kept and grows the strongest inactive after the drop, keeping the count', () => {
    const mask = Uint8Array.from([1, 1, 1, 1, 0, 0, 0, 0]);
    const drop = [0.5, 0.1, 0.9, 0.2, 0, 0, 0, 0];
    const grow = [0, 0.2, 0, 0.1, 0.3, 0.8, 0.1, 0.8];
    const next = exchangeWeights(mask, drop, grow, 0.5)!;
    expect(Array.from(next)).toEqual([1, 0, 1, 0, 0, 1, 0, 1]); // dropped 1 and 3; grew 5 and 7 (tie: earlier first)
    expect(next.reduce((s, m) => s + m, 0)).toBe(4);
    expect(exchangeWeights(mask, drop, grow, 0.1)).toBeNull(); // floor(0.4) = 0
    // Only the two dropped weights are candidates: the one with the larger gradient comes straight back.
    expect(Array.from(exchangeWeights(Uint8Array.from([1, 1]), [1, 2], [5, 0], 0.5)!)).toEqual([1, 1]);
  });
});

describe('Parameter.updatePruned', () => {
  it('lets every optimizer update pruned weights and keeps their gradient; the default does not', () => {
    for (const make of [(p: Parameter) => new SGD([p], { lr: 0.1, momentum: 0.9 }), (p: Parameter) => new Adam([p], { lr: 0.1 })]) {
      const frozen = new Parameter(tensor([1, 2, 3], [3], 'float64'));
      frozen.setMask(Uint8Array.from([1, 0, 1]));
      const free = new Parameter(tensor([1, 2, 3], [3], 'float64'));
      free.setMask(Uint8Array.from([1, 0, 1]));
      free.updatePruned = true;
      for (const p of [frozen, free]) {
        p.grad = null;
        p.accumulateGrad(tensor([1, 1, 1], [3], 'float64'));
        make(p).step();
      }
      expect(frozen.value.data[1]).toBe(0);
      expect(free.grad!.data[1]).toBe(1);
      expect(free.value.data[1]).toBeLessThan(0); // moved away from zero against the gradient
    }
  });
});

describe('RegrowingMasks', () => {
  it('installs selected masks with regrowth allowed, but never revives weights pruned before the run', () => {
    const model = mlp([4, 3], { seed: 1 });
    const [t] = findTargets(model);
    const start = new Uint8Array(12).fill(1);
    start[0] = 0;
    t!.weight.setMask(start);
    const masks = new RegrowingMasks([t!.weight]);
    expect(t!.weight.updatePruned).toBe(true);
    t!.weight.value.data[0] = 5; // as if an optimizer step had moved it
    expect(masks.magnitudes(t!.weight)[0]).toBe(0); // reset before any decision
    masks.install(t!.weight, new Uint8Array(12).fill(1).map((_, i) => (i === 5 ? 0 : 1)));
    expect(t!.weight.mask![0]).toBe(0);
    expect(t!.weight.mask![5]).toBe(0);
    expect(t!.weight.value.data[5]).toBe(0);
    masks.install(t!.weight, new Uint8Array(12).fill(1));
    expect(t!.weight.mask![5]).toBe(1); // regrown
    masks.release();
    expect(t!.weight.updatePruned).toBe(false);
  });

  it('with a shadow, the optimizer sees the dense weights and the model sees W ⊙ mask', () => {
    const model = mlp([2, 2], { seed: 2 });
    const [t] = findTargets(model);
    const original = Float32Array.from(t!.weight.value.data);
    const masks = new RegrowingMasks([t!.weight], { shadow: true });
    masks.install(t!.weight, Uint8Array.from([1, 0, 1, 0]));
    expect(Array.from(t!.weight.value.data)).toEqual([original[0], 0, original[2], 0]);
    masks.straightThroughHook().afterBackward!(undefined as never);
    expect(Array.from(t!.weight.value.data)).toEqual(Array.from(original)); // the dense shadow, for the step
    masks.install(t!.weight, Uint8Array.from([0, 1, 1, 1]));
    expect(Array.from(t!.weight.value.data)).toEqual([0, original[1], original[2], original[3]]); // spliced back with its value
  });
});
