import { backward } from '../autograd/graph.ts';
import { crossEntropy } from '../autograd/ops/losses.ts';
import { constant } from '../autograd/var.ts';
import type { Dataset } from '../data/dataset.ts';
import { ConfigError, NonFiniteError } from '../errors.ts';
import type { Module } from '../nn/module.ts';
import type { Parameter } from '../nn/parameter.ts';
import type { TrainingHooks } from '../nn/train.ts';
import { Rng } from '../tensor/rng.ts';
import { formatShape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { PruneTarget } from './targets.ts';

/** Which running sum to read: |g|, g², g, w·g or |w·g| (see `GradientStats.sum`). */
export type GradientStatKind = 'absGrad' | 'sqGrad' | 'grad' | 'weightGrad' | 'absWeightGrad';

/** Options of `GradientStats.accumulate`. */
export interface AccumulateOptions {
  /**
   * The weight values to multiply the gradients with, by parameter (default: the parameter's own values).
   * Movement pruning passes the dense weights W of a masked layer, whose pruned entries the model sees as 0.
   */
  readonly weights?: ReadonlyMap<Parameter, ArrayLike<number>>;
}

/**
 * Running sums of gradient statistics per weight, over mini-batches. Gradient-based importance criteria
 * read them: |g| and g² (the classic "gradient pruning" scores), |w·g| (first-order Taylor), Σ w·g
 * (movement, signed Taylor), Σ g (SNIP's full-batch gradient); and per output neuron the squared group
 * sum (Σ_j w_ij·g_ij + b_i·g_bi)² of Molchanov et al. (2019). Gathered either by a dedicated pass over a
 * few batches without updating the weights, or during training by a hook. Every gradient is checked to
 * be finite (NonFiniteError naming the layer and index).
 */
export class GradientStats {
  batches = 0;
  readonly sumAbsGrad = new Map<Parameter, Float64Array>();
  readonly sumSqGrad = new Map<Parameter, Float64Array>();
  readonly sumGrad = new Map<Parameter, Float64Array>();
  readonly sumWeightGrad = new Map<Parameter, Float64Array>();
  readonly sumAbsWeightGrad = new Map<Parameter, Float64Array>();
  /** Per output neuron (row): Σ over batches of (Σ_j w_ij·g_ij + b_i·g_bi)². */
  readonly sumSqNeuronWeightGrad = new Map<Parameter, Float64Array>();
  private readonly names = new Map<Parameter, string>();
  private readonly biases = new Map<Parameter, Parameter>();

  /**
   * Tracks `params` (weight matrices [rows, cols]). `options.biases` gives a weight's bias, which the neuron
   * statistic includes; `options.names` names parameters in error messages.
   */
  constructor(
    readonly params: readonly Parameter[],
    options: { biases?: ReadonlyMap<Parameter, Parameter | null>; names?: ReadonlyMap<Parameter, string> } = {},
  ) {
    for (const p of params) {
      this.allocate(p);
      const bias = options.biases?.get(p);
      if (bias !== undefined && bias !== null) this.biases.set(p, bias);
      this.names.set(p, options.names?.get(p) ?? `a parameter of shape ${formatShape(p.value.shape)}`);
    }
  }

  /** Statistics for the weights of `targets`, with their biases (for neuron scores) and names. */
  static forTargets(targets: readonly PruneTarget[]): GradientStats {
    return new GradientStats(targets.map((t) => t.weight), {
      biases: new Map(targets.map((t) => [t.weight, t.layer.bias] as const)),
      names: new Map(targets.map((t) => [t.weight, t.name] as const)),
    });
  }

  private perWeightMaps(): Map<Parameter, Float64Array>[] {
    return [this.sumAbsGrad, this.sumSqGrad, this.sumGrad, this.sumWeightGrad, this.sumAbsWeightGrad];
  }

  private allocate(p: Parameter): void {
    for (const map of this.perWeightMaps()) map.set(p, new Float64Array(p.value.size));
    this.sumSqNeuronWeightGrad.set(p, new Float64Array(rowsOf(p)));
  }

  /** Adds the current gradients (one mini-batch) of every tracked parameter. Throws NonFiniteError for a NaN or infinite gradient. */
  accumulate(options: AccumulateOptions = {}): void {
    for (const p of this.params) {
      if (p.grad === null) continue;
      if (this.sumGrad.get(p)!.length !== p.value.size) this.allocate(p); // resized by neuron pruning
      const g = p.grad.data;
      const w = options.weights?.get(p) ?? p.value.data;
      const abs = this.sumAbsGrad.get(p)!;
      const sq = this.sumSqGrad.get(p)!;
      const sum = this.sumGrad.get(p)!;
      const wg = this.sumWeightGrad.get(p)!;
      const absWg = this.sumAbsWeightGrad.get(p)!;
      const neuron = this.sumSqNeuronWeightGrad.get(p)!;
      const bias = this.biases.get(p);
      const rows = neuron.length;
      const cols = rows === 0 ? 0 : g.length / rows;
      for (let r = 0; r < rows; r++) {
        // The neuron's group sum starts with its bias term (Molchanov et al. 2019 include the bias).
        let group = bias === undefined || bias.grad === null ? 0 : bias.value.data[r]! * bias.grad.data[r]!;
        for (let i = r * cols; i < (r + 1) * cols; i++) {
          const gi = g[i]!;
          if (!Number.isFinite(gi)) throw new NonFiniteError(`gradient statistics: the gradient of ${this.names.get(p)} is ${gi} at index ${i}`);
          const wgi = w[i]! * gi;
          abs[i]! += Math.abs(gi);
          sq[i]! += gi * gi;
          sum[i]! += gi;
          wg[i]! += wgi;
          absWg[i]! += Math.abs(wgi);
          group += wgi;
        }
        neuron[r]! += group * group;
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
    if (sums === undefined || sums.length !== p.value.size) throw new ConfigError(`no gradient statistics for ${this.names.get(p) ?? `a parameter of shape ${formatShape(p.value.shape)}`}`);
    return sums;
  }

  /**
   * Per output neuron (row) of weight `p`: Σ over batches of (Σ_j w_ij·g_ij + b_i·∂L/∂b_i)², the group Taylor
   * statistic of Molchanov et al. (2019). Throws ConfigError if `p` is not tracked.
   */
  neuronSum(p: Parameter): Float64Array {
    const sums = this.sumSqNeuronWeightGrad.get(p);
    if (sums === undefined || sums.length !== rowsOf(p)) throw new ConfigError(`no neuron statistics for ${this.names.get(p) ?? `a parameter of shape ${formatShape(p.value.shape)}`}`);
    return sums;
  }

  /** Forgets everything accumulated so far. */
  reset(): void {
    this.batches = 0;
    for (const map of [...this.perWeightMaps(), this.sumSqNeuronWeightGrad]) for (const a of map.values()) a.fill(0);
  }
}

/** Output neurons of a weight matrix [rows, cols] (a vector counts as one row per entry). */
function rowsOf(p: Parameter): number {
  return p.value.rank === 0 ? 1 : p.value.shape[0]!;
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
 * statistics, without changing the weights. Throws ConfigError for a bad batch count, NonFiniteError for
 * a non-finite loss or gradient.
 */
export function collectGradientStats(model: Module, targets: readonly PruneTarget[], data: Dataset, options: GradientPassOptions = {}): GradientStats {
  const { batches = 10, batchSize = 128, seed = 0 } = options;
  if (!Number.isSafeInteger(batches) || batches <= 0) throw new ConfigError(`gradient batches must be a positive integer, got ${batches}`);
  const stats = GradientStats.forTargets(targets);
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
    const loss = crossEntropy(model.forward(constant(new Tensor(x, [size, data.features]))), y);
    const value = loss.value.item();
    if (!Number.isFinite(value)) throw new NonFiniteError(`gradient pass: the loss is ${value} on mini-batch ${b + 1} of ${batches} (are the weights finite?)`);
    backward(loss);
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
