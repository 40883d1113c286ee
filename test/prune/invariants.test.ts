/**
 * Pruning invariants, in the style of PyTorch's test_pruning.py: forward equals W ⊙ M, pruned gradients
 * are zero, pruned weights stay zero through optimizer steps, parameter identity survives, global pruning
 * hits its target, N:M keeps exactly N per group, masks only shrink, and each criterion picks the right
 * weights on a hand-built example.
 */
import { describe, expect, it } from 'vitest';
import { backward, constant, crossEntropy } from '../../src/autograd/index.ts';
import { Adam, AdamW, fit, mlp, SGD, type Optimizer, type Parameter } from '../../src/nn/index.ts';
import {
  computeMasks, findTargets, GradientStats, importanceScores, parseGranularity, pruneTargets, targetsSparsity,
  type CriterionName, type PruneTarget,
} from '../../src/prune/index.ts';
import * as T from '../../src/tensor/ops.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { countZeros, toyData } from './helpers.ts';

const rng = new Rng(42);

describe('masks in forward and backward', () => {
  it('forward equals the dense computation with W ⊙ M', () => {
    const model = mlp([6, 5, 3], { seed: 1 });
    const original = model.parameters().map((p) => Float32Array.from(p.value.data));
    const targets = findTargets(model);
    pruneTargets(targets, 0.5, { criterion: 'random', scope: 'layer', granularity: { kind: 'weight' }, rng });
    const x = new Tensor(Float32Array.from({ length: 12 }, () => rng.normal()), [2, 6]);
    const masked = (i: number, p: Parameter): Tensor =>
      new Tensor(original[i]!.map((v, k) => (p.mask === null || p.mask[k] === 1 ? v : 0)), p.value.shape);
    const [w0, b0, w1, b1] = model.parameters() as [Parameter, Parameter, Parameter, Parameter];
    const h = T.relu(T.add(T.matmul(x, masked(0, w0), { transB: true }), b0.value));
    const expected = T.add(T.matmul(h, masked(2, w1), { transB: true }), b1.value);
    const actual = model.forward(constant(x)).value;
    for (let i = 0; i < expected.size; i++) expect(actual.data[i]).toBeCloseTo(expected.data[i]!, 5);
  });

  it('gives pruned weights a zero gradient', () => {
    const model = mlp([6, 5, 3], { seed: 2 });
    pruneTargets(findTargets(model), 0.6, { criterion: 'magnitude', scope: 'global', granularity: { kind: 'weight' }, rng });
    const data = toyData(8, 6, 3, 1);
    backward(crossEntropy(model.forward(constant(new Tensor(data.x, [8, 6]))), data.y));
    for (const t of findTargets(model)) {
      const g = t.weight.grad!.data;
      let nonzeroOnKept = 0;
      t.weight.mask!.forEach((m, i) => {
        if (m === 0) expect(g[i]).toBe(0);
        else if (g[i] !== 0) nonzeroOnKept++;
      });
      expect(nonzeroOnKept).toBeGreaterThan(0);
    }
  });

  const optimizers: [string, (ps: Parameter[]) => Optimizer][] = [
    ['SGD with momentum', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 })],
    ['Adam', (ps) => new Adam(ps, { lr: 0.01 })],
    ['AdamW', (ps) => new AdamW(ps, { lr: 0.01 })],
  ];
  for (const [name, make] of optimizers) {
    it(`keeps pruned weights exactly zero while training with ${name} (momentum built up before pruning)`, () => {
      const data = toyData(200, 6, 3, 3);
      const model = mlp([6, 8, 3], { seed: 3 });
      const opt = make(model.parameters());
      fit(model, data, { epochs: 2, batchSize: 20, optimizer: opt, seed: 1 }); // moments are non-zero everywhere now
      const targets = findTargets(model);
      pruneTargets(targets, 0.7, { criterion: 'magnitude', scope: 'layer', granularity: { kind: 'weight' }, rng });
      const before = targets.map((t) => Float32Array.from(t.weight.value.data));
      fit(model, data, { epochs: 3, batchSize: 20, optimizer: opt, seed: 2 });
      targets.forEach((t, k) => {
        let changed = 0;
        t.weight.mask!.forEach((m, i) => {
          if (m === 0) expect(t.weight.value.data[i]).toBe(0);
          else if (t.weight.value.data[i] !== before[k]![i]) changed++;
        });
        expect(changed).toBeGreaterThan(0); // the kept weights did train
      });
    });
  }
});

describe('selection', () => {
  it('keeps parameter identity through pruning', () => {
    const model = mlp([6, 5, 3], { seed: 4 });
    const before = model.parameters();
    pruneTargets(findTargets(model), 0.5, { criterion: 'magnitude', scope: 'global', granularity: { kind: 'weight' }, rng });
    pruneTargets(findTargets(model), 0.8, { criterion: 'magnitude', scope: 'global', granularity: { kind: 'weight' }, rng });
    model.parameters().forEach((p, i) => expect(p).toBe(before[i]));
  });

  it('hits the requested global sparsity to within one weight', () => {
    for (const sparsity of [0, 0.1, 0.333, 0.5, 0.9, 0.95, 0.99, 0.999]) {
      const model = mlp([37, 23, 11, 5], { seed: 5 });
      const targets = findTargets(model);
      pruneTargets(targets, sparsity, { criterion: 'magnitude', scope: 'global', granularity: { kind: 'weight' }, rng });
      const total = targets.reduce((n, t) => n + t.weight.value.size, 0);
      const zeros = targets.reduce((n, t) => n + countZeros(t.weight.value.data), 0);
      expect(Math.abs(zeros - sparsity * total)).toBeLessThanOrEqual(1);
    }
  });

  it('prunes each layer to the requested sparsity with layer scope', () => {
    const model = mlp([40, 20, 10], { seed: 6 });
    const targets = findTargets(model);
    pruneTargets(targets, 0.75, { criterion: 'magnitude', scope: 'layer', granularity: { kind: 'weight' }, rng });
    for (const t of targets) expect(countZeros(t.weight.value.data)).toBe(Math.round(0.75 * t.weight.value.size));
  });

  it('global magnitude pruning removes the globally smallest weights', () => {
    const model = mlp([4, 3, 2], { seed: 7 });
    const [w0, , w1] = model.parameters() as Parameter[];
    w0!.value.data.set(Array.from({ length: 12 }, (_, i) => (i + 1) * 10)); // large
    w1!.value.data.set([1, -2, 3, -4, 5, -6]); // small
    pruneTargets(findTargets(model), 6 / 18, { criterion: 'magnitude', scope: 'global', granularity: { kind: 'weight' }, rng });
    expect(countZeros(w1!.value.data)).toBe(6);
    expect(countZeros(w0!.value.data)).toBe(0);
  });

  it('masks only shrink: a later, lower sparsity never revives weights', () => {
    const model = mlp([10, 8, 4], { seed: 8 });
    const targets = findTargets(model);
    pruneTargets(targets, 0.8, { criterion: 'random', scope: 'layer', granularity: { kind: 'weight' }, rng });
    const masks = targets.map((t) => Uint8Array.from(t.weight.mask!));
    pruneTargets(targets, 0.3, { criterion: 'magnitude', scope: 'global', granularity: { kind: 'weight' }, rng });
    targets.forEach((t, k) => t.weight.mask!.forEach((m, i) => expect(m).toBeLessThanOrEqual(masks[k]![i]!)));
    expect(targetsSparsity(targets)).toBeGreaterThanOrEqual(0.79);
  });

  it('N:M keeps exactly N of every M, per row', () => {
    const model = mlp([16, 8, 4], { seed: 9 });
    const targets = findTargets(model);
    pruneTargets(targets, 0, { criterion: 'magnitude', scope: 'layer', granularity: parseGranularity('2:4'), rng });
    for (const t of targets) {
      const m = t.weight.mask!;
      for (let g = 0; g < m.length; g += 4) expect(m[g]! + m[g + 1]! + m[g + 2]! + m[g + 3]!).toBe(2);
      // and the kept ones are the two largest of each group
      const w = t.weight.value.data;
      for (let g = 0; g < m.length; g += 4) {
        const keptMin = Math.min(...[0, 1, 2, 3].filter((j) => m[g + j] === 1).map((j) => Math.abs(w[g + j]!)));
        expect(keptMin).toBeGreaterThan(0);
      }
    }
  });

  it('prunes 1x4 and 4x1 blocks whole', () => {
    for (const [text, rows, cols] of [['1x4', 1, 4], ['4x1', 4, 1]] as const) {
      const model = mlp([8, 8, 4], { seed: 10 });
      const targets = findTargets(model);
      pruneTargets(targets, 0.5, { criterion: 'magnitude', scope: 'layer', granularity: parseGranularity(text), rng });
      for (const t of targets) {
        const [r, c] = t.weight.value.shape as [number, number];
        const m = t.weight.mask!;
        for (let br = 0; br < r; br += rows) {
          for (let bc = 0; bc < c; bc += cols) {
            const vals = [];
            for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) vals.push(m[(br + i) * c + bc + j]);
            expect(new Set(vals).size).toBe(1);
          }
        }
        expect(countZeros(m)).toBe(Math.round(0.5 * (r * c) / (rows * cols)) * rows * cols);
      }
    }
  });

  it('neuron pruning removes rows with their bias and the next layer\'s columns', () => {
    const model = mlp([5, 6, 3], { seed: 11 });
    const targets = findTargets(model);
    pruneTargets(targets, 0.5, { criterion: 'magnitude', scope: 'layer', granularity: { kind: 'neuron' }, rng });
    const [w0, b0, w1] = model.parameters() as Parameter[];
    const deadRows = [...Array(6).keys()].filter((r) => w0!.mask!.subarray(r * 5, r * 5 + 5).every((m) => m === 0));
    expect(deadRows).toHaveLength(3);
    for (const r of deadRows) {
      expect(b0!.value.data[r]).toBe(0);
      for (let o = 0; o < 3; o++) expect(w1!.value.data[o * 6 + r]).toBe(0);
    }
  });
});

describe('criteria on hand-built examples', () => {
  // One layer with 4 weights; gradient statistics set by hand so each criterion has one clear loser.
  function setup(): { target: PruneTarget; stats: GradientStats } {
    const model = mlp([2, 2], { seed: 0 });
    const target = findTargets(model)[0]!;
    target.weight.value.data.set([0.1, -2, 3, -0.5]);
    const stats = new GradientStats([target.weight]);
    stats.batches = 2;
    stats.sumAbsGrad.set(target.weight, Float64Array.from([4, 0.2, 2, 6]));
    stats.sumSqGrad.set(target.weight, Float64Array.from([8, 0.02, 2, 18]));
    stats.sumGrad.set(target.weight, Float64Array.from([4, -0.2, 2, 6]));
    stats.sumWeightGrad.set(target.weight, Float64Array.from([0.4, 0.4, -6, 3]));
    stats.sumAbsWeightGrad.set(target.weight, Float64Array.from([0.4, 0.4, 6, 3]));
    return { target, stats };
  }
  const expectations: [CriterionName, number][] = [
    ['magnitude', 0], // |w| = 0.1 is smallest
    ['gradient', 1], // mean |g| = 0.1 is smallest
    ['gradient-squared', 1],
    ['movement', 3], // −Σwg: −0.4, −0.4, 6, −3 → index 3 lowest
    ['snip', 1], // with Σg set in the test to 5, 0.1, 2, 6: |w·Σg| = 0.5, 0.2, 6, 3
  ];
  for (const [criterion, loser] of expectations) {
    it(`${criterion} prunes the least important weight`, () => {
      const { target, stats } = setup();
      if (criterion === 'snip') stats.sumGrad.set(target.weight, Float64Array.from([5, 0.1, 2, 6])); // |w·Σg| = 0.5, 0.2, 6, 3
      const scores = importanceScores(criterion, target, stats, rng);
      const plan = computeMasks([target], new Map([[target, scores]]), { sparsity: 0.25, scope: 'layer', granularity: { kind: 'weight' } });
      expect(Array.from(plan.get(target.weight)!).indexOf(0)).toBe(loser);
    });
  }
  it('taylor prunes the smallest |w·g| even where |w| or |g| alone is large', () => {
    const { target, stats } = setup();
    stats.sumAbsWeightGrad.set(target.weight, Float64Array.from([0.4, 0.4, 6, 0.2])); // index 3: big |g|, |w·g| small
    const scores = importanceScores('taylor', target, stats, rng);
    const plan = computeMasks([target], new Map([[target, scores]]), { sparsity: 0.25, scope: 'layer', granularity: { kind: 'weight' } });
    expect(Array.from(plan.get(target.weight)!)).toEqual([1, 1, 1, 0]);
  });
  it('random is seeded: same seed, same mask', () => {
    const a = setup();
    const s1 = importanceScores('random', a.target, null, new Rng(3));
    const s2 = importanceScores('random', a.target, null, new Rng(3));
    expect(Array.from(s1)).toEqual(Array.from(s2));
  });
  it('gradient criteria refuse to run without statistics', () => {
    const { target } = setup();
    expect(() => importanceScores('taylor', target, null, rng)).toThrow(/needs gradient statistics/);
  });
});
