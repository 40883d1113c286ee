/**
 * Issue 17, item 8: a NaN score compares as equal to everything in a sort, so a weight with a NaN score
 * used to survive any ranking. Non-finite scores, losses and gradients are refused with a typed error that
 * names where they are.
 */
import { describe, expect, it } from 'vitest';
import { NonFiniteError } from '../../src/errors.ts';
import { mlp } from '../../src/nn/index.ts';
import {
  collectGradientStats, computeMasks, exchangeWeights, findTargets, GradientStats, importanceScores, maskTopK, registerCriterion,
} from '../../src/prune/index.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { toyData } from './helpers.ts';

const weight = { kind: 'weight' } as const;

describe('non-finite scores', () => {
  it('computeMasks refuses a NaN score, naming the layer and the index', () => {
    const targets = findTargets(mlp([4, 3, 2], { seed: 1 }));
    const scores = new Map(targets.map((t) => [t, Float64Array.from({ length: t.weight.value.size }, (_, i) => i + 1)]));
    scores.get(targets[1]!)![4] = Number.NaN;
    expect(() => computeMasks(targets, scores, { sparsity: 0.5, scope: 'global', granularity: weight })).toThrow(NonFiniteError);
    expect(() => computeMasks(targets, scores, { sparsity: 0.5, scope: 'layer', granularity: weight })).toThrow(/layers\.2\.weight.*index 4.*NaN/);
    scores.get(targets[1]!)![4] = Number.POSITIVE_INFINITY;
    expect(() => computeMasks(targets, scores, { sparsity: 0.5, scope: 'layer', granularity: { kind: 'nm', n: 1, m: 3 } })).toThrow(/layers\.2\.weight.*index 4.*Infinity/);
  });

  it('importanceScores refuses a criterion that returns a NaN score, naming the criterion, layer and index', () => {
    registerCriterion({ name: 'test-nan-score', summary: 'NaN at index 2', needsGradients: false, score: (t) => Float64Array.from({ length: t.weight.value.size }, (_, i) => (i === 2 ? Number.NaN : i)) });
    const target = findTargets(mlp([4, 3, 2], { seed: 1 }))[0]!;
    expect(() => importanceScores('test-nan-score', target, null, new Rng(0))).toThrow(/criterion 'test-nan-score'.*layers\.0\.weight.*index 2/);
  });

  it('the weight-level rules refuse NaN scores', () => {
    expect(() => maskTopK([[1, Number.NaN, 3]], 0.5)).toThrow(NonFiniteError);
    expect(() => exchangeWeights(Uint8Array.from([1, 1, 0, 0]), [1, 2, 0, 0], [0, 0, Number.NaN, 1], 0.5)).toThrow(/grow score.*index 2/);
  });
});

describe('non-finite gradient statistics', () => {
  it('collectGradientStats refuses a non-finite loss, naming the batch', () => {
    const model = mlp([4, 3, 2], { seed: 1 });
    const targets = findTargets(model);
    targets[0]!.weight.value.data[0] = Number.NaN;
    expect(() => collectGradientStats(model, targets, toyData(40, 4, 2, 0), { batches: 3, batchSize: 8 })).toThrow(/loss is NaN on mini-batch 1 of 3/);
  });

  it('GradientStats.accumulate refuses a non-finite gradient, naming the layer and index', () => {
    const targets = findTargets(mlp([4, 3, 2], { seed: 1 }));
    const stats = GradientStats.forTargets(targets);
    const p = targets[1]!.weight;
    p.grad = new Tensor(Float32Array.from({ length: p.value.size }, (_, i) => (i === 5 ? Number.POSITIVE_INFINITY : 0.1)), p.value.shape);
    expect(() => stats.accumulate()).toThrow(NonFiniteError);
    expect(() => stats.accumulate()).toThrow(/layers\.2\.weight.*index 5/);
  });
});
