import { ConfigError } from '../../errors.ts';
import type { TrainingHooks } from '../../nn/train.ts';
import { kthSmallest } from '../quickselect.ts';
import type { Scope } from '../select.ts';
import { checkSparsity, type PruneTarget } from '../targets.ts';

/*
 * Sparse optimization: training under a sparsity constraint by projecting the weights after every
 * optimizer step. None of these install masks while training — a zeroed weight may come back if its
 * gradient pushes it out again, which is what distinguishes them from pruning. When training ends, the
 * zero pattern is frozen into masks (see maskZeros).
 */

/**
 * Hard thresholding: |w| < τ → 0 after each step. τ is fixed, or a multiple q of the layer's weight
 * standard deviation (Han et al. 2015: "a quality parameter multiplied by the standard deviation").
 */
export function hardThresholdHook(targets: readonly PruneTarget[], threshold: { tau: number } | { stdMultiple: number }): TrainingHooks {
  const value = 'tau' in threshold ? threshold.tau : threshold.stdMultiple;
  if (!(value >= 0) || !Number.isFinite(value)) throw new ConfigError(`threshold must be a non-negative finite number, got ${value}`);
  return {
    afterStep() {
      for (const t of targets) {
        const w = t.weight.value.data;
        const tau = 'tau' in threshold ? threshold.tau : threshold.stdMultiple * standardDeviation(w);
        for (let i = 0; i < w.length; i++) if (Math.abs(w[i]!) < tau) w[i] = 0;
      }
    },
  };
}

function standardDeviation(w: ArrayLike<number>): number {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < w.length; i++) {
    sum += w[i]!;
    sumSq += w[i]! * w[i]!;
  }
  const mean = sum / w.length;
  return Math.sqrt(Math.max(sumSq / w.length - mean * mean, 0));
}

/**
 * Top-k projection (iterative hard thresholding, Blumensath & Davies 2009): after each step keep the k
 * largest |w| — per layer, or across all layers — and zero the rest, holding an exact L0 budget
 * k = round((1 − sparsity)·n). Selection is O(n) (quickselect), so it can run every step.
 */
export function topKProjectionHook(targets: readonly PruneTarget[], options: { sparsity: number; scope: Scope }): TrainingHooks {
  checkSparsity(options.sparsity);
  const groups = options.scope === 'global' ? [targets] : targets.map((t) => [t]);
  return {
    afterStep() {
      for (const group of groups) projectTopK(group, options.sparsity);
    },
  };
}

/** Zeroes all but the round((1−s)·n) largest magnitudes of the group (ties broken by position). */
export function projectTopK(group: readonly PruneTarget[], sparsity: number): void {
  let n = 0;
  for (const t of group) n += t.weight.value.size;
  const prune = Math.round(sparsity * n);
  if (prune === 0) return;
  const magnitudes = new Float64Array(n);
  let k = 0;
  for (const t of group) for (const v of t.weight.value.data) magnitudes[k++] = Math.abs(v);
  // Everything strictly below the prune-th smallest magnitude goes; ties at the threshold go in order.
  const threshold = kthSmallest(magnitudes, prune - 1);
  let below = 0;
  for (const t of group) for (const v of t.weight.value.data) if (Math.abs(v) < threshold) below++;
  let tiesToPrune = prune - below;
  for (const t of group) {
    const w = t.weight.value.data;
    for (let i = 0; i < w.length; i++) {
      const a = Math.abs(w[i]!);
      if (a < threshold) w[i] = 0;
      else if (a === threshold && tiesToPrune > 0) {
        w[i] = 0;
        tiesToPrune--;
      }
    }
  }
}

/**
 * L1 proximal step (soft thresholding, as in ISTA): after the gradient step, w ← sign(w)·max(|w| − lr·λ, 0).
 * This is the exact proximal operator of lr·λ·‖w‖₁, so small weights land exactly on zero.
 */
export function l1ProximalHook(targets: readonly PruneTarget[], lambda: number): TrainingHooks {
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new ConfigError(`L1 strength λ must be a non-negative finite number, got ${lambda}`);
  return {
    afterStep(ctx) {
      const shrink = ctx.optimizer.lr * lambda;
      for (const t of targets) {
        const w = t.weight.value.data;
        for (let i = 0; i < w.length; i++) {
          const v = w[i]!;
          w[i] = v > shrink ? v - shrink : v < -shrink ? v + shrink : 0;
        }
      }
    },
  };
}
