import { definePruningMethod } from '../method.ts';
import { RegrowingMasks } from '../regrow.ts';
import { maskByThreshold } from '../select-weights.ts';

/**
 * L1 proximal step (soft thresholding, as in ISTA): after each optimizer step,
 * w ← sign(w)·max(|w| − lr·λ, 0), the proximal operator of lr·λ·‖w‖₁ — weights with |w| ≤ lr·λ are pruned,
 * the others shrink by lr·λ. Pruned weights keep being updated and return if a step carries them past
 * lr·λ; the sparsity is the outcome of λ.
 */
export const l1 = definePruningMethod<{ threshold: number }>({
  name: 'l1',
  summary: 'L1 proximal step (soft thresholding by lr·λ) after every step; λ from --threshold or a validation sweep',
  paper: 'ISTA (Daubechies et al. 2004)',
  options: {
    threshold: { type: 'number', min: 0, required: true, help: 'λ, the L1 strength (each step soft-thresholds by lr·λ)' },
  },
  usesCriterion: false,
  sparsity: 'outcome',
  minEpochs: 1,
  sweep: { option: 'threshold', candidates: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2] },
  run(ctx, { threshold: lambda }) {
    const { epochs } = ctx.config;
    ctx.note(`l1: soft-thresholding with λ = ${lambda} after every step for ${epochs} epochs`);
    const masks = new RegrowingMasks(ctx.targets);
    ctx.train(epochs, 'l1', [{
      afterStep(step) {
        const shrink = step.optimizer.lr * lambda;
        for (const t of ctx.targets) {
          const w = masks.weights(t);
          const mask = maskByThreshold(Float64Array.from(w, Math.abs), shrink, { pruneAtThreshold: true });
          for (let i = 0; i < w.length; i++) if (mask[i] === 1) w[i] = w[i]! > 0 ? w[i]! - shrink : w[i]! + shrink;
          masks.install(t, mask);
        }
      },
    }]);
    masks.release();
  },
});
