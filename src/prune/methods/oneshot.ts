import { formatGranularity } from '../granularity.ts';
import { definePruningMethod } from '../method.ts';
import { pct } from './format.ts';

/** Score once, prune to the target, fine-tune: one round of Han et al. (2015)'s prune-and-retrain. */
export const oneshot = definePruningMethod<Record<string, never>>({
  name: 'oneshot',
  summary: 'score once, prune to the target, fine-tune',
  paper: 'Han et al. 2015 (one round)',
  options: {},
  usesCriterion: true,
  structured: true,
  run(ctx) {
    const { scope, granularity, epochs } = ctx.config;
    ctx.pruneTo(ctx.sparsity);
    ctx.note(`oneshot: pruned to ${pct(ctx.currentSparsity())} by ${ctx.criterion.name} (${scope}, ${formatGranularity(granularity)}), fine-tuning ${epochs} epochs`);
    ctx.shrink(); // neuron pruning fine-tunes the smaller dense model
    ctx.train(epochs, 'fine-tune');
  },
});
