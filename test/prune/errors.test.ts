import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { mlp, ReLU, Sequential } from '../../src/nn/index.ts';
import {
  computeMasks, findTargets, parseCriterion, parseGranularity, parseMethod, parseScope, pruneTargets, runPruning, type PruneConfig,
} from '../../src/prune/index.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { toyData } from './helpers.ts';

const rng = new Rng(0);
const weight = { kind: 'weight' } as const;
const base: PruneConfig = {
  method: 'oneshot', criterion: 'magnitude', sparsity: 0.5, scope: 'layer', granularity: weight, epochs: 0, batchSize: 16, lr: 1e-3, seed: 0,
};

describe('invalid pruning settings', () => {
  it('rejects sparsity outside [0, 1) naming the value', () => {
    const targets = findTargets(mlp([4, 4, 2]));
    for (const bad of [1, 1.5, -0.1, Number.NaN]) {
      expect(() => pruneTargets(targets, bad, { criterion: 'magnitude', scope: 'layer', granularity: weight, rng })).toThrow(new RegExp(`sparsity must be in \\[0, 1\\), got ${bad}`));
    }
    expect(() => runPruning(mlp([4, 4, 2]), { train: toyData(20, 4, 2, 0) }, { ...base, sparsity: 1 })).toThrow(ConfigError);
  });

  it('rejects unknown criteria, methods, scopes and granularities, listing the valid ones', () => {
    expect(() => parseCriterion('hessian')).toThrow(/unknown criterion 'hessian' \(expected one of magnitude, gradient/);
    expect(() => parseMethod('lottery')).toThrow(/unknown method 'lottery' \(expected one of oneshot/);
    expect(() => parseScope('network')).toThrow(/unknown scope 'network'/);
    expect(() => parseGranularity('layerwise')).toThrow(/unknown granularity 'layerwise'/);
  });

  it('rejects N > M', () => {
    expect(() => parseGranularity('4:2')).toThrow(/N ≤ M/);
    expect(() => parseGranularity('0:4')).toThrow(ConfigError);
  });

  it('rejects a block that does not divide the weight shape, naming layer and shape', () => {
    const targets = findTargets(mlp([8, 6, 10]));
    expect(() => pruneTargets(targets, 0.5, { criterion: 'magnitude', scope: 'layer', granularity: parseGranularity('4x1'), rng })).toThrow(
      /block 4x1 does not divide layers\.0\.weight of shape \[6, 8\]/,
    );
    expect(() => pruneTargets(findTargets(mlp([6, 8, 3])), 0, { criterion: 'magnitude', scope: 'layer', granularity: parseGranularity('2:4'), rng })).toThrow(
      /input width of layers\.0\.weight \(6\) to be a multiple of 4/,
    );
  });

  it('rejects a model without prunable layers and bad exclusions', () => {
    expect(() => findTargets(new Sequential(new ReLU()))).toThrow(/no prunable layers/);
    expect(() => findTargets(mlp([4, 3, 2]), { exclude: ['layers.7'] })).toThrow(/cannot exclude 'layers.7': prunable weights are layers.0.weight, layers.2.weight/);
    expect(() => findTargets(mlp([4, 3, 2]), { exclude: ['layers.0', 'layers.2.weight'] })).toThrow(/every prunable layer is excluded/);
    expect(() => pruneTargets(findTargets(mlp([4, 2])), 0.5, { criterion: 'magnitude', scope: 'layer', granularity: { kind: 'neuron' }, rng })).toThrow(/output layer/);
  });

  it('rejects overrides for unknown layers and methods that need a threshold', () => {
    const targets = findTargets(mlp([4, 3, 2]));
    const scores = new Map(targets.map((t) => [t, new Float64Array(t.weight.value.size)]));
    expect(() => computeMasks(targets, scores, { sparsity: 0.5, scope: 'layer', granularity: weight, overrides: { 'layers.9.weight': 0.2 } })).toThrow(/unknown layer 'layers.9.weight'/);
    expect(() => runPruning(mlp([4, 3, 2]), { train: toyData(20, 4, 2, 0) }, { ...base, epochs: 1, method: 'threshold' })).toThrow(/method 'threshold' needs the option 'threshold' \(q in τ = q·std\(w\)/);
    expect(() => runPruning(mlp([4, 4, 2]), { train: toyData(20, 4, 2, 0) }, { ...base, epochs: 1, method: 'dns', options: { cRate: 1 }, granularity: parseGranularity('1x4') })).toThrow(/not 'dns'/);
    expect(() => runPruning(mlp([4, 4, 2]), { train: toyData(20, 4, 2, 0) }, { ...base, method: 'gradual' })).toThrow(/needs at least one epoch/);
    expect(() => runPruning(mlp([4, 4, 2]), { train: toyData(20, 4, 2, 0) }, { ...base, lrSchedule: 'linear' as 'cosine' })).toThrow(/unknown lrSchedule 'linear'/);
  });
});
