import type { Parameter } from '../../nn/parameter.ts';
import type { Sequential } from '../../nn/sequential.ts';
import { definePruningMethod } from '../method.ts';
import { kthSmallest } from '../quickselect.ts';
import { applyMaskPlan, type MaskPlan } from '../select.ts';
import { maskByThreshold } from '../select-weights.ts';
import { findTargets } from '../targets.ts';
import { pct } from './format.ts';

/**
 * Han, Pool, Tran & Dally (2015), "Learning both Weights and Connections": "the pruning threshold is chosen
 * as a quality parameter multiplied by the standard deviation of a layer's weights". τ = q·std(W) is
 * computed once per layer on the trained weights, the weights with |w| < τ are pruned, and the network is
 * retrained with that mask fixed (pruned weights stay zero). The sparsity is the outcome of q, and is known
 * right after pruning. Han et al. repeat prune → retrain for their best results; the `iterative` method
 * with the magnitude criterion is that loop at a target sparsity. Weights pruned before the run stay
 * pruned and are left out of the std.
 */
export const threshold = definePruningMethod<{ threshold: number }>({
  name: 'threshold',
  summary: 'prune |w| < q·std(w) per layer once, retrain with the mask fixed; q from --threshold or a validation sweep',
  paper: 'Han et al. 2015',
  options: {
    threshold: { type: 'number', min: 0, required: true, help: 'q in τ = q·std(w), per layer' },
  },
  usesCriterion: false,
  sparsity: 'outcome',
  sweep: { option: 'threshold', candidates: [0.25, 0.5, 1, 1.5, 2, 3] },
  calibrate: (model, sparsity) => ({ threshold: calibrateStdMultiple(model, sparsity) }),
  run(ctx, { threshold: q }) {
    const plan: MaskPlan = new Map();
    for (const t of ctx.targets) {
      const p = t.weight;
      const mask = maskByThreshold(Float64Array.from(p.value.data, Math.abs), q * aliveStandardDeviation(p));
      if (p.mask !== null) for (let i = 0; i < mask.length; i++) mask[i]! &= p.mask[i]!;
      plan.set(p, mask);
    }
    applyMaskPlan(plan);
    ctx.note(`threshold: pruned |w| < ${q}·std(w) per layer to ${pct(ctx.currentSparsity())}, retraining ${ctx.config.epochs} epochs with the mask fixed (per layer by its rule; scope does not apply)`);
    ctx.train(ctx.config.epochs, 'retrain');
  },
});

/** Population standard deviation of the weights the mask keeps (all of them without a mask). */
export function aliveStandardDeviation(p: Parameter): number {
  const w = p.value.data;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let i = 0; i < w.length; i++) {
    if (p.mask !== null && p.mask[i] === 0) continue;
    sum += w[i]!;
    sumSq += w[i]! * w[i]!;
    n++;
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return Math.sqrt(Math.max(sumSq / n - mean * mean, 0));
}

/**
 * The q for which |w| < q·std(w_layer) holds for a fraction `sparsity` of the model's prunable weights
 * (std taken per layer over the live weights, as `threshold` does): how comparison grids put the threshold
 * methods on a sparsity axis. Weights already pruned count as below any threshold.
 */
export function calibrateStdMultiple(model: Sequential, sparsity: number): number {
  const ratios: number[] = [];
  for (const t of findTargets(model)) {
    const p = t.weight;
    const std = Math.max(aliveStandardDeviation(p), 1e-30);
    const w = p.value.data;
    for (let i = 0; i < w.length; i++) ratios.push(p.mask !== null && p.mask[i] === 0 ? 0 : Math.abs(w[i]!) / std);
  }
  const k = Math.min(Math.max(Math.round(sparsity * ratios.length), 1), ratios.length) - 1;
  // Just above the k-th smallest ratio, so that k+1 weights fall strictly below the threshold.
  const q = kthSmallest(Float64Array.from(ratios), k);
  return q * (1 + 1e-9) + 1e-12;
}
