import { backward } from '../autograd/graph.ts';
import { crossEntropy } from '../autograd/ops/losses.ts';
import { constant } from '../autograd/var.ts';
import type { Dataset } from '../data/dataset.ts';
import { ConfigError } from '../errors.ts';
import type { Module } from '../nn/module.ts';
import type { Parameter } from '../nn/parameter.ts';
import type { TrainingHooks } from '../nn/train.ts';
import { Rng } from '../tensor/rng.ts';
import { formatShape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { PruneTarget } from './targets.ts';

/** Which running sum to read: |g|, g², g, w·g or |w·g| (see `GradientStats.sum`). */
export type GradientStatKind = 'absGrad' | 'sqGrad' | 'grad' | 'weightGrad' | 'absWeightGrad';

/**
 * Running sums of gradient statistics per weight, over mini-batches. Gradient-based importance criteria
 * read them: |g| and g² (the classic "gradient pruning" scores), |w·g| (first-order Taylor), Σ w·g
 * (movement), Σ g (SNIP's full-batch gradient). Gathered either by a dedicated pass over a few batches
 * without updating the weights, or during training by a hook.
 */
export class GradientStats {
  batches = 0;
  readonly sumAbsGrad = new Map<Parameter, Float64Array>();
  readonly sumSqGrad = new Map<Parameter, Float64Array>();
  readonly sumGrad = new Map<Parameter, Float64Array>();
  readonly sumWeightGrad = new Map<Parameter, Float64Array>();
  readonly sumAbsWeightGrad = new Map<Parameter, Float64Array>();

  constructor(readonly params: readonly Parameter[]) {
    for (const p of params) {
      for (const map of this.maps()) map.set(p, new Float64Array(p.value.size));
    }
  }

  private maps(): Map<Parameter, Float64Array>[] {
    return [this.sumAbsGrad, this.sumSqGrad, this.sumGrad, this.sumWeightGrad, this.sumAbsWeightGrad];
  }

  /** Adds the current gradients (one mini-batch) of every tracked parameter. */
  accumulate(): void {
    for (const p of this.params) {
      if (p.grad === null) continue;
      if (this.sumGrad.get(p)!.length !== p.value.size) {
        for (const map of this.maps()) map.set(p, new Float64Array(p.value.size)); // resized by neuron pruning
      }
      const g = p.grad.data;
      const w = p.value.data;
      const abs = this.sumAbsGrad.get(p)!;
      const sq = this.sumSqGrad.get(p)!;
      const sum = this.sumGrad.get(p)!;
      const wg = this.sumWeightGrad.get(p)!;
      const absWg = this.sumAbsWeightGrad.get(p)!;
      for (let i = 0; i < g.length; i++) {
        const gi = g[i]!;
        const wgi = w[i]! * gi;
        abs[i]! += Math.abs(gi);
        sq[i]! += gi * gi;
        sum[i]! += gi;
        wg[i]! += wgi;
        absWg[i]! += Math.abs(wgi);
      }
    }
    this.batches++;
  }

  /**
   * The running sum of one statistic for parameter `p` (one entry per weight): |g|, g², g, w·g or |w·g|
   * summed over `batches` mini-batches. Throws ConfigError if `p` is not tracked.
   */
  sum(kind: GradientStatKind, p: Parameter): Float64Array {
    const map = { absGrad: this.sumAbsGrad, sqGrad: this.sumSqGrad, grad: this.sumGrad, weightGrad: this.sumWeightGrad, absWeightGrad: this.sumAbsWeightGrad }[kind];
    const sums = map.get(p);
    if (sums === undefined || sums.length !== p.value.size) throw new ConfigError(`no gradient statistics for a parameter of shape ${formatShape(p.value.shape)}`);
    return sums;
  }

  /** Forgets everything accumulated so far. */
  reset(): void {
    this.batches = 0;
    for (const map of this.maps()) for (const a of map.values()) a.fill(0);
  }
}

/** Settings of `collectGradientStats`. */
export interface GradientPassOptions {
  /** Number of mini-batches to accumulate over (default 10). */
  batches?: number;
  /** Samples per mini-batch (default 128). */
  batchSize?: number;
  /** Seed of the batch sampling (default 0). */
  seed?: number;
}

/**
 * Computes gradients of the loss on `batches` random mini-batches of `data` and accumulates their
 * statistics, without changing the weights.
 */
export function collectGradientStats(model: Module, targets: readonly PruneTarget[], data: Dataset, options: GradientPassOptions = {}): GradientStats {
  const { batches = 10, batchSize = 128, seed = 0 } = options;
  if (!Number.isSafeInteger(batches) || batches <= 0) throw new ConfigError(`gradient batches must be a positive integer, got ${batches}`);
  const stats = new GradientStats(targets.map((t) => t.weight));
  const rng = new Rng(seed);
  const wasTraining = model.training;
  model.eval(); // scores should not depend on dropout noise
  const size = Math.min(batchSize, data.count);
  for (let b = 0; b < batches; b++) {
    const x = new Float32Array(size * data.features);
    const y = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const src = rng.int(data.count);
      x.set(data.x.subarray(src * data.features, (src + 1) * data.features), i * data.features);
      y[i] = data.y[src]!;
    }
    model.zeroGrad();
    backward(crossEntropy(model.forward(constant(new Tensor(x, [size, data.features]))), y));
    stats.accumulate();
  }
  model.zeroGrad();
  model.train(wasTraining);
  return stats;
}

/** A training hook that accumulates gradient statistics at every step (before the optimizer masks them). */
export function gradientStatsHook(stats: GradientStats): TrainingHooks {
  return { afterBackward: () => stats.accumulate() };
}
