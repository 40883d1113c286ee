/**
 * Issue 17, item 9: N:M used to accept a global scope and per-layer overrides and silently ignore both.
 * N:M keeps N of every M inputs in each row, which is a per-layer rule with a fixed sparsity: a global scope
 * or an override is refused with a ConfigError that says so.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { cloneModel, mlp } from '../../src/nn/index.ts';
import { computeMasks, findTargets, parseGranularity, runPruning } from '../../src/prune/index.ts';
import { toyConfig, toyTrain, trainedToyModel } from './helpers.ts';

const nm = parseGranularity('2:4');

describe('N:M granularity', () => {
  const targets = findTargets(mlp([8, 8, 4], { seed: 1 }));
  const scores = new Map(targets.map((t) => [t, Float64Array.from(t.weight.value.data, Math.abs)]));

  it('refuses a global scope: N:M is chosen within each group of M, per layer', () => {
    expect(() => computeMasks(targets, scores, { sparsity: 0.5, scope: 'global', granularity: nm })).toThrow(ConfigError);
    expect(() => computeMasks(targets, scores, { sparsity: 0.5, scope: 'global', granularity: nm })).toThrow(/2:4 keeps 2 of every 4.*per-layer rule.*scope 'layer'/);
    expect(() => computeMasks(targets, scores, { sparsity: 0.5, scope: 'layer', granularity: nm })).not.toThrow();
  });

  it('refuses per-layer overrides: the pattern fixes every layer at 1 − N/M', () => {
    expect(() => computeMasks(targets, scores, { sparsity: 0.5, scope: 'layer', granularity: nm, overrides: { 'layers.0.weight': 0.75 } })).toThrow(
      /2:4 fixes every layer's sparsity at 50\.00%.*overrides.*exclude/,
    );
  });

  it('runPruning refuses them before training', () => {
    const dense = trainedToyModel();
    expect(() => runPruning(cloneModel(dense), { train: toyTrain }, toyConfig('oneshot', { granularity: nm, scope: 'global', exclude: ['layers.4'] }))).toThrow(/scope 'layer'/);
  });
});
