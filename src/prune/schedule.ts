import { ConfigError } from '../errors.ts';
import { checkSparsity } from './targets.ts';

/*
 * Pruning schedules: how sparsity grows over training. A schedule answers two questions for an optimizer
 * step t: is the mask updated now, and to what sparsity.
 */

/** How sparsity grows over training, asked once per optimizer step (see `gradualSchedule`). */
export interface PruningSchedule {
  /** Target sparsity after step t (1-based). */
  sparsityAt(step: number): number;
  /** Whether masks are recomputed after step t. */
  isUpdateStep(step: number): boolean;
}

/** Settings of `gradualSchedule`; steps are 1-based optimizer steps. */
export interface GradualOptions {
  /** Sparsity at beginStep, in [0, 1) (default 0). */
  initialSparsity?: number;
  /** Sparsity reached at endStep, in [0, 1). */
  finalSparsity: number;
  /** First step at which pruning happens. */
  beginStep: number;
  /** Step at which the final sparsity is reached; training continues after it with fixed masks. */
  endStep: number;
  /** Steps between mask updates (Δt). */
  frequency: number;
}

/**
 * Zhu & Gupta (2017), "To prune, or not to prune": sparsity rises quickly at first and slowly near the end,
 *   s_t = s_f + (s_i − s_f)·(1 − (t − t₀)/(t_end − t₀))³,
 * with masks updated every Δt steps between t₀ and t_end. Pruning early, while the network can still
 * recover, is what makes it beat one-shot pruning at high sparsity.
 */
export function gradualSchedule(options: GradualOptions): PruningSchedule {
  const { initialSparsity = 0, finalSparsity, beginStep, endStep, frequency } = options;
  checkSparsity(initialSparsity, 'initial sparsity');
  checkSparsity(finalSparsity, 'final sparsity');
  if (!Number.isSafeInteger(beginStep) || beginStep < 1) throw new ConfigError(`gradual schedule: beginStep must be a positive integer, got ${beginStep}`);
  if (!Number.isSafeInteger(endStep) || endStep < beginStep) throw new ConfigError(`gradual schedule: endStep (${endStep}) must be an integer ≥ beginStep (${beginStep})`);
  if (!Number.isSafeInteger(frequency) || frequency < 1) throw new ConfigError(`gradual schedule: frequency must be a positive integer, got ${frequency}`);
  return {
    sparsityAt(step) {
      if (step < beginStep) return 0;
      if (step >= endStep || endStep === beginStep) return finalSparsity;
      const progress = (step - beginStep) / (endStep - beginStep);
      return finalSparsity + (initialSparsity - finalSparsity) * (1 - progress) ** 3;
    },
    isUpdateStep(step) {
      if (step < beginStep || step > endStep) return false;
      return (step - beginStep) % frequency === 0 || step === endStep;
    },
  };
}

/**
 * The sparsity after each round of iterative pruning: every round removes the same fraction of the
 * weights that remain, so R rounds reach `finalSparsity`: s_r = 1 − (1 − s_final)^(r/R).
 */
export function iterativeSparsities(finalSparsity: number, rounds: number): number[] {
  checkSparsity(finalSparsity, 'final sparsity');
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new ConfigError(`iterative pruning needs a positive integer number of rounds, got ${rounds}`);
  return Array.from({ length: rounds }, (_, r) => (r + 1 === rounds ? finalSparsity : 1 - (1 - finalSparsity) ** ((r + 1) / rounds)));
}
