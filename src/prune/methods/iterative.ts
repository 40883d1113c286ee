import { GradientStats, gradientStatsHook } from '../gradient-stats.ts';
import { definePruningMethod } from '../method.ts';
import { iterativeSparsities } from '../schedule.ts';
import { pct } from './format.ts';

/**
 * Iterative pruning (Han et al. 2015): R rounds of score → prune → retrain, each round removing the same
 * fraction of the weights that remain (s_r = 1 − (1 − s)^(r/R)); the epoch budget is split over the rounds.
 * A layer with a per-layer override follows the same rule towards its own sparsity. Movement scores
 * (Sanh et al. 2020) are accumulated over training steps: a short warm-up before the first round, then the
 * retraining of every round.
 */
export const iterative = definePruningMethod<{ rounds: number }>({
  name: 'iterative',
  summary: 'R rounds of score → prune a fraction of what remains → retrain (the classic gradient-pruning loop)',
  paper: 'Han et al. 2015',
  options: {
    rounds: { type: 'integer', min: 1, default: 3, help: 'rounds of score → prune → retrain' },
  },
  usesCriterion: true,
  structured: true,
  run(ctx, { rounds }) {
    const levels = iterativeSparsities(ctx.sparsity, rounds);
    const perRound = distributeEpochs(ctx.config.epochs, rounds);
    // Scores that only training gives (movement) accumulate over a warm-up, then over each round's retraining.
    const fromTraining = ctx.criterion.fromTraining === true ? GradientStats.forTargets(ctx.targets) : null;
    levels.forEach((level, r) => {
      if (fromTraining !== null && fromTraining.batches === 0) ctx.warmUp(fromTraining);
      // An overridden layer removes the same fraction of what remains per round, towards its own target.
      ctx.pruneTo(level, { ...(fromTraining === null ? {} : { stats: fromTraining }), overrideAt: (final) => iterativeSparsities(final, rounds)[r]! });
      if (fromTraining !== null && ctx.criterion.cumulative !== true) fromTraining.reset();
      ctx.note(`iterative round ${r + 1}/${rounds}: pruned to ${pct(ctx.currentSparsity())}, retraining ${perRound[r]} epochs`);
      ctx.train(perRound[r]!, `round ${r + 1}`, fromTraining === null ? [] : [gradientStatsHook(fromTraining)]);
    });
  },
});

/** Splits an epoch budget over rounds as evenly as possible (earlier rounds get the remainder). */
function distributeEpochs(epochs: number, rounds: number): number[] {
  const base = Math.floor(epochs / rounds);
  return Array.from({ length: rounds }, (_, r) => base + (r < epochs - base * rounds ? 1 : 0));
}
