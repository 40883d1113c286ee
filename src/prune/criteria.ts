import { ConfigError } from '../errors.ts';
import type { Rng } from '../tensor/rng.ts';
import type { GradientStats } from './gradient-stats.ts';
import type { PruneTarget } from './targets.ts';

/**
 * Importance criteria: one score per weight, higher = more important; the least important are pruned.
 * Scores are kept apart from the weights (as PyTorch's `importance_scores`), so any criterion works with
 * any granularity, scope and schedule.
 *
 *   magnitude         |w|                                   Han et al. 2015
 *   gradient          mean over batches of |∂L/∂w|          the classic gradient-magnitude criterion
 *   gradient-squared  mean over batches of (∂L/∂w)²         (diagonal Fisher information)
 *   taylor            mean over batches of |w·∂L/∂w|        first-order Taylor, Molchanov et al. 2017/2019
 *   movement          −Σ_steps w·∂L/∂w                      Sanh et al. 2020 (weights moving away from 0)
 *   snip              |w · Σ_batches ∂L/∂w|                 connection sensitivity, Lee et al. 2019
 *   random            uniform noise                         a control
 *
 * NOTE: raw |∂L/∂w| is close to zero for converged weights, whatever their size; that is why the field
 * prefers |w·g| (Taylor/SNIP). It is offered because it is the textbook gradient criterion, and the
 * comparison tables show how it fares.
 */
export const CRITERIA = ['magnitude', 'gradient', 'gradient-squared', 'taylor', 'movement', 'snip', 'random'] as const;
export type CriterionName = (typeof CRITERIA)[number];

export function parseCriterion(name: string): CriterionName {
  if (!(CRITERIA as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown criterion '${name}' (expected one of ${CRITERIA.join(', ')})`);
  }
  return name as CriterionName;
}

/** Whether the criterion needs gradient statistics from data. */
export function needsGradients(criterion: CriterionName): boolean {
  return criterion !== 'magnitude' && criterion !== 'random';
}

/** Importance of every weight of `target` under `criterion`. */
export function importanceScores(criterion: CriterionName, target: PruneTarget, stats: GradientStats | null, rng: Rng): Float64Array {
  const w = target.weight.value.data;
  const n = w.length;
  const scores = new Float64Array(n);
  if (criterion === 'magnitude') {
    for (let i = 0; i < n; i++) scores[i] = Math.abs(w[i]!);
    return scores;
  }
  if (criterion === 'random') {
    for (let i = 0; i < n; i++) scores[i] = rng.uniform();
    return scores;
  }
  if (stats === null || stats.batches === 0) {
    throw new ConfigError(`criterion '${criterion}' needs gradient statistics (run a gradient pass over some batches first)`);
  }
  const p = target.weight;
  const batches = stats.batches;
  const read = (map: Map<typeof p, Float64Array>): Float64Array => {
    const a = map.get(p);
    if (a === undefined || a.length !== n) throw new ConfigError(`no gradient statistics for ${target.name}`);
    return a;
  };
  switch (criterion) {
    case 'gradient': {
      const a = read(stats.sumAbsGrad);
      for (let i = 0; i < n; i++) scores[i] = a[i]! / batches;
      break;
    }
    case 'gradient-squared': {
      const a = read(stats.sumSqGrad);
      for (let i = 0; i < n; i++) scores[i] = a[i]! / batches;
      break;
    }
    case 'taylor': {
      const a = read(stats.sumAbsWeightGrad);
      for (let i = 0; i < n; i++) scores[i] = a[i]! / batches;
      break;
    }
    case 'movement': {
      const a = read(stats.sumWeightGrad);
      for (let i = 0; i < n; i++) scores[i] = -a[i]!;
      break;
    }
    case 'snip': {
      const a = read(stats.sumGrad);
      for (let i = 0; i < n; i++) scores[i] = Math.abs(w[i]! * a[i]!) / batches;
      break;
    }
  }
  return scores;
}
