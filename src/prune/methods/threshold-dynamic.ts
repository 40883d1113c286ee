import { definePruningMethod } from '../method.ts';
import { RegrowingMasks } from '../regrow.ts';
import { maskByThreshold } from '../select-weights.ts';
import { calibrateStdMultiple } from './threshold.ts';

/**
 * A variant of Han et al. (2015)'s threshold rule, as sparse optimization: after every optimizer step each
 * layer's weights with |w| < τ = q·std(w) are pruned, with τ recomputed from the current weights. Pruned
 * weights keep being updated (from zero), so one that the gradient pushes back past τ returns; the sparsity
 * is the outcome of q and drifts while training. Han et al. compute τ once and keep the mask fixed: that is
 * `threshold`.
 */
export const thresholdDynamic = definePruningMethod<{ threshold: number }>({
  name: 'threshold-dynamic',
  summary: 'sparse optimization: |w| < q·std(w) re-thresholded after every step, pruned weights may return',
  paper: 'variant of Han et al. 2015 (τ recomputed every step, no fixed mask)',
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
    ctx.note(`threshold-dynamic: |w| < ${q}·std pruned after every step for ${epochs} epochs (pruned weights may come back)`);
    const masks = new RegrowingMasks(ctx.targets.map((t) => t.weight));
    ctx.train(epochs, 'threshold-dynamic', [{
      afterStep() {
        for (const t of ctx.targets) {
          // The std of the current weights, the ones pruned by the last step included (they are zero).
          const w = masks.weights(t.weight);
          masks.install(t.weight, maskByThreshold(Float64Array.from(w, Math.abs), q * standardDeviation(w)));
        }
      },
    }]);
    masks.release();
  },
});

/** Population standard deviation of all entries of a layer. */
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
