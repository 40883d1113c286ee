/**
 * Per-layer sensitivity (issue 15): the suggestion rule on hand-made rows, the analysis against a direct
 * prune-and-evaluate of each point (including a gradient criterion, whose statistics are collected once per
 * layer), and the chart.
 */
import { describe, expect, it } from 'vitest';
import { cloneModel } from '../../src/nn/clone.ts';
import { evaluate } from '../../src/nn/index.ts';
import { collectGradientStats, findTargets, pruneTargets } from '../../src/prune/index.ts';
import { sensitivityAnalysis, sensitivityChart, suggestLayerSparsities, type SensitivityRow } from '../../src/study/index.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { parseXml, findAll, textOf } from '../report/xml.ts';
import { toyTest as test, toyTrain as train, trainedToyModel } from '../prune/helpers.ts';

const row = (layer: string, sparsity: number, accuracy: number): SensitivityRow => ({ layer, sparsity, accuracy });

describe('suggestLayerSparsities', () => {
  it('takes, per layer, the highest sparsity within the tolerance, from unsorted rows, in order of first appearance', () => {
    const rows = [
      row('layers.2.weight', 0.9, 0.95), row('layers.0.weight', 0.5, 0.955), row('layers.2.weight', 0.5, 0.96),
      row('layers.0.weight', 0.9, 0.90), row('layers.2.weight', 0.99, 0.80), row('layers.0.weight', 0.8, 0.951),
    ];
    expect(suggestLayerSparsities(rows, 0.96, 0.01)).toEqual([
      { layer: 'layers.2.weight', sparsity: 0.9, accuracy: 0.95 },
      { layer: 'layers.0.weight', sparsity: 0.8, accuracy: 0.951 },
    ]);
    // a looser tolerance lets the same curves go further
    expect(suggestLayerSparsities(rows, 0.96, 0.2).map((s) => s.sparsity)).toEqual([0.99, 0.9]);
  });

  it('suggests 0 (accuracy null) for a layer with no sparsity within the tolerance', () => {
    const rows = [row('layers.0.weight', 0.5, 0.5), row('layers.0.weight', 0.9, 0.2), row('layers.2.weight', 0.5, 0.97)];
    expect(suggestLayerSparsities(rows, 0.97, 0.01)).toEqual([
      { layer: 'layers.0.weight', sparsity: 0, accuracy: null },
      { layer: 'layers.2.weight', sparsity: 0.5, accuracy: 0.97 },
    ]);
    // a measured 0 % row that passes is reported with its accuracy
    expect(suggestLayerSparsities([row('layers.0.weight', 0, 0.97), row('layers.0.weight', 0.5, 0.5)], 0.97, 0.01)).toEqual([{ layer: 'layers.0.weight', sparsity: 0, accuracy: 0.97 }]);
  });

  it('counts a drop of exactly the tolerance as within it, despite floating-point rounding', () => {
    // 0.8 − 0.1 = 0.7000000000000001 in floating point: the 0.7 row must still pass
    expect(0.8 - 0.1).toBeGreaterThan(0.7);
    expect(suggestLayerSparsities([row('a', 0.5, 0.7), row('a', 0.8, 0.6999)], 0.8, 0.1)).toEqual([{ layer: 'a', sparsity: 0.5, accuracy: 0.7 }]);
    expect(suggestLayerSparsities([row('a', 0.5, 0.9), row('a', 0.8, 0.8999)], 0.9, 0)).toEqual([{ layer: 'a', sparsity: 0.5, accuracy: 0.9 }]);
  });

  it('breaks ties: repeats of one sparsity report the best accuracy; equal accuracies keep the higher sparsity', () => {
    const repeats = [row('a', 0.8, 0.91), row('a', 0.8, 0.95), row('a', 0.8, 0.93)];
    expect(suggestLayerSparsities(repeats, 0.96, 0.1)).toEqual([{ layer: 'a', sparsity: 0.8, accuracy: 0.95 }]);
    const flat = [row('a', 0.9, 0.95), row('a', 0.5, 0.95), row('a', 0.7, 0.95)];
    expect(suggestLayerSparsities(flat, 0.95, 0)).toEqual([{ layer: 'a', sparsity: 0.9, accuracy: 0.95 }]);
  });

  it('takes the curve as measured: a failing lower sparsity does not veto a higher one that passed', () => {
    expect(suggestLayerSparsities([row('a', 0.5, 0.90), row('a', 0.6, 0.96), row('a', 0.7, 0.80)], 0.96, 0.01)[0]!.sparsity).toBe(0.6);
  });

  it('returns nothing for no rows, and refuses a bad baseline, tolerance or row', () => {
    expect(suggestLayerSparsities([], 0.9, 0.01)).toEqual([]);
    expect(() => suggestLayerSparsities([], 1.5, 0.01)).toThrow(/baseline accuracy must be in \[0, 1\], got 1.5/);
    expect(() => suggestLayerSparsities([], NaN, 0.01)).toThrow(/baseline accuracy/);
    expect(() => suggestLayerSparsities([], 0.9, -0.01)).toThrow(/tolerance must be in \[0, 1\), got -0.01/);
    expect(() => suggestLayerSparsities([], 0.9, 1)).toThrow(/tolerance must be in \[0, 1\)/);
    expect(() => suggestLayerSparsities([row('a', 1, 0.5)], 0.9, 0.01)).toThrow(/sparsity of a a row must be in \[0, 1\), got 1/);
    expect(() => suggestLayerSparsities([row('a', 0.5, NaN)], 0.9, 0.01)).toThrow(/accuracy of a a row must be in \[0, 1\], got NaN/);
  });
});

describe('sensitivityAnalysis', () => {
  const dense = trainedToyModel();

  /** One point computed the plain way: a fresh copy, that layer pruned alone, evaluated. */
  function direct(layer: string, sparsity: number, criterion: 'magnitude' | 'taylor'): number {
    const copy = cloneModel(dense);
    const target = findTargets(copy).find((t) => t.name === layer)!;
    const stats = criterion === 'taylor' ? collectGradientStats(copy, [target], train, { seed: 5, batches: 3 }) : null;
    pruneTargets([target], sparsity, { criterion, scope: 'layer', granularity: { kind: 'weight' }, stats, rng: new Rng(5) });
    return evaluate(copy, test).accuracy;
  }

  for (const criterion of ['magnitude', 'taylor'] as const) {
    it(`gives each point the accuracy of that layer pruned alone (${criterion}), reporting each layer as it is done`, () => {
      const before = dense.parameters().map((p) => Float32Array.from(p.value.data));
      const done: string[] = [];
      const sparsities = [0.9, 0, 0.5, 0.99];
      const rows = sensitivityAnalysis(dense, test, {
        sparsities, criterion, seed: 5, gradientBatches: 3, trainForScores: train,
        onLayer: (layer, layerRows, index, count) => done.push(`${index + 1}/${count} ${layer} ${layerRows.length}`),
      });
      expect(done).toEqual(['1/3 layers.0.weight 4', '2/3 layers.2.weight 4', '3/3 layers.4.weight 4']);
      expect(rows).toHaveLength(12);
      for (const r of rows) expect(r.accuracy, `${r.layer} at ${r.sparsity}`).toBe(direct(r.layer, r.sparsity, criterion));
      // 0 % is the dense model; 99 % of the last layer's 72 weights costs accuracy
      expect(rows.find((r) => r.layer === 'layers.0.weight' && r.sparsity === 0)!.accuracy).toBe(evaluate(dense, test).accuracy);
      expect(rows.find((r) => r.layer === 'layers.4.weight' && r.sparsity === 0.99)!.accuracy).toBeLessThan(evaluate(dense, test).accuracy);
      dense.parameters().forEach((p, i) => expect(p.value.data).toEqual(before[i]));
    });
  }

  it('refuses no sparsities or one outside [0, 1)', () => {
    expect(() => sensitivityAnalysis(dense, test, { sparsities: [] })).toThrow(/at least one sparsity/);
    expect(() => sensitivityAnalysis(dense, test, { sparsities: [0.5, 1] })).toThrow(/every sparsity must be in \[0, 1\), got 1/);
  });
});

describe('sensitivityChart', () => {
  it('draws one line per layer with the dense baseline and the tolerance floor', () => {
    const rows = [row('layers.1.weight', 0.5, 0.97), row('layers.1.weight', 0.9, 0.8), row('layers.4.weight', 0.9, 0.97), row('layers.4.weight', 0.5, 0.975)];
    const svg = sensitivityChart(rows, 0.98, 'LeNet sensitivity', { tolerance: 0.01 });
    const root = parseXml(svg);
    const text = findAll(root, 'text').map(textOf).join('\n');
    expect(text).toContain('LeNet sensitivity');
    expect(text).toContain('layers.1');
    expect(text).toContain('layers.4');
    expect(text).toContain('dense 98.00%; the line below: −1 point');
    expect(findAll(root, 'line').filter((l) => l.attributes['class'] === 'reference').length).toBe(2);
    const plain = parseXml(sensitivityChart(rows, 0.98, 'no floor', { baselineName: 'the given model' }));
    expect(findAll(plain, 'text').map(textOf)).toContain('the given model 98.00%');
    expect(findAll(plain, 'line').filter((l) => l.attributes['class'] === 'reference').length).toBe(1);
  });
});
