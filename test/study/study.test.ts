import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/nn/index.ts';
import { holdoutSplit } from '../../src/data/split.ts';
import { comparisonChart, pickSparsest, runComparison, sensitivityAnalysis, sweepChart, sweepPruning } from '../../src/study/index.ts';
import { compressionChart } from '../../src/report/index.ts';
import { holdoutRecord } from '../../src/study/recipe.ts';
import { chooseSetting, type SweepRow } from '../../src/study/sweep.ts';
import { holdoutValidation } from '../../src/study/validation.ts';
import { toyConfig as config, toyTest as test, toyTrain as train, trainedToyModel } from '../prune/helpers.ts';

const dense = trainedToyModel();
// A validation plan over the toy training set (the toy model saw all of it; fine for testing the mechanics —
// the tests of validation.test.ts are the ones about never training on validation data).
const plan = holdoutValidation(train, holdoutRecord(train, 'toy', 0.2, 4, holdoutSplit(train, 0.2, 4)));

describe('sweeps', () => {
  it('picks the sparsest setting within tolerance', () => {
    const rows = [
      { value: 0.5, sparsity: 0.5, accuracy: 0.95 },
      { value: 0.9, sparsity: 0.9, accuracy: 0.94 },
      { value: 0.99, sparsity: 0.99, accuracy: 0.7 },
    ];
    expect(pickSparsest(rows, 0.96, 0.02)?.value).toBe(0.9);
    expect(pickSparsest(rows, 0.99, 0.001)).toBeNull();
  });

  it('chooses a hard threshold by a validation sweep', () => {
    const result = sweepPruning(dense, train, plan, config('threshold', { epochs: 1 }), { candidates: [0.1, 0.5, 1, 2, 4], tolerance: 0.05 });
    expect(result.rows).toHaveLength(5);
    const sparsities = result.rows.map((r) => r.sparsity);
    expect(sparsities[4]).toBeGreaterThan(sparsities[0]!); // larger q, sparser
    expect(result.chosen).not.toBeNull();
    expect(result.chosen!.accuracy).toBeGreaterThanOrEqual(result.baseline - 0.05);
  });

  it('sweeps sparsity for a method without a sweep option, and refuses a sweep without candidates', () => {
    const result = sweepPruning(dense, train, plan, config('oneshot', { epochs: 0 }), { candidates: [0.3, 0.6], tolerance: 0.5 });
    expect(result.rows.map((r) => r.sparsity)).toEqual([expect.closeTo(0.3, 2), expect.closeTo(0.6, 2)]);
    expect(() => sweepPruning(dense, train, plan, config('oneshot', { epochs: 0 }), { tolerance: 0.5 })).toThrow(/a sweep of method 'oneshot' needs at least one candidate/);
    expect(() => sweepPruning(dense, train, plan, config('oneshot', { epochs: 0 }), { values: [0.5], objective: { kind: 'best-at-size', maxBytes: 0 } })).toThrow(/size budget must be a positive number/);
  });

  it('searches a grid of values × epochs × learning rates and charts it, the chosen point marked', () => {
    const result = sweepPruning(dense, train, plan, config('oneshot'), { values: [0.5, 0.9], epochs: [0, 1], lrs: [0.005, 0.02], tolerance: 0.05 });
    expect(result.rows.map((r) => `${r.value}/${r.epochs}/${r.lr}`)).toEqual([
      '0.5/0/0.005', '0.5/0/0.02', '0.5/1/0.005', '0.5/1/0.02', '0.9/0/0.005', '0.9/0/0.02', '0.9/1/0.005', '0.9/1/0.02',
    ]);
    // With 0 epochs the learning rate does nothing: the same run twice.
    expect(result.rows[0]!.accuracy).toBe(result.rows[1]!.accuracy);
    expect(result.validation).toMatchObject({ source: 'holdout', folds: 1, validationSamples: [plan.folds[0]!.validationIndices!.length] });
    expect(result.baseline).toBe(evaluate(dense, { ...train, ...sliceOf(plan) }).accuracy);
    const svg = sweepChart(result, 'toy sweep');
    expect(svg).toContain('1 epoch, lr 0.005');
    if (result.chosen !== null) expect(svg).toContain(`chosen: sparsity ${result.chosen.value}, ${result.chosen.epochs} epochs`);
  });

  it('chooses by the objective: sparsest within tolerance, or most accurate within a size budget', () => {
    const row = (value: number, sparsity: number, bytes: number, accuracy: number): SweepRow => ({ value, epochs: 1, lr: 0.001, sparsity, bytes, accuracy, accuracyStd: 0, foldAccuracies: [accuracy] });
    const rows = [row(1, 0.5, 5000, 0.95), row(2, 0.9, 1000, 0.94), row(3, 0.9, 1000, 0.945), row(4, 0.99, 100, 0.7)];
    expect(chooseSetting(rows, 0.96, { kind: 'sparsest', tolerance: 0.02 })?.value).toBe(3); // a tie in sparsity goes to accuracy
    expect(chooseSetting(rows, 0.99, { kind: 'sparsest', tolerance: 0.001 })).toBeNull();
    expect(chooseSetting(rows, 0.96, { kind: 'best-at-size', maxBytes: 1000 })?.value).toBe(3);
    expect(chooseSetting(rows, 0.96, { kind: 'best-at-size', maxBytes: 10_000 })?.value).toBe(1);
    expect(chooseSetting(rows, 0.96, { kind: 'best-at-size', maxBytes: 50 })).toBeNull();
  });
});

describe('sensitivity', () => {
  it('records accuracy per layer and sparsity without changing the model', () => {
    const before = dense.parameters().map((p) => p.value.data[0]);
    const rows = sensitivityAnalysis(dense, test, { sparsities: [0.5, 0.99] });
    expect(() => sensitivityAnalysis(dense, test, { sparsities: [0.5], criterion: 'taylor' })).toThrow(/pass the training data as trainForScores/);
    expect(rows.map((r) => `${r.layer}@${r.sparsity}`)).toEqual([
      'layers.0.weight@0.5', 'layers.0.weight@0.99', 'layers.2.weight@0.5', 'layers.2.weight@0.99', 'layers.4.weight@0.5', 'layers.4.weight@0.99',
    ]);
    expect(rows[1]!.accuracy).toBeLessThan(rows[0]!.accuracy + 1e-9);
    expect(dense.parameters().map((p) => p.value.data[0])).toEqual(before);
  });
});

describe('comparison grids', () => {
  const base = { scope: 'global' as const, granularity: { kind: 'weight' as const }, epochs: 1, batchSize: 32, lr: 0.005, seed: 3 };

  it('runs criterion methods once per criterion and the others once, on copies of the model', () => {
    const before = Float32Array.from(dense.parameters()[0]!.value.data);
    const comparison = runComparison(dense, { train, test }, {
      methods: ['oneshot', 'threshold', 'iterative'], criteria: ['magnitude', 'random'], sparsities: [0.5], base, methodOptions: { iterative: { rounds: 2 } },
    });
    expect(comparison.rows.map((r) => `${r.method}/${r.criterion}`)).toEqual(['oneshot/magnitude', 'oneshot/random', 'threshold/-', 'iterative/magnitude', 'iterative/random']);
    expect(comparison.dense.testAccuracy).toBe(evaluate(dense, test).accuracy);
    const oneshot = comparison.rows[0]!;
    expect(oneshot.sparsity).toBeCloseTo(0.5, 2);
    // threshold is calibrated to the target on the trained weights: a q is recorded with the row
    expect(comparison.rows[2]!.options?.['threshold']).toBeGreaterThan(0);
    expect(comparison.rows[3]!.options).toEqual({ rounds: 2 });
    expect(Array.from(dense.parameters()[0]!.value.data)).toEqual(Array.from(before));
    const svg = comparisonChart(comparison, 'toy');
    expect(svg).toContain('oneshot / magnitude');
    expect(svg).toContain('threshold');
  });

  it('gains the compression axis with quantize: stage sizes shrink, the pruned row is unchanged, the chart is log-scale', () => {
    const grid = { methods: ['oneshot'], criteria: ['magnitude'], sparsities: [0.5, 0.8], base };
    const plain = runComparison(dense, { train, test }, grid);
    const quantized = runComparison(dense, { train, test }, { ...grid, quantize: { method: 'kmeans', bits: 3, epochs: 1, lr: 1e-4 } });
    expect(plain.rows.every((r) => r.compression === undefined)).toBe(true);
    quantized.rows.forEach((row, i) => {
      // quantizing happens after the pruned model is scored and measured: the pruned columns are the plain grid's
      expect(row.testAccuracy).toBe(plain.rows[i]!.testAccuracy);
      expect(row.sparsity).toBe(plain.rows[i]!.sparsity);
      const { stages, testAccuracy } = row.compression!;
      expect(stages.pruned).toBeLessThan(stages.dense);
      expect(stages.quantized!).toBeLessThan(stages.pruned);
      expect(stages.entropyCoded!).toBeLessThanOrEqual(stages.quantized!);
      expect(testAccuracy).toBeGreaterThanOrEqual(0);
      expect(testAccuracy).toBeLessThanOrEqual(1);
    });
    const series = new Map([['pruned', quantized.rows.map((r) => ({ bytes: r.compression!.stages.pruned, accuracy: r.testAccuracy }))]]);
    const svg = compressionChart({ title: 'toy', series, dense: { bytes: quantized.rows[0]!.compression!.stages.dense, accuracy: quantized.dense.testAccuracy } });
    expect(svg).toContain('file size (bytes, log scale)');
    expect(svg).toContain('dense float32');
  });

  it('refuses methods it cannot put on a sparsity axis, unknown names, and options of methods not in the grid', () => {
    const grid = { criteria: ['magnitude'], sparsities: [0.5], base };
    expect(() => runComparison(dense, { train, test }, { ...grid, methods: ['l1'] })).toThrow(/the l1 method has no target sparsity to put on a grid/);
    expect(() => runComparison(dense, { train, test }, { ...grid, methods: ['lottery'] })).toThrow(/unknown method 'lottery' \(expected one of oneshot/);
    expect(() => runComparison(dense, { train, test }, { ...grid, methods: ['oneshot'], criteria: ['hessian'] })).toThrow(/unknown criterion 'hessian'/);
    expect(() => runComparison(dense, { train, test }, { ...grid, methods: ['oneshot'], methodOptions: { iterative: { rounds: 2 } } })).toThrow(/options for method 'iterative', which is not in the comparison/);
  });
});

/** The plan's validation samples as x/y/count fields. */
function sliceOf(p: typeof plan): { x: Float32Array; y: Uint8Array; count: number } {
  const indices = p.folds[0]!.validationIndices!;
  const x = new Float32Array(indices.length * train.features);
  const y = new Uint8Array(indices.length);
  indices.forEach((src, i) => {
    x.set(train.x.subarray(src * train.features, (src + 1) * train.features), i * train.features);
    y[i] = train.y[src]!;
  });
  return { x, y, count: indices.length };
}
