import type { DistillationOptions } from '../nn/distillation.ts';
import type { OptimizerName } from '../nn/optim/make.ts';
import type { CriterionName } from './criteria.ts';
import type { Granularity } from './granularity.ts';
import type { OptionValue } from './method.ts';
import type { Scope } from './select.ts';

/** Learning-rate schedules a pruning run accepts (see `PruneConfig.lrSchedule`). */
export const LR_SCHEDULES = ['constant', 'cosine', 'hold-cosine'] as const;
/** One of `LR_SCHEDULES`. */
export type LrScheduleName = (typeof LR_SCHEDULES)[number];

/** The names of the built-in methods (users may register more; see `pruningMethods()`). */
export type BuiltinMethodName = 'oneshot' | 'iterative' | 'gradual' | 'snip' | 'threshold' | 'threshold-dynamic' | 'topk' | 'l1' | 'dns' | 'dns-scheduled' | 'rigl';
/** A method name: a built-in one, or one a user registered. */
export type MethodName = BuiltinMethodName | (string & {});

/**
 * One pruning run: the settings every method shares, plus the chosen method's own `options`
 * (e.g. `{ rounds: 3 }` for iterative, `{ threshold: 1.5 }` for threshold, `{ lambda: 1e-4 }` for l1; see each method's option specs
 * or `sparsegrad prune --help`).
 */
export interface PruneConfig {
  /** A registered method's name. */
  method: MethodName;
  /** A registered criterion's name, for methods that use one (default 'magnitude'). */
  criterion?: CriterionName;
  /** Target fraction of pruned weights, in [0, 1) (ignored by methods whose sparsity is an outcome, fixed by N:M). */
  sparsity: number;
  scope: Scope;
  granularity: Granularity;
  /** Layers to leave dense ("layers.4" or "layers.4.weight"). */
  exclude?: readonly string[];
  /**
   * Per-layer final sparsities by parameter name; those layers are pruned on their own, along the method's
   * schedule (gradual, iterative). Refused with N:M and neuron granularity and by methods whose sparsity is
   * an outcome.
   */
  overrides?: Readonly<Record<string, number>>;
  /** Training epochs during or after pruning (the epoch budget every method gets). */
  epochs: number;
  batchSize: number;
  lr: number;
  /** Default 'adam'. */
  optimizer?: OptimizerName;
  /**
   * Learning-rate schedule over the pruning run (default constant). 'cosine' anneals over each training
   * phase; 'hold-cosine' holds the rate while a method still changes masks, then anneals (for methods that
   * do not say how long that is, it equals 'cosine').
   */
  lrSchedule?: LrScheduleName;
  seed: number;
  /** Mini-batches for gradient-based scores (default 10). */
  gradientBatches?: number;
  /** Retrain with knowledge distillation from the unpruned model as teacher (Hinton et al. 2015). */
  distill?: DistillationOptions;
  /** Neuron granularity: rebuild the model with the pruned neurons removed (default true). */
  shrink?: boolean;
  /** The chosen method's own options; validated against its specs, defaults filled in. */
  options?: Readonly<Record<string, OptionValue>>;
}

/** The keys of `PruneConfig` (a method option may not reuse one; unknown keys are refused). */
export const PRUNE_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'method', 'criterion', 'sparsity', 'scope', 'granularity', 'exclude', 'overrides', 'epochs', 'batchSize', 'lr', 'optimizer',
  'lrSchedule', 'seed', 'gradientBatches', 'distill', 'shrink', 'options',
] satisfies (keyof PruneConfig)[]);
