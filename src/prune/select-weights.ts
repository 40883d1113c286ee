import { ConfigError } from '../errors.ts';
import { assertFiniteScores } from './finite.ts';
import { kthSmallest } from './quickselect.ts';
import { checkSparsity } from './targets.ts';

/*
 * Weight-level selection rules for methods that recompute their masks while training: sparse
 * optimization (a threshold or a top-k budget after every step) and dynamic sparse training (drop and
 * grow, prune and splice). Like `computeMasks` they only decide — each returns a mask (1 = keep) and the
 * caller installs it with `Parameter.setMask` — but unlike it they do not rank already-pruned weights
 * last, because these methods let pruned weights come back on purpose. Ties break by position (the
 * earlier weight is pruned first), so the result is deterministic.
 */

/**
 * Keeps the weights whose score is at least `threshold` and prunes those below it; with `pruneAtThreshold`
 * a score equal to the threshold is pruned too (soft thresholding prunes |w| ≤ λ). O(n).
 */
export function maskByThreshold(scores: ArrayLike<number>, threshold: number, options: { pruneAtThreshold?: boolean } = {}): Uint8Array {
  if (Number.isNaN(threshold)) throw new ConfigError('maskByThreshold: the threshold is NaN');
  const mask = new Uint8Array(scores.length);
  const atToo = options.pruneAtThreshold === true;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    mask[i] = s < threshold || (atToo && s === threshold) ? 0 : 1;
  }
  return mask;
}

/**
 * Keeps the highest scores of a group of score arrays ranked together (one per layer; pass one array
 * for per-layer selection), pruning exactly round(sparsity · n) of the n weights: everything below the
 * k-th smallest score, then ties at it in order of position. Expected O(n) by quickselect, so it can run
 * after every optimizer step (iterative hard thresholding). Returns one mask per score array. Throws
 * NonFiniteError for a NaN or infinite score.
 */
export function maskTopK(group: readonly ArrayLike<number>[], sparsity: number): Uint8Array[] {
  checkSparsity(sparsity);
  let n = 0;
  for (const [g, scores] of group.entries()) {
    assertFiniteScores(scores, `maskTopK: scores of array ${g}`);
    n += scores.length;
  }
  const masks = group.map((scores) => new Uint8Array(scores.length).fill(1));
  const prune = Math.round(sparsity * n);
  if (prune === 0) return masks;
  const all = new Float64Array(n);
  let k = 0;
  for (const scores of group) for (let i = 0; i < scores.length; i++) all[k++] = scores[i]!;
  const threshold = kthSmallest(all, prune - 1);
  let below = 0;
  for (const scores of group) for (let i = 0; i < scores.length; i++) if (scores[i]! < threshold) below++;
  let tiesToPrune = prune - below;
  group.forEach((scores, g) => {
    const mask = masks[g]!;
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i]!;
      if (s < threshold) mask[i] = 0;
      else if (s === threshold && tiesToPrune > 0) {
        mask[i] = 0;
        tiesToPrune--;
      }
    }
  });
  return masks;
}

/**
 * Hysteresis (Dynamic Network Surgery's two thresholds): scores below `low` are pruned, above `high` kept,
 * and those in between keep their state in `previous`. Returns a new mask.
 */
export function maskWithHysteresis(previous: Uint8Array, scores: ArrayLike<number>, low: number, high: number): Uint8Array {
  if (!(low <= high)) throw new ConfigError(`maskWithHysteresis: low ${low} must not exceed high ${high}`);
  const mask = Uint8Array.from(previous);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (s < low) mask[i] = 0;
    else if (s > high) mask[i] = 1;
  }
  return mask;
}

/**
 * Drop and grow at a fixed weight count (RigL, Evci et al. 2020, Algorithm 1): of the k = floor(fraction ·
 * kept) kept weights with the lowest `dropScores` are pruned, then the k with the highest `growScores` among
 * all weights inactive *after* that drop are kept — so a weight just dropped can be regrown in the same
 * update (its value stays, as in the official code). Returns the new mask, or null when k is 0. Throws
 * NonFiniteError for a NaN or infinite score.
 */
export function exchangeWeights(mask: Uint8Array, dropScores: ArrayLike<number>, growScores: ArrayLike<number>, fraction: number): Uint8Array | null {
  checkSparsity(fraction, 'exchange fraction');
  assertFiniteScores(dropScores, 'exchangeWeights: drop score');
  assertFiniteScores(growScores, 'exchangeWeights: grow score');
  const active: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] === 1) active.push(i);
  const k = Math.floor(fraction * active.length);
  if (k === 0) return null;
  active.sort((a, b) => dropScores[a]! - dropScores[b]! || a - b);
  const next = Uint8Array.from(mask);
  for (let j = 0; j < k; j++) next[active[j]!] = 0;
  const candidates: number[] = [];
  for (let i = 0; i < next.length; i++) if (next[i] === 0) candidates.push(i);
  candidates.sort((a, b) => growScores[b]! - growScores[a]! || a - b);
  for (let j = 0; j < k; j++) next[candidates[j]!] = 1;
  return next;
}
