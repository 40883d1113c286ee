import type { Parameter } from '../nn/parameter.ts';
import type { Sequential } from '../nn/sequential.ts';
import type { TrainingHooks } from '../nn/train.ts';
import type { Rng } from '../tensor/rng.ts';
import type { Criterion } from './criteria.ts';
import type { GradientStats } from './gradient-stats.ts';
import type { OptionSpecs } from './options.ts';
import type { PruneConfig } from './config.ts';
import type { MaskPlan } from './select.ts';
import type { PruneTarget } from './targets.ts';

/*
 * The one extension point for pruning methods, in the spirit of PyTorch's `BasePruningMethod` and this
 * library's own `Optimizer`: a method is a plain object that declares what it is (name, paper, options
 * with defaults and ranges) and implements one `run` against a small `PruningContext`. `runPruning` does
 * the rest the same way for every method: it validates the common settings and the method's options,
 * builds the context, calls `run`, and collects the result. Methods never zero weights to prune them:
 * they decide through the selection rules (`ctx.select`, `select-weights.ts`) and install masks.
 */

/** The value of one method option. */
export type OptionValue = number | boolean | string;

/** A method's options after validation: every option with a default is filled in. */
export type MethodOptions = Readonly<Record<string, OptionValue | undefined>>;

/** A pruning or sparse-training method. Register it with `registerPruningMethod` to use it by name. */
export interface PruningMethod<O extends object = MethodOptions> {
  /** Registry name, e.g. 'gradual' (the CLI's `--method`). Lower-case letters, digits and dashes. */
  readonly name: string;
  /** One line: what the method does. */
  readonly summary: string;
  /** The paper it implements (or '' for a method of one's own), e.g. 'Zhu & Gupta 2017'. */
  readonly paper: string;
  /** The method's own options with types, defaults, ranges and help; `{}` if it has none. */
  readonly options: OptionSpecs<O>;
  /** Whether it ranks weights with the configured criterion (otherwise it has its own rule). */
  readonly usesCriterion: boolean;
  /**
   * 'target' (default): the run reaches `config.sparsity`. 'outcome': the sparsity is whatever a
   * threshold makes of the weights, and `config.sparsity` is ignored.
   */
  readonly sparsity?: 'target' | 'outcome';
  /** Accepts neuron, N:M and block granularities (default false: weights only). */
  readonly structured?: boolean;
  /** The fewest training epochs it can run with (default 0; 1 for methods that prune while training). */
  readonly minEpochs?: number;
  /**
   * For a required option that callers may leave to a validation sweep (threshold, λ): the option and
   * the candidates `sweepPruning` and the CLI try when it is not given.
   */
  readonly sweep?: { readonly option: keyof O & string; readonly candidates: readonly number[] };
  /**
   * For 'outcome' methods: options that make a run aim at `sparsity` on `model` (comparison grids use it
   * to put the method on a sparsity axis). Without it such a method cannot be put on a grid.
   */
  calibrate?(model: Sequential, sparsity: number): Partial<O>;
  /** Checks that need the common settings too (e.g. no N:M with a gradual schedule); throw ConfigError. */
  validate?(config: PruneConfig, options: O): void;
  /** Prunes `ctx.model` (and trains it, if the method does). */
  run(ctx: PruningContext, options: O): void;
}

/**
 * Helps TypeScript infer a method's option type from its specs; returns `method` unchanged.
 * @example export const myMethod = definePruningMethod<{ rounds: number }>({ name: 'mine', ..., run(ctx, { rounds }) {} });
 */
export function definePruningMethod<O extends object>(method: PruningMethod<O>): PruningMethod<O> {
  return method;
}

/**
 * Seeded random streams, one per purpose, so that drawing more of one never shifts another: every
 * criterion sees the same training batch order, whatever it draws for its scores.
 */
export interface RandomStreams {
  /** Batch order of every training phase (one seed per `train` call). */
  readonly order: Rng;
  /** Score draws: the `random` criterion and the mini-batches of gradient passes. */
  readonly scores: Rng;
  /** The method's own draws (e.g. the coin flips of Dynamic Network Surgery). */
  readonly method: Rng;
}

/** Options of one `PruningContext.train` call. */
export interface TrainPhaseOptions {
  /**
   * Epochs at the start of the phase during which masks still change: the 'hold-cosine' learning-rate
   * schedule holds the full rate over them and anneals afterwards (default 0).
   */
  readonly maskEpochs?: number;
}

/** Options of scoring and pruning through the context. */
export interface ScoreOptions {
  /** A criterion other than the configured one (e.g. SNIP always uses 'snip'). */
  readonly criterion?: string;
  /**
   * Gradient statistics to score from (e.g. gathered by a training hook). When omitted, a criterion that
   * needs them gets a fresh gradient pass over `config.gradientBatches` mini-batches.
   */
  readonly stats?: GradientStats | null;
}

/** How one selection step departs from the run's settings (see `SelectOptions`). */
export interface SelectStepOptions {
  /**
   * Where a layer with a per-layer override is at this step, given its final sparsity (default: the override
   * itself). A method that reaches its sparsity in steps passes its schedule, so the layer follows the same
   * curve to its own target.
   */
  readonly overrideAt?: (finalSparsity: number) => number;
  /**
   * The masks to select from (default: the current masks): for methods that let pruned weights return, the
   * masks from before their run. Units pruned there stay pruned.
   */
  readonly previous?: ReadonlyMap<Parameter, Uint8Array | null>;
}

/** What `runPruning` gives a method: the model, its prunable weights, training, scoring and selection. */
export interface PruningContext {
  /** The run's common settings, with defaults filled in. */
  readonly config: Readonly<PruneConfig>;
  /** The model being pruned (a fresh initialisation after `reinitialize`). */
  readonly model: Sequential;
  /** Its prunable weights (refreshed after `reinitialize` and `shrink`). */
  readonly targets: readonly PruneTarget[];
  /** The sparsity to reach: `config.sparsity`, or the one an N:M granularity implies. */
  readonly sparsity: number;
  /** The configured criterion. */
  readonly criterion: Criterion;
  /** Optimizer steps per training epoch. */
  readonly batchesPerEpoch: number;
  readonly random: RandomStreams;
  /**
   * Trains `ctx.model` for `epochs` (nothing if 0) with the run's optimizer, learning rate, schedule and
   * loss (distillation included), a fresh optimizer per call; `hooks` see every step. Epoch statistics are
   * recorded under `phase`.
   */
  train(epochs: number, phase: string, hooks?: readonly TrainingHooks[], options?: TrainPhaseOptions): void;
  /**
   * A gradient pass for `criterion` (default: the configured one); null if it needs no gradients. For a
   * criterion whose statistics come from training (movement), the pass is a `warmUp`: the weights move.
   */
  gradientStats(criterion?: Criterion): GradientStats | null;
  /**
   * Fine-tunes for `config.gradientBatches` optimizer steps on as many random mini-batches and accumulates
   * `stats` over them; the steps are kept (phase 'score warm-up'). For criteria that only training steps can
   * give (movement). Its batches are drawn from the scores stream, so later phases keep their batch order.
   */
  warmUp(stats: GradientStats): void;
  /** Importance scores of every target under the configured criterion (or `options.criterion`). */
  scores(options?: ScoreOptions): Map<PruneTarget, Float64Array>;
  /**
   * New masks for `sparsity` from `scores`, by the run's scope, granularity and per-layer overrides
   * (`computeMasks`): the one place where this run decides which weights go. Installs nothing.
   */
  select(scores: ReadonlyMap<PruneTarget, Float64Array>, sparsity: number, options?: SelectStepOptions): MaskPlan;
  /**
   * Scores, selects for `sparsity` and installs the masks (masks only shrink). Returns the plan. A method
   * that prunes in steps passes `overrideAt` (see `SelectStepOptions`).
   */
  pruneTo(sparsity: number, options?: ScoreOptions & Pick<SelectStepOptions, 'overrideAt'>): MaskPlan;
  /** Replaces the model by a fresh initialisation (seeded by `config.seed`), as pruning at initialisation needs. */
  reinitialize(): void;
  /** With neuron granularity (and `config.shrink` not false): removes dead neurons; a no-op otherwise or when done. */
  shrink(): void;
  /** Fraction of the targets' weights that are zero now, or gone (neurons removed by `shrink`). */
  currentSparsity(): number;
  /** Records a human-readable note on what the method does. */
  note(text: string): void;
}
