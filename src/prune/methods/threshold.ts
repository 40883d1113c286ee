import type { Sequential } from '../../nn/sequential.ts';
import { definePruningMethod } from '../method.ts';
import { kthSmallest } from '../quickselect.ts';
import { RegrowingMasks } from '../regrow.ts';
import { maskByThreshold } from '../select-weights.ts';
import { findTargets } from '../targets.ts';

/**
 * Hard thresholding during training, in the style of Han et al. (2015), whose threshold is "a quality
 * parameter multiplied by the standard deviation of a layer's weights": after every optimizer step, each
 * layer's weights with |w| < τ = q·std(w) are pruned. Pruned weights keep being updated, so one that the
 * gradient pushes back past τ returns (sparse optimization); the sparsity is the outcome of q.
 */
export const threshold = definePruningMethod<{ threshold: number }>({
  name: 'threshold',
  summary: 'sparse optimization: |w| < q·std(w) pruned after every step; q from --threshold or a validation sweep',
  paper: 'Han et al. 2015 (threshold rule)',
  options: {
    threshold: { type: 'number', min: 0, required: true, help: 'q in τ = q·std(w), per layer' },
  },
  usesCriterion: false,
  sparsity: 'outcome',
  minEpochs: 1,
  sweep: { option: 'threshold', candidates: [0.25, 0.5, 1, 1.5, 2, 3] },
  calibrate: (model, sparsity) => ({ threshold: calibrateStdMultiple(model, sparsity) }),
  run(ctx, { threshold: q }) {
    const { epochs } = ctx.config;
    ctx.note(`threshold: |w| < ${q}·std pruned after every step for ${epochs} epochs (pruned weights may come back)`);
    const masks = new RegrowingMasks(ctx.targets);
    ctx.train(epochs, 'threshold', [{
      afterStep() {
        for (const t of ctx.targets) {
          const w = masks.weights(t);
          masks.install(t, maskByThreshold(Float64Array.from(w, Math.abs), q * standardDeviation(w)));
        }
      },
    }]);
    masks.release();
  },
});

function standardDeviation(w: ArrayLike<number>): number {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < w.length; i++) {
    sum += w[i]!;
    sumSq += w[i]! * w[i]!;
  }
  const mean = sum / w.length;
  return Math.sqrt(Math.max(sumSq / w.length - mean * mean, 0));
}

/**
 * The q for which |w| < q·std(w_layer) holds for a fraction `sparsity` of the model's prunable weights
 * (std taken per layer, as in Han et al.): how comparison grids put the threshold method on a sparsity axis.
 */
export function calibrateStdMultiple(model: Sequential, sparsity: number): number {
  const ratios: number[] = [];
  for (const t of findTargets(model)) {
    const w = t.weight.value.data;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < w.length; i++) {
      sum += w[i]!;
      sumSq += w[i]! * w[i]!;
    }
    const std = Math.sqrt(Math.max(sumSq / w.length - (sum / w.length) ** 2, 1e-30));
    for (let i = 0; i < w.length; i++) ratios.push(Math.abs(w[i]!) / std);
  }
  const k = Math.min(Math.max(Math.round(sparsity * ratios.length), 1), ratios.length) - 1;
  // Just above the k-th smallest ratio, so that k+1 weights fall strictly below the threshold.
  const q = kthSmallest(Float64Array.from(ratios), k);
  return q * (1 + 1e-9) + 1e-12;
}
