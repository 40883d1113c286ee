import type { TrainingHooks } from '../../nn/train.ts';
import { needsGradients } from '../criteria.ts';
import { GradientStats } from '../gradient-stats.ts';
import { pruneTargets, type PruneStepOptions } from '../prune-step.ts';
import type { PruningSchedule } from '../schedule.ts';
import type { PruneTarget } from '../targets.ts';

/**
 * Gradual pruning during training (Zhu & Gupta 2017): at every update step of the schedule, the masks are
 * recomputed for the schedule's sparsity at that step. Gradient criteria use the statistics gathered since
 * the previous update; movement keeps accumulating over the whole run, as Sanh et al. define it.
 */
export function gradualPruningHook(
  targets: readonly PruneTarget[],
  schedule: PruningSchedule,
  options: Omit<PruneStepOptions, 'stats'>,
): TrainingHooks & { readonly updates: { step: number; sparsity: number }[] } {
  const stats = needsGradients(options.criterion) ? new GradientStats(targets.map((t) => t.weight)) : null;
  const updates: { step: number; sparsity: number }[] = [];
  return {
    updates,
    afterBackward() {
      stats?.accumulate();
    },
    afterStep(ctx) {
      if (!schedule.isUpdateStep(ctx.step)) return;
      const sparsity = schedule.sparsityAt(ctx.step);
      pruneTargets(targets, sparsity, { ...options, stats });
      updates.push({ step: ctx.step, sparsity });
      if (options.criterion !== 'movement') stats?.reset();
    },
  };
}
