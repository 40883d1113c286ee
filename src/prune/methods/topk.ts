import { definePruningMethod } from '../method.ts';
import { RegrowingMasks } from '../regrow.ts';
import { maskTopK } from '../select-weights.ts';
import { pct } from './format.ts';

/**
 * Top-k projection (iterative hard thresholding, Blumensath & Davies 2009): after every optimizer step keep
 * the k largest |w| — per layer, or across all layers with global scope — holding an exact L0 budget
 * k = round((1 − sparsity)·n). Pruned weights keep being updated and return when they outgrow a kept one.
 * Selection is O(n) (quickselect), so it can run every step.
 */
export const topk = definePruningMethod<Record<string, never>>({
  name: 'topk',
  summary: 'sparse optimization with an exact L0 budget: keep the top-k |w| after every step (O(n) quickselect)',
  paper: 'Blumensath & Davies 2009 (iterative hard thresholding)',
  options: {},
  usesCriterion: false,
  minEpochs: 1,
  run(ctx) {
    const { epochs, scope } = ctx.config;
    ctx.note(`topk: projecting onto the ${pct(1 - ctx.sparsity)} largest weights (${scope}) after every step for ${epochs} epochs`);
    const masks = new RegrowingMasks(ctx.targets);
    const groups = scope === 'global' ? [ctx.targets] : ctx.targets.map((t) => [t]);
    ctx.train(epochs, 'topk', [{
      afterStep() {
        for (const group of groups) {
          const chosen = maskTopK(group.map((t) => masks.magnitudes(t)), ctx.sparsity);
          group.forEach((t, i) => masks.install(t, chosen[i]!));
        }
      },
    }]);
    masks.release();
  },
});
