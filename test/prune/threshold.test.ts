/**
 * Issue 17, item 6: Han et al. (2015) compute τ = q·std(W) once per layer on the trained dense weights,
 * prune |w| < τ, and retrain with the mask fixed. `threshold` used to re-threshold every step with no mask,
 * so pruned weights came back and the sparsity drifted; that rule lives on as `threshold-dynamic`.
 */
import { describe, expect, it } from 'vitest';
import { cloneModel } from '../../src/nn/index.ts';
import { calibrateStdMultiple, findTargets, pruningMethod, runPruning } from '../../src/prune/index.ts';
import { toyConfig, toyTrain as train, trainedToyModel } from './helpers.ts';

const dense = trainedToyModel();

/** The mask Han's rule gives the dense model: |w| < q·std(w) per layer. */
function hanMasks(q: number): Uint8Array[] {
  return findTargets(dense).map((t) => {
    const w = Array.from(t.weight.value.data);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    return Uint8Array.from(w, (v) => (Math.abs(v) < q * std ? 0 : 1));
  });
}

describe("threshold: Han et al.'s rule", () => {
  it('prunes |w| < q·std(w) of the trained layer once and retrains with that mask fixed', () => {
    const result = runPruning(cloneModel(dense), { train }, toyConfig('threshold', { epochs: 2, options: { threshold: 1 } }));
    const expected = hanMasks(1);
    findTargets(result.model).forEach((t, k) => {
      expect(Array.from(t.weight.mask!)).toEqual(Array.from(expected[k]!));
      t.weight.mask!.forEach((m, i) => m === 0 && expect(t.weight.value.data[i]).toBe(0));
    });
    const zeros = expected.reduce((n, m) => n + m.filter((x) => x === 0).length, 0);
    expect(result.sparsity).toBe(zeros / expected.reduce((n, m) => n + m.length, 0));
  });

  it('is calibrated to a target exactly: the calibrated q prunes that fraction and retraining keeps it', () => {
    const q = calibrateStdMultiple(dense, 0.6);
    const result = runPruning(cloneModel(dense), { train }, toyConfig('threshold', { epochs: 1, options: { threshold: q } }));
    const total = findTargets(dense).reduce((n, t) => n + t.weight.value.size, 0);
    expect(Math.abs(result.sparsity - 0.6) * total).toBeLessThanOrEqual(1);
  });

  it('retrains for 0 epochs too (prune only)', () => {
    const result = runPruning(cloneModel(dense), { train }, toyConfig('threshold', { epochs: 0, options: { threshold: 1 } }));
    expect(result.sparsity).toBeGreaterThan(0.3);
  });
});

describe('threshold-dynamic: the re-thresholding variant', () => {
  it('re-thresholds after every step, so masks change and pruned weights may return', () => {
    expect(pruningMethod('threshold-dynamic').paper).toMatch(/variant/);
    const result = runPruning(cloneModel(dense), { train }, toyConfig('threshold-dynamic', { epochs: 2, options: { threshold: 1 } }));
    const han = hanMasks(1);
    const differing = findTargets(result.model).reduce((n, t, k) => n + t.weight.mask!.filter((m, i) => m !== han[k]![i]).length, 0);
    expect(differing).toBeGreaterThan(0);
  });
});
