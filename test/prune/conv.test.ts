/**
 * Pruning convolutional networks: every method and criterion on Conv2d weights; the structured
 * granularities of convolutions (filter, channel, kernel, N:M along input channels) and their invariants; a
 * filter-pruned LeNet-5 shrinks to a smaller dense model with the masked model's outputs; per-layer targets
 * (Han et al.'s table) and per-layer sensitivity over conv layers.
 */
import { describe, expect, it } from 'vitest';
import { loadDigits } from '../../src/node/data.ts';
import {
  applyMaskPlan, architectureSpec, buildModel, cloneModel, computeMasks, Conv2d, criteria, findTargets, Linear, predict, pruningMethods, Rng,
  runPruning, sensitivityAnalysis, shrinkModel, sparsityReport, subset, targetsSparsity, type Granularity, type PruneTarget, type Sequential,
} from '../../src/index.ts';
import { countZeros, toyConfig } from './helpers.ts';

const { train, test } = loadDigits();
const small = subset(train, Int32Array.from({ length: 256 }, (_, i) => i), 'digits (256)');
const check = subset(test, Int32Array.from({ length: 64 }, (_, i) => i), 'digits test (64)');
/** 28×28 → c4k5 (24×24) → m2 (12×12) → c8k3 (10×10) → m2 (5×5) → 200 → 16 → 10. */
const SMALL_CONV = '1x28x28-c4k5-m2-c8k3-m2-16-10';

function withRandomBiases(model: Sequential, seed: number): Sequential {
  const rng = new Rng(seed);
  for (const [, p] of model.namedParameters()) if (p.value.rank === 1) for (let i = 0; i < p.value.size; i++) p.value.data[i] = rng.normal() * 0.1;
  return model;
}

const magnitude = (targets: readonly PruneTarget[]): Map<PruneTarget, Float64Array> => new Map(targets.map((t) => [t, Float64Array.from(t.weight.value.data, Math.abs)] as const));

describe('every method and criterion prunes conv weights', () => {
  const model = buildModel(architectureSpec(SMALL_CONV), new Rng(0));
  for (const method of pruningMethods().map((m) => m.name)) {
    it(`${method} on a small conv net`, () => {
      const result = runPruning(cloneModel(model), { train: small }, toyConfig(method, { epochs: 1, batchSize: 64, sparsity: 0.7 }));
      const targets = findTargets(result.model);
      expect(targets.filter((t) => t.layer instanceof Conv2d)).toHaveLength(2);
      for (const t of targets) t.weight.mask?.forEach((m, i) => m === 0 && expect(t.weight.value.data[i]).toBe(0));
      if (pruningMethods().find((m) => m.name === method)!.sparsity === 'outcome') {
        expect(result.sparsity).toBeGreaterThan(0); // its threshold decides how much goes
      } else {
        expect(result.sparsity).toBeCloseTo(0.7, 2);
        expect(countZeros(targets[0]!.weight.value.data) + countZeros(targets[1]!.weight.value.data)).toBeGreaterThan(0);
      }
    });
  }
  it('every criterion scores conv weights (oneshot)', () => {
    for (const criterion of criteria().map((c) => c.name)) {
      const result = runPruning(cloneModel(model), { train: small }, toyConfig('oneshot', { criterion, epochs: 0, sparsity: 0.6 }));
      expect(result.sparsity, criterion).toBeCloseTo(0.6, 2);
    }
  });
});

describe('structured granularities of convolutions', () => {
  const model = withRandomBiases(buildModel(architectureSpec(SMALL_CONV), new Rng(1)), 2);
  const select = (g: Granularity, sparsity: number, scope: 'layer' | 'global' = 'layer', exclude: string[] = []): Sequential => {
    const copy = cloneModel(model);
    const targets = findTargets(copy, { exclude });
    applyMaskPlan(computeMasks(targets, magnitude(targets), { sparsity, scope, granularity: g }));
    return copy;
  };

  it('filter: whole output channels go, with their bias and the next layer\'s input channel or flattened plane', () => {
    const pruned = select({ kind: 'neuron' }, 0.5);
    const [conv1, conv2, fc1] = findTargets(pruned) as [PruneTarget, PruneTarget, PruneTarget];
    const c1 = conv1.weight;
    const deadFilters = [0, 1, 2, 3].filter((o) => c1.mask!.subarray(o * 25, (o + 1) * 25).every((m) => m === 0));
    expect(deadFilters.length).toBeGreaterThan(0);
    for (const o of deadFilters) {
      expect(conv1.layer.bias!.mask![o]).toBe(0);
      for (let r = 0; r < 8; r++) expect(Array.from(conv2.weight.mask!.subarray(r * 36 + o * 9, r * 36 + (o + 1) * 9))).toEqual(new Array(9).fill(0));
    }
    const dead2 = [...Array(8).keys()].filter((o) => conv2.weight.mask!.subarray(o * 36, (o + 1) * 36).every((m) => m === 0));
    expect(dead2.length).toBeGreaterThan(0);
    for (const o of dead2) for (let r = 0; r < 16; r++) expect(fc1.weight.mask!.subarray(r * 200 + o * 25, r * 200 + (o + 1) * 25).every((m) => m === 0)).toBe(true);
  });

  it('channel: whole input channels of a conv layer (every filter\'s k×k slice for that channel)', () => {
    const pruned = select({ kind: 'channel' }, 0.5);
    const conv2 = findTargets(pruned)[1]!.weight;
    const pattern = (c: number): number[] => [...Array(8).keys()].flatMap((r) => Array.from(conv2.mask!.subarray(r * 36 + c * 9, r * 36 + (c + 1) * 9)));
    const dead = [0, 1, 2, 3].filter((c) => pattern(c).every((m) => m === 0));
    expect(dead).toHaveLength(2);
    for (const c of [0, 1, 2, 3].filter((c) => !dead.includes(c))) expect(pattern(c).every((m) => m === 1)).toBe(true);
  });

  it('kernel: whole k×k slices', () => {
    const conv2 = findTargets(select({ kind: 'kernel' }, 0.6))[1]!.weight;
    let deadSlices = 0;
    for (let s = 0; s < 32; s++) {
      const slice = conv2.mask!.subarray(s * 9, (s + 1) * 9);
      expect(slice.every((m) => m === slice[0])).toBe(true);
      if (slice[0] === 0) deadSlices++;
    }
    expect(deadSlices).toBe(Math.round(0.6 * 32));
  });

  it('N:M runs along the input channels of a convolution', () => {
    const pruned = select({ kind: 'nm', n: 2, m: 4 }, 0, 'layer', ['layers.1']);
    const conv2 = findTargets(pruned)[1]!.weight; // [8, 4, 3, 3]
    for (let o = 0; o < 8; o++) for (let at = 0; at < 9; at++) {
      let kept = 0;
      for (let c = 0; c < 4; c++) kept += conv2.mask![o * 36 + c * 9 + at]!;
      expect(kept).toBe(2);
    }
    // conv1 has one input channel: no group of 4 channels fits.
    const copy = cloneModel(model);
    const targets = findTargets(copy);
    expect(() => computeMasks(targets, magnitude(targets), { sparsity: 0, scope: 'layer', granularity: { kind: 'nm', n: 2, m: 4 } })).toThrow(/input channels per group of layers.1.weight \(1\) to be a multiple of 4/);
  });

  it('a grouped convolution is refused for filter and channel pruning, naming the layer', () => {
    const grouped = buildModel({ layers: [
      { type: 'reshape', shape: [4, 6, 6] },
      { type: 'conv2d', inChannels: 4, outChannels: 4, kernelSize: [3, 3], stride: [1, 1], padding: [0, 0], groups: 1, bias: true },
      { type: 'conv2d', inChannels: 4, outChannels: 4, kernelSize: [3, 3], stride: [1, 1], padding: [0, 0], groups: 2, bias: true },
      { type: 'flatten' }, { type: 'linear', inFeatures: 16, outFeatures: 2, bias: true },
    ] }, new Rng(0));
    const targets = findTargets(grouped);
    expect(() => computeMasks(targets, magnitude(targets), { sparsity: 0.3, scope: 'layer', granularity: { kind: 'neuron' } })).toThrow(/layers.1.weight: the next layer is a grouped convolution/);
    expect(() => computeMasks(targets, magnitude(targets), { sparsity: 0.3, scope: 'layer', granularity: { kind: 'channel' } })).toThrow(/channel pruning of layers.2.weight/);
  });
});

describe('shrinking a filter-pruned LeNet-5', () => {
  it('gives a smaller dense model whose outputs equal the masked model\'s, and reports parameters and FLOPs', () => {
    const model = withRandomBiases(buildModel(architectureSpec('lenet5'), new Rng(3)), 4);
    const targets = findTargets(model);
    // Half of the conv filters and of the fc1 units, by L1 norm (the filter-pruning recipe). Scope
    // 'layer' takes the same fraction of units from every hidden layer; half of them leaves 250 + 6,250 +
    // 100,000 + 2,500 of the 430,500 weights, a sparsity of 1 − 109,000/430,500.
    applyMaskPlan(computeMasks(targets, magnitude(targets), { sparsity: 1 - 109000 / 430500, scope: 'layer', granularity: { kind: 'neuron' } }));
    const x = Float32Array.from(check.x.subarray(0, 16 * 784));
    const masked = Float32Array.from(predict(model, x, 16).data);
    const report = shrinkModel(model);
    expect(report.layers.map((l) => [l.name, l.before, l.removed])).toEqual([['layers.1', 20, 10], ['layers.4', 50, 25], ['layers.8', 500, 250]]);
    expect(model.spec().layers.filter((l) => l.type === 'conv2d' || l.type === 'linear').map((l) => (l.type === 'conv2d' ? `${l.inChannels}→${l.outChannels}` : `${l.inFeatures}→${l.outFeatures}`)))
      .toEqual(['1→10', '10→25', '400→250', '250→10']);
    expect(report.parameters.before).toBe(431080);
    expect(report.parameters.after).toBe(model.parameterCount());
    expect(report.parameters.after).toBeLessThan(report.parameters.before / 3.5); // about a quarter of the parameters
    expect(report.flops.after).toBeLessThan(report.flops.before / 3);
    const shrunk = predict(model, x, 16).data;
    shrunk.forEach((v, i) => expect(v).toBeCloseTo(masked[i]!, 4));
    expect(sparsityReport(model).total.parameters).toBe(report.parameters.after - 10 - 25 - 250 - 10);
  });

  it('channel pruning removes the filters that fed the pruned channels', () => {
    const model = withRandomBiases(buildModel(architectureSpec(SMALL_CONV), new Rng(5)), 6);
    const result = runPruning(model, { train: small }, { ...toyConfig('oneshot', { epochs: 0, sparsity: 0.4, scope: 'layer' }), granularity: { kind: 'channel' }, exclude: ['layers.1'] });
    expect(result.shrink).toBeDefined();
    const conv1 = result.model.layers[1] as Conv2d;
    expect(conv1.outChannels).toBeLessThan(4);
    expect(result.shrink!.parameters.after).toBeLessThan(result.shrink!.parameters.before);
    expect(result.notes.some((n) => /shrink: removed \d of 4 filters in layers\.1.*; parameters \d+ → \d+/.test(n)), result.notes.join('\n')).toBe(true);
  });
});

describe('per-layer targets and sensitivity', () => {
  it('reaches Han et al.\'s LeNet-5 per-layer sparsities (conv1 34 %, conv2 88 %, fc1 92 %, fc2 81 % pruned)', () => {
    const model = buildModel(architectureSpec('lenet5'), new Rng(0));
    const table = { 'layers.1.weight': 0.34, 'layers.4.weight': 0.88, 'layers.8.weight': 0.92, 'layers.10.weight': 0.81 };
    const result = runPruning(model, { train: small }, { ...toyConfig('oneshot', { epochs: 0, sparsity: 0.9 }), overrides: table });
    const report = sparsityReport(result.model);
    for (const layer of report.layers) expect(layer.sparsity, layer.name).toBeCloseTo(table[layer.name as keyof typeof table], 2);
    expect(report.total.sparsity).toBeGreaterThan(0.91);
    expect(targetsSparsity(findTargets(result.model))).toBeCloseTo(report.total.sparsity, 6);
  });

  it('sensitivity analysis covers the conv layers, and deeper pruning of one layer costs accuracy', () => {
    const model = buildModel(architectureSpec(SMALL_CONV), new Rng(0));
    runPruning(model, { train: small }, toyConfig('oneshot', { epochs: 2, sparsity: 0, batchSize: 32 }));
    const rows = sensitivityAnalysis(model, check, { sparsities: [0, 0.99] });
    expect([...new Set(rows.map((r) => r.layer))]).toEqual(['layers.1.weight', 'layers.4.weight', 'layers.8.weight', 'layers.10.weight']);
    const conv2 = rows.filter((r) => r.layer === 'layers.4.weight');
    expect(conv2[1]!.accuracy).toBeLessThan(conv2[0]!.accuracy);
    expect(model.layers.filter((l) => l instanceof Linear || l instanceof Conv2d)).toHaveLength(4);
  });
});
