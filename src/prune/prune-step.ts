import type { Rng } from '../tensor/rng.ts';
import { importanceScores, type CriterionName } from './criteria.ts';
import type { GradientStats } from './gradient-stats.ts';
import type { Granularity } from './granularity.ts';
import { applyMaskPlan, computeMasks, type MaskPlan, type Scope } from './select.ts';
import type { PruneTarget } from './targets.ts';

/** Settings of `pruneTargets`: how weights are scored and which of them are pruned together. */
export interface PruneStepOptions {
  /** The importance criterion (see `criteria()`). */
  criterion: CriterionName;
  /** Rank within each layer, or across all layers. */
  scope: Scope;
  /** The unit pruned as a whole. */
  granularity: Granularity;
  /** Per-layer sparsity overrides by parameter name. */
  overrides?: Readonly<Record<string, number>>;
  /** Gradient statistics, for the criteria that need them. */
  stats?: GradientStats | null;
  /** Generator handed to the criterion (the random criterion draws from it). */
  rng: Rng;
}

/**
 * Scores every target, chooses the masks for `sparsity` and installs them (masks only shrink). Returns the
 * plan. Throws ConfigError for a bad sparsity, an unknown criterion, or a gradient criterion without stats.
 */
export function pruneTargets(targets: readonly PruneTarget[], sparsity: number, options: PruneStepOptions): MaskPlan {
  const scores = new Map(targets.map((t) => [t, importanceScores(options.criterion, t, options.stats ?? null, options.rng, options.granularity)] as const));
  const plan = computeMasks(targets, scores, {
    sparsity,
    scope: options.scope,
    granularity: options.granularity,
    ...(options.overrides === undefined ? {} : { overrides: options.overrides }),
  });
  applyMaskPlan(plan);
  return plan;
}
