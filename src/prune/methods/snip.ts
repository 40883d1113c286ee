import { definePruningMethod } from '../method.ts';
import { pct } from './format.ts';

/**
 * SNIP (Lee, Ajanthan & Torr 2019): re-initialise, prune the fresh network once by connection sensitivity
 * |w·∂L/∂w| on a few mini-batches, then train the sparse network.
 */
export const snip = definePruningMethod<Record<string, never>>({
  name: 'snip',
  summary: 're-initialise, prune at initialisation by connection sensitivity, train',
  paper: 'Lee et al. 2019',
  options: {},
  usesCriterion: false,
  minEpochs: 1,
  run(ctx) {
    ctx.reinitialize();
    ctx.note('snip: re-initialised the weights (SNIP prunes at initialisation)');
    ctx.pruneTo(ctx.sparsity, { criterion: 'snip' });
    ctx.note(`snip: pruned the fresh network to ${pct(ctx.currentSparsity())} by connection sensitivity, training ${ctx.config.epochs} epochs`);
    ctx.train(ctx.config.epochs, 'train');
  },
});
