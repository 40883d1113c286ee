import { describe, expect, it } from 'vitest';
import { cloneModel, evaluate } from '../../src/nn/index.ts';
import {
  findTargets, forkRandomStreams, gradualSchedule, iterativeSparsities, parseGranularity, pruningMethods, registerCriterion, runPruning, sparsityReport,
  targetsSparsity, type PruneConfig,
} from '../../src/prune/index.ts';
import { countZeros, toyConfig, toyTest as test, toyTrain as train, trainedToyModel } from './helpers.ts';

const dense = trainedToyModel();
const denseAccuracy = evaluate(dense, test).accuracy;
const config = toyConfig;
const METHODS = pruningMethods().map((m) => m.name);

describe('pruning methods end to end', () => {
  it('starts from a model that learned the task', () => {
    expect(denseAccuracy).toBeGreaterThan(0.85);
  });

  for (const method of METHODS) {
    it(`${method}: reaches its sparsity, leaves masks that match the zeros, keeps accuracy`, () => {
      const result = runPruning(cloneModel(dense), { train }, config(method));
      const targets = findTargets(result.model);
      for (const t of targets) {
        expect(t.weight.mask).not.toBeNull();
        t.weight.mask!.forEach((m, i) => m === 0 && expect(t.weight.value.data[i]).toBe(0));
      }
      const total = targets.reduce((n, t) => n + t.weight.value.size, 0);
      if (pruningMethods().find((m) => m.name === method)!.sparsity === 'outcome') expect(result.sparsity).toBeGreaterThan(0.1);
      else expect(Math.abs(result.sparsity - 0.8) * total).toBeLessThanOrEqual(1);
      expect(result.sparsity).toBe(targetsSparsity(targets));
      expect(evaluate(result.model, test).accuracy).toBeGreaterThan(0.75);
      expect(result.notes.length).toBeGreaterThan(0);
    });
  }

  it('gradient criteria work in every criterion-driven method', () => {
    for (const method of ['oneshot', 'iterative', 'gradual'] as const) {
      for (const criterion of ['gradient', 'gradient-squared', 'taylor', 'movement', 'snip', 'random'] as const) {
        const result = runPruning(cloneModel(dense), { train }, config(method, { criterion, epochs: 1 }));
        expect(result.sparsity).toBeCloseTo(0.8, 2);
      }
    }
  });

  it('neuron pruning with shrink gives a smaller dense model with the same outputs as the masked one', () => {
    const masked = runPruning(cloneModel(dense), { train }, config('oneshot', { granularity: { kind: 'neuron' }, scope: 'layer', sparsity: 0.5, epochs: 0, shrink: false }));
    const shrunk = runPruning(cloneModel(dense), { train }, config('oneshot', { granularity: { kind: 'neuron' }, scope: 'layer', sparsity: 0.5, epochs: 0 }));
    // Layer scope: the same fraction of each hidden layer's neurons, until half of all weights (rows and outgoing columns) are gone.
    expect(shrunk.model.spec().layers.map((l) => (l.type === 'linear' ? `${l.inFeatures}x${l.outFeatures}` : l.type))).toEqual(['12x31', 'relu', '31x16', 'relu', '16x3']);
    expect(masked.sparsity).toBeCloseTo(0.5, 1);
    const weights = (m: typeof dense): number => findTargets(m).reduce((n, t) => n + t.weight.value.size, 0);
    expect(weights(shrunk.model)).toBe(Math.round((1 - masked.sparsity) * weights(dense)));
    expect(shrunk.sparsity).toBeCloseTo(masked.sparsity, 12); // removed weights count as pruned
    const a = evaluate(masked.model, test);
    const b = evaluate(shrunk.model, test);
    expect(b.loss).toBeCloseTo(a.loss, 5);
  });

  it('retrains with distillation from the unpruned model', () => {
    const result = runPruning(cloneModel(dense), { train }, config('gradual', { distill: { alpha: 0.5, temperature: 4 } }));
    expect(result.notes.some((n) => n.startsWith('distillation'))).toBe(true);
    expect(evaluate(result.model, test).accuracy).toBeGreaterThan(0.75);
  });

  it('runs block and N:M granularities', () => {
    const nm = runPruning(cloneModel(dense), { train }, config('oneshot', { granularity: parseGranularity('2:4'), scope: 'layer', epochs: 1, exclude: ['layers.4'] }));
    expect(nm.sparsity).toBeCloseTo(0.5, 5);
    const block = runPruning(cloneModel(dense), { train }, config('gradual', { granularity: parseGranularity('1x4'), epochs: 2 }));
    expect(block.sparsity).toBeGreaterThan(0.78);
  });
});

describe('schedules', () => {
  it('follows the Zhu & Gupta cubic curve', () => {
    const s = gradualSchedule({ finalSparsity: 0.9, beginStep: 1, endStep: 101, frequency: 10 });
    expect(s.sparsityAt(1)).toBe(0);
    expect(s.sparsityAt(51)).toBeCloseTo(0.9 * (1 - 0.5 ** 3), 12);
    expect(s.sparsityAt(101)).toBe(0.9);
    expect(s.sparsityAt(500)).toBe(0.9);
    expect([1, 11, 21, 101].every((t) => s.isUpdateStep(t))).toBe(true);
    expect(s.isUpdateStep(12) || s.isUpdateStep(102)).toBe(false);
  });

  it('removes a constant fraction of what remains in each iterative round', () => {
    const levels = iterativeSparsities(0.99, 2);
    expect(levels[0]).toBeCloseTo(0.9, 12);
    expect(levels[1]).toBe(0.99);
  });
});

describe('learning rate during gradual pruning', () => {
  const lastLrPerEpoch = (lrSchedule: NonNullable<PruneConfig['lrSchedule']>): number[] =>
    runPruning(cloneModel(dense), { train }, config('gradual', { epochs: 4, options: { endFraction: 0.5 }, lrSchedule })).history.map((h) => h.stats.lr);

  it("'hold-cosine' keeps the full rate while masks change and anneals afterwards; 'cosine' anneals from the start", () => {
    const held = lastLrPerEpoch('hold-cosine');
    expect(held[0]).toBe(0.005);
    expect(held[1]).toBe(0.005);
    expect(held[2]).toBeLessThan(0.005);
    expect(held[3]).toBeLessThan(0.0005);
    expect(lastLrPerEpoch('cosine')[0]).toBeLessThan(0.005);
  });
});

describe('reports', () => {
  it('reports nnz, FLOPs and bytes dense vs sparse', () => {
    const result = runPruning(cloneModel(dense), { train }, config('oneshot', { epochs: 0, sparsity: 0.9, scope: 'layer' }));
    const report = sparsityReport(result.model);
    const first = report.layers[0]!;
    expect(first.shape).toEqual([48, 12]);
    expect(first.nnz).toBe(576 - countZeros(findTargets(result.model)[0]!.weight.value.data));
    expect(first.nnz).toBe(Math.round(0.1 * 576));
    expect(first.flopsSparse).toBe(2 * first.nnz);
    expect(first.bytesSparse).toBe(8 * first.nnz + 4 * 49 + 4 * 48);
    expect(report.total.sparsity).toBeCloseTo(0.9, 2);
    expect(report.total.bytesSparse).toBeLessThan(report.total.bytesDense / 3);
  });
});

describe('random streams', () => {
  // Two criteria that rank exactly like magnitude but consume randomness: a gradient pass, or draws.
  registerCriterion({ name: 'test-magnitude-after-gradients', summary: '|w| after a gradient pass', needsGradients: true, score: (t) => Float64Array.from(t.weight.value.data, Math.abs) });
  registerCriterion({
    name: 'test-magnitude-after-draws', summary: '|w| after some draws', needsGradients: false,
    score: (t, { rng }) => Float64Array.from(t.weight.value.data, (w) => Math.abs(w) + 0 * rng.uniform()),
  });
  const weightsAfter = (method: string, criterion: string): number[] =>
    runPruning(cloneModel(dense), { train }, config(method, { criterion, epochs: 2 })).model.parameters().flatMap((p) => Array.from(p.value.data));

  for (const method of ['oneshot', 'iterative', 'gradual']) {
    it(`${method}: every criterion trains on the same batch order, whatever it draws for its scores`, () => {
      const reference = weightsAfter(method, 'magnitude');
      const differing = (weights: number[]): number => weights.filter((w, i) => w !== reference[i]).length;
      expect(differing(weightsAfter(method, 'test-magnitude-after-gradients'))).toBe(0);
      expect(differing(weightsAfter(method, 'test-magnitude-after-draws'))).toBe(0);
    });
  }

  it('forks one stream per purpose from the seed, reproducibly', () => {
    const a = forkRandomStreams(5);
    const b = forkRandomStreams(5);
    expect([a.order.nextUint32(), a.scores.nextUint32(), a.method.nextUint32()]).toEqual([b.order.nextUint32(), b.scores.nextUint32(), b.method.nextUint32()]);
    const c = forkRandomStreams(5);
    expect(new Set([c.order.nextUint32(), c.scores.nextUint32(), c.method.nextUint32()]).size).toBe(3);
  });
});
