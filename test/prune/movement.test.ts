/**
 * Issue 17, item 1: movement pruning (Sanh, Wolf & Rush 2020) scores S = −Σ_t ∂L/∂W'·W over *training
 * steps*. In oneshot/iterative the score used to be −w·Σg over frozen batches (a signed Taylor score, now
 * the criterion `taylor-signed`); in gradual the pruned weights' gradients were masked, so their scores
 * froze and they could never come back as the paper's straight-through version allows.
 */
import { describe, expect, it } from 'vitest';
import { cloneModel, mlp } from '../../src/nn/index.ts';
import {
  BUILTIN_CRITERIA, criterionByName, definePruningMethod, findTargets, GradientStats, registerCriterion, registerPruningMethod, runPruning,
  StraightThroughScores, type ScoreInputs, type PruneTarget,
} from '../../src/prune/index.ts';
import { toyConfig, toyTrain as train, trainedToyModel } from './helpers.ts';

const dense = trainedToyModel();

// Movement's score, recording what it sees at each call for layer 0: the batches behind the statistics,
// the mask, and the accumulated −Σ w·g.
const calls: { batches: number; mask: Uint8Array; sums: Float64Array }[] = [];
registerCriterion({
  name: 'test-movement-recorder', summary: 'movement, recording', needsGradients: true, cumulative: true, fromTraining: true,
  score: (t: PruneTarget, inputs: ScoreInputs) => {
    if (t.name === 'layers.0.weight') {
      const mask = t.weight.mask === null ? new Uint8Array(t.weight.value.size).fill(1) : Uint8Array.from(t.weight.mask);
      calls.push({ batches: inputs.stats!.batches, mask, sums: Float64Array.from(inputs.stats!.sum('weightGrad', t.weight)) });
    }
    return BUILTIN_CRITERIA.movement.score(t, inputs);
  },
});

describe('movement scores come from training steps', () => {
  it('a gradient pass for movement fine-tunes for --gradient-batches steps and keeps them', () => {
    let seen: { batches: number; moved: boolean } | null = null;
    registerPruningMethod(definePruningMethod<Record<string, never>>({
      name: 'test-movement-probe', summary: 'asks the context for movement statistics', paper: '', options: {}, usesCriterion: true,
      run(ctx) {
        const before = Float32Array.from(ctx.targets[0]!.weight.value.data);
        const stats = ctx.gradientStats(criterionByName('movement'))!;
        seen = { batches: stats.batches, moved: ctx.targets[0]!.weight.value.data.some((w, i) => w !== before[i]) };
      },
    }));
    runPruning(cloneModel(dense), { train }, toyConfig('test-movement-probe', { gradientBatches: 7, epochs: 0 }));
    expect(seen).toEqual({ batches: 7, moved: true });
  });

  it('iterative accumulates S over a warm-up, then over every round\'s retraining', () => {
    calls.length = 0;
    runPruning(cloneModel(dense), { train }, toyConfig('iterative', { criterion: 'test-movement-recorder', gradientBatches: 5, epochs: 2, options: { rounds: 2 } }));
    const stepsPerEpoch = Math.ceil(train.count / 32);
    expect(calls.map((c) => c.batches)).toEqual([5, 5 + stepsPerEpoch]);
  });

  it('the frozen-batch score lives on, honestly named, as taylor-signed', () => {
    const t = findTargets(mlp([2, 2], { seed: 0 }))[0]!;
    const stats = new GradientStats([t.weight]);
    stats.batches = 2;
    stats.sumWeightGrad.set(t.weight, Float64Array.from([1, -2, 0.5, 0]));
    expect(Array.from(criterionByName('taylor-signed').score(t, { stats, rng: undefined as never, granularity: { kind: 'weight' } }))).toEqual([-0.5, 1, -0.25, -0]);
  });
});

describe('gradual movement pruning is straight-through', () => {
  it('pruned weights keep accumulating score, and some come back', () => {
    calls.length = 0;
    runPruning(cloneModel(dense), { train }, toyConfig('gradual', { criterion: 'test-movement-recorder', sparsity: 0.8, epochs: 3, options: { frequency: 2 } }));
    let regrown = 0;
    let scoredWhilePruned = 0;
    for (let a = 1; a < calls.length; a++) {
      for (let b = a + 1; b < calls.length; b++) {
        calls[a]!.mask.forEach((m, i) => {
          if (m === 0 && calls[b]!.mask[i] === 1) regrown++;
          if (m === 0 && calls[b]!.mask[i] === 0 && calls[b]!.sums[i] !== calls[a]!.sums[i]) scoredWhilePruned++;
        });
      }
    }
    expect(scoredWhilePruned).toBeGreaterThan(0);
    expect(regrown).toBeGreaterThan(0);
  });

  it('a regrown weight returns with the value it had when it was pruned (W is kept, only masked)', () => {
    const model = mlp([3, 2], { seed: 1 });
    const targets = findTargets(model);
    const w = targets[0]!.weight;
    const original = Float32Array.from(w.value.data);
    const tracker = new StraightThroughScores(model, targets);
    tracker.install(new Map([[w, Uint8Array.from([1, 0, 1, 1, 0, 1])]]));
    expect(w.value.data[1]).toBe(0);
    tracker.install(new Map([[w, Uint8Array.from([1, 1, 1, 1, 0, 1])]]));
    expect(w.value.data[1]).toBe(original[1]);
    expect(w.value.data[4]).toBe(0);
    tracker.release();
    expect(w.keepPrunedGrad).toBe(false);
  });
});
