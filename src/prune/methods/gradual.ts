import { ConfigError } from '../../errors.ts';
import type { TrainingHooks } from '../../nn/train.ts';
import { GradientStats } from '../gradient-stats.ts';
import { StraightThroughScores } from '../straight-through-scores.ts';
import { definePruningMethod } from '../method.ts';
import { gradualSchedule } from '../schedule.ts';
import { pct } from './format.ts';

/**
 * Gradual pruning during training (Zhu & Gupta 2017): at every update step of the cubic schedule the masks
 * are recomputed for the schedule's sparsity at that step; masks only shrink. Gradient criteria use the
 * statistics gathered since the previous update.
 *
 * With the movement criterion this is movement pruning as Sanh, Wolf & Rush (2020) define it: the score
 * S = −Σ_t ∂L/∂W'·W accumulates over the whole run for every weight, pruned ones included (straight
 * through), the mask is the top-k of S at the schedule's sparsity, and a pruned weight whose score climbs
 * back returns with the value it had (see StraightThroughScores).
 */
export const gradual = definePruningMethod<{ frequency: number | undefined; endFraction: number }>({
  name: 'gradual',
  summary: 'prune on the cubic schedule s_t = s·(1 − (1 − t/t_end)³) while training',
  paper: 'Zhu & Gupta 2017',
  options: {
    frequency: { type: 'integer', min: 1, defaultText: '1/20 of the pruning phase', help: 'optimizer steps between mask updates (Δt)' },
    endFraction: { type: 'number', min: 0, max: 1, exclusiveMin: true, default: 0.75, help: 'fraction of training at which the final sparsity is reached' },
  },
  usesCriterion: true,
  structured: true,
  minEpochs: 1,
  validate(config) {
    if (config.granularity.kind === 'nm') throw new ConfigError('N:M patterns have a fixed sparsity and cannot follow a gradual schedule; use oneshot or iterative');
  },
  run(ctx, { frequency, endFraction }) {
    const { epochs } = ctx.config;
    const total = epochs * ctx.batchesPerEpoch;
    const endStep = Math.max(1, Math.floor(total * endFraction));
    const every = frequency ?? Math.max(1, Math.floor(endStep / 20));
    const shape = { beginStep: 1, endStep, frequency: every };
    const schedule = gradualSchedule({ finalSparsity: ctx.sparsity, ...shape });
    // An overridden layer follows the same cubic curve to its own final sparsity.
    const overrideAt = (step: number) => (final: number): number => gradualSchedule({ finalSparsity: final, ...shape }).sparsityAt(step);
    const phase = { maskEpochs: endStep / ctx.batchesPerEpoch };
    ctx.note(`gradual: cubic schedule to ${pct(ctx.sparsity)} by step ${endStep} of ${total}, masks updated every ${every} steps by ${ctx.criterion.name}`);

    if (ctx.criterion.fromTraining === true) {
      // Movement pruning (Sanh et al. 2020): straight-through scores, masks reselected from them (pruned weights may return).
      const tracker = new StraightThroughScores(ctx.model, ctx.targets);
      const reselect: TrainingHooks = {
        afterStep(step) {
          if (!schedule.isUpdateStep(step.step)) return;
          const scores = ctx.scores({ stats: tracker.stats });
          tracker.install(ctx.select(scores, schedule.sparsityAt(step.step), { overrideAt: overrideAt(step.step), previous: tracker.previous }));
          if (ctx.criterion.cumulative !== true) tracker.stats.reset();
        },
      };
      try {
        ctx.train(epochs, 'gradual', [tracker.hook(), reselect], phase);
      } finally {
        tracker.release();
      }
      return;
    }

    const stats = ctx.criterion.needsGradients ? GradientStats.forTargets(ctx.targets) : null;
    const hook: TrainingHooks = {
      afterBackward() {
        stats?.accumulate();
      },
      afterStep(step) {
        if (!schedule.isUpdateStep(step.step)) return;
        ctx.pruneTo(schedule.sparsityAt(step.step), { stats, overrideAt: overrideAt(step.step) });
        if (ctx.criterion.cumulative !== true) stats?.reset();
      },
    };
    ctx.train(epochs, 'gradual', [hook], phase);
  },
});
