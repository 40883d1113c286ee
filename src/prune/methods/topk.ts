import { definePruningMethod } from '../method.ts';
import { RegrowingMasks } from '../regrow.ts';
import { maskTopK } from '../select-weights.ts';
import { pct } from './format.ts';

/**
 * Top-k projection (iterative hard thresholding, Blumensath & Davies 2009): after every optimizer step keep
 * the k largest |w| — per layer, or across all layers with global scope — holding an exact L0 budget
 * k = round((1 − sparsity)·n). Pruned weights keep being updated and return when they outgrow a kept one.
 * A layer with a per-layer override keeps its own budget (IHT projects onto the final budget from the first
 * step, so the override applies from the first step too). Selection is O(n) (quickselect), so it can run
 * every step.
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
    const overrides = ctx.config.overrides ?? {};
    ctx.note(`topk: projecting onto the ${pct(1 - ctx.sparsity)} largest weights (${scope}) after every step for ${epochs} epochs`);
    const masks = new RegrowingMasks(ctx.targets.map((t) => t.weight));
    const shared = ctx.targets.filter((t) => !(t.name in overrides));
    const groups = [
      ...ctx.targets.filter((t) => t.name in overrides).map((t) => ({ targets: [t], sparsity: overrides[t.name]! })),
      ...(scope === 'global' ? [shared] : shared.map((t) => [t])).filter((g) => g.length > 0).map((g) => ({ targets: g, sparsity: ctx.sparsity })),
    ];
    ctx.train(epochs, 'topk', [{
      afterStep() {
        for (const { targets: group, sparsity } of groups) {
          const chosen = maskTopK(group.map((t) => masks.magnitudes(t.weight)), sparsity);
          group.forEach((t, i) => masks.install(t.weight, chosen[i]!));
        }
      },
    }]);
    masks.release();
  },
});
