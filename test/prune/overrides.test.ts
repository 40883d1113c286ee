/**
 * Issue 17, item 2: a per-layer override is the layer's *final* sparsity. Methods that reach their sparsity
 * gradually (gradual: the cubic schedule; iterative: rounds) must take an overridden layer there along the
 * same curve — before the fix it was at its final sparsity from the first step/round.
 */
import { describe, expect, it } from 'vitest';
import { cloneModel } from '../../src/nn/index.ts';
import { iterativeSparsities, registerCriterion, runPruning } from '../../src/prune/index.ts';
import { countZeros, toyConfig, toyTrain as train, trainedToyModel } from './helpers.ts';

const dense = trainedToyModel();

// A magnitude criterion that records, at every scoring, the fraction of zeros in each layer: the k-th record
// shows the masks the (k−1)-th mask update left.
const seen: Record<string, number>[] = [];
registerCriterion({
  name: 'test-magnitude-recorder', summary: '|w|, recording each layer\'s sparsity when called', needsGradients: false,
  score: (t) => {
    if (t.name === 'layers.0.weight') seen.push({});
    seen[seen.length - 1]![t.name] = countZeros(t.weight.value.data) / t.weight.value.size;
    return Float64Array.from(t.weight.value.data, Math.abs);
  },
});

describe('per-layer overrides follow the schedule', () => {
  it('gradual: an overridden layer follows the cubic curve to its own final sparsity', () => {
    seen.length = 0;
    const result = runPruning(cloneModel(dense), { train }, toyConfig('gradual', {
      criterion: 'test-magnitude-recorder', sparsity: 0.5, scope: 'layer', epochs: 2, overrides: { 'layers.0.weight': 0.9 }, options: { frequency: 4 },
    }));
    // The first update (step 1) is at schedule sparsity 0: nothing is pruned yet, the overridden layer included.
    expect(seen[1]!['layers.0.weight']).toBe(0);
    expect(seen[1]!['layers.2.weight']).toBe(0);
    // Midway, the overridden layer is at 0.9/0.5 times the others' sparsity (the same cubic fraction).
    const mid = seen[Math.floor(seen.length / 2)]!;
    expect(mid['layers.2.weight']).toBeGreaterThan(0.1);
    expect(mid['layers.0.weight']! / mid['layers.2.weight']!).toBeCloseTo(0.9 / 0.5, 1);
    expect(result.notes.join('\n')).toMatch(/gradual/);
  });

  it('iterative: an overridden layer removes the same fraction of what remains in each round, towards its own target', () => {
    seen.length = 0;
    runPruning(cloneModel(dense), { train }, toyConfig('iterative', {
      criterion: 'test-magnitude-recorder', sparsity: 0.5, scope: 'layer', epochs: 3, overrides: { 'layers.0.weight': 0.9 }, options: { rounds: 3 },
    }));
    const [round1, round2] = [seen[1]!, seen[2]!];
    expect(round1['layers.0.weight']).toBeCloseTo(iterativeSparsities(0.9, 3)[0]!, 2);
    expect(round1['layers.2.weight']).toBeCloseTo(iterativeSparsities(0.5, 3)[0]!, 2);
    expect(round2['layers.0.weight']).toBeCloseTo(iterativeSparsities(0.9, 3)[1]!, 2);
  });

  it('oneshot: an overridden layer goes straight to its override', () => {
    const result = runPruning(cloneModel(dense), { train }, toyConfig('oneshot', { sparsity: 0.5, scope: 'layer', epochs: 0, overrides: { 'layers.0.weight': 0.9 } }));
    const w = result.model.parameters()[0]!.value.data;
    expect(countZeros(w) / w.length).toBeCloseTo(0.9, 2);
  });

  it('methods whose sparsity is the outcome of a threshold refuse overrides', () => {
    expect(() => runPruning(cloneModel(dense), { train }, toyConfig('threshold', { overrides: { 'layers.0.weight': 0.9 } }))).toThrow(/method 'threshold' has no target sparsity.*overrides cannot apply/);
  });
});

describe('topk with overrides', () => {
  it('keeps an overridden layer at its own budget (it used to be ranked with the others)', () => {
    const result = runPruning(cloneModel(dense), { train }, toyConfig('topk', { sparsity: 0.5, scope: 'global', epochs: 1, overrides: { 'layers.4.weight': 0.1 } }));
    const w = result.model.parameters()[4]!.value.data;
    expect(countZeros(w)).toBe(Math.round(0.1 * w.length));
  });
});
