import { ConfigError } from '../errors.ts';
import type { Rng } from '../tensor/rng.ts';
import { assertFiniteScores } from './finite.ts';
import type { GradientStats } from './gradient-stats.ts';
import type { Granularity } from './granularity.ts';
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
 *                     (a neuron: of (Σ_row w·∂L/∂w + b·∂L/∂b)²)
 *   taylor-signed     mean over batches of −w·∂L/∂w         signed first-order Taylor (weights held fixed)
 *   movement          −Σ over training steps of w·∂L/∂w     Sanh et al. 2020 (weights moving away from 0)
 *   snip              |w · Σ_batches ∂L/∂w|                 connection sensitivity, Lee et al. 2019
 *   random            uniform noise                         a control
 *
 * NOTE: raw |∂L/∂w| is close to zero for converged weights, whatever their size; that is why the field
 * prefers |w·g| (Taylor/SNIP). It is offered because it is the textbook gradient criterion, and the
 * comparison tables show how it fares.
 *
 * Criteria live in a registry: the built-ins below, plus any a user adds with `registerCriterion`; every
 * pruning method, the CLI and the comparison grid look criteria up there by name.
 */

/** What a score function may read besides the weights: gradient statistics (if it needs them), a seeded stream, the unit. */
export interface ScoreInputs {
  /** Gradient statistics over some mini-batches; null for criteria that do not need them. */
  readonly stats: GradientStats | null;
  /** The run's stream for score draws (the `random` criterion); same seed, same scores. */
  readonly rng: Rng;
  /**
   * The unit being pruned. Selection scores a unit by the mean of its weights' scores; a criterion with a
   * score of its own for whole neurons gives every weight of a row that neuron's score (Taylor does).
   */
  readonly granularity: Granularity;
}

/** Scores every weight of `target` (a Float64Array of `target.weight.value.size`, row-major like the weight). */
export type ScoreFn = (target: PruneTarget, inputs: ScoreInputs) => Float64Array;

/** One importance criterion: a name, what it computes, and its score function. */
export interface Criterion {
  /** Registry name, e.g. 'taylor' (the CLI's `--criterion`). */
  readonly name: string;
  /** One line: the formula and, where there is one, the paper. */
  readonly summary: string;
  /** Whether `score` reads gradient statistics (then a run gathers them before scoring). */
  readonly needsGradients: boolean;
  /**
   * Gradual pruning keeps accumulating this criterion's statistics over the whole run instead of starting
   * afresh after each mask update (movement: S = −Σ_t w·∂L/∂w over all steps so far). Default false.
   */
  readonly cumulative?: boolean;
  /**
   * Its statistics only mean something over training steps that move the weights (movement): a gradient
   * pass then fine-tunes for its mini-batches and keeps the steps (`PruningContext.warmUp`), iterative
   * pruning also accumulates over each round's retraining, and gradual pruning scores pruned weights too
   * (straight through) and lets them return. Default false.
   */
  readonly fromTraining?: boolean;
  readonly score: ScoreFn;
}

/** The names of the built-in criteria, in the order help texts list them. */
export const CRITERIA = ['magnitude', 'gradient', 'gradient-squared', 'taylor', 'taylor-signed', 'movement', 'snip', 'random'] as const;
/** One of `CRITERIA`. */
export type BuiltinCriterionName = (typeof CRITERIA)[number];
/** A criterion name: a built-in one, or one a user registered. */
export type CriterionName = BuiltinCriterionName | (string & {});

/** Mean over batches of one of the running sums. */
function meanOf(kind: 'absGrad' | 'sqGrad' | 'absWeightGrad'): ScoreFn {
  return (target, { stats }) => {
    const sum = stats!.sum(kind, target.weight);
    return Float64Array.from(sum, (v) => v / stats!.batches);
  };
}

/**
 * Molchanov et al. (2019): a neuron's importance is the squared first-order change of the loss when its whole
 * group — the row of weights and the bias — is removed, (Σ_s g_s·w_s)², averaged over mini-batches. (For a
 * ReLU neuron the group sum is Σ over the batch of activation × ∂L/∂activation, Molchanov et al. 2017's
 * criterion.) Every weight of the row gets the neuron's score, so the row's mean is that score.
 */
function neuronTaylor(target: PruneTarget, stats: GradientStats): Float64Array {
  const perNeuron = stats.neuronSum(target.weight);
  const scores = new Float64Array(target.weight.value.size);
  const cols = perNeuron.length === 0 ? 0 : scores.length / perNeuron.length;
  perNeuron.forEach((sum, r) => scores.fill(sum / stats.batches, r * cols, (r + 1) * cols));
  return scores;
}

/** The built-in criteria, one score function each. */
export const BUILTIN_CRITERIA: Readonly<Record<BuiltinCriterionName, Criterion>> = {
  magnitude: {
    name: 'magnitude', summary: '|w| (Han et al. 2015)', needsGradients: false,
    score: (target) => Float64Array.from(target.weight.value.data, Math.abs),
  },
  gradient: { name: 'gradient', summary: 'mean over batches of |∂L/∂w|', needsGradients: true, score: meanOf('absGrad') },
  'gradient-squared': { name: 'gradient-squared', summary: 'mean over batches of (∂L/∂w)², the diagonal Fisher', needsGradients: true, score: meanOf('sqGrad') },
  taylor: {
    name: 'taylor', summary: 'mean over batches of |w·∂L/∂w|; a neuron: of (Σ_row w·∂L/∂w + b·∂L/∂b)² (Molchanov et al. 2017/2019)', needsGradients: true,
    score: (target, inputs) => (inputs.granularity.kind === 'neuron' ? neuronTaylor(target, inputs.stats!) : meanOf('absWeightGrad')(target, inputs)),
  },
  'taylor-signed': {
    name: 'taylor-signed', summary: 'mean over batches of −w·∂L/∂w with the weights held fixed: the signed first-order estimate of the loss increase if w is removed', needsGradients: true,
    score: (target, { stats }) => Float64Array.from(stats!.sum('weightGrad', target.weight), (v) => -v / stats!.batches),
  },
  movement: {
    name: 'movement', summary: '−Σ over training steps of w·∂L/∂w (Sanh et al. 2020), accumulated while the weights train', needsGradients: true, cumulative: true, fromTraining: true,
    score: (target, { stats }) => Float64Array.from(stats!.sum('weightGrad', target.weight), (v) => -v),
  },
  snip: {
    name: 'snip', summary: '|w·Σ ∂L/∂w|, connection sensitivity (Lee et al. 2019)', needsGradients: true,
    score: (target, { stats }) => {
      const w = target.weight.value.data;
      const g = stats!.sum('grad', target.weight);
      return Float64Array.from(g, (gi, i) => Math.abs(w[i]! * gi) / stats!.batches);
    },
  },
  random: {
    name: 'random', summary: 'seeded uniform noise (a control)', needsGradients: false,
    score: (target, { rng }) => {
      const scores = new Float64Array(target.weight.value.size);
      for (let i = 0; i < scores.length; i++) scores[i] = rng.uniform();
      return scores;
    },
  },
};

const registry = new Map<string, Criterion>(Object.values(BUILTIN_CRITERIA).map((c) => [c.name, c]));

/**
 * Adds a criterion that every method, the CLI and comparisons can then use by name. Throws ConfigError if
 * the name is taken or malformed, or the criterion is incomplete.
 *
 * @example
 * ```ts
 * import { collectGradientStats, findTargets, mlp, pruneTargets, registerCriterion, Rng, targetsSparsity } from 'sparsegrad';
 * import { loadDigits } from 'sparsegrad/node';
 *
 * // |w| times the mean |∂L/∂w| over the gradient batches (usable by name in runPruning and the CLI too).
 * registerCriterion({
 *   name: 'abs-grad-times-w', summary: '|w|·mean|g|', needsGradients: true,
 *   score: (t, { stats }) => {
 *     const w = t.weight.value.data;
 *     return Float64Array.from(stats!.sum('absGrad', t.weight), (g, i) => (Math.abs(w[i]!) * g) / stats!.batches);
 *   },
 * });
 * const model = mlp([784, 100, 10], { seed: 0 });
 * const targets = findTargets(model);
 * const stats = collectGradientStats(model, targets, loadDigits().train, { batches: 4 });
 * pruneTargets(targets, 0.9, { criterion: 'abs-grad-times-w', scope: 'global', granularity: { kind: 'weight' }, stats, rng: new Rng(0) });
 * console.log(targetsSparsity(targets)); // 0.9
 * ```
 */
export function registerCriterion(criterion: Criterion): void {
  const { name } = criterion;
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(name)) throw new ConfigError(`criterion name must be lower-case letters, digits and dashes, got '${String(name)}'`);
  if (registry.has(name)) throw new ConfigError(`a criterion named '${name}' is already registered`);
  if (typeof criterion.score !== 'function') throw new ConfigError(`criterion '${name}' needs a score function`);
  if (typeof criterion.needsGradients !== 'boolean') throw new ConfigError(`criterion '${name}' must say whether it needs gradient statistics (needsGradients: true or false)`);
  registry.set(name, criterion);
}

/** Every registered criterion: the built-ins first, then user criteria in registration order. */
export function criteria(): Criterion[] {
  return [...registry.values()];
}

/** The criterion registered under `name`. Throws ConfigError listing the registered names. */
export function criterionByName(name: string): Criterion {
  const found = registry.get(name);
  if (found === undefined) throw new ConfigError(`unknown criterion '${name}' (expected one of ${[...registry.keys()].join(', ')})`);
  return found;
}

/** Checks that `name` is a registered criterion and returns it (ConfigError otherwise). */
export function parseCriterion(name: string): CriterionName {
  return criterionByName(name).name;
}

/** Whether the criterion needs gradient statistics from data. */
export function needsGradients(criterion: CriterionName): boolean {
  return criterionByName(criterion).needsGradients;
}

/**
 * Importance of every weight of `target` under `criterion`, for pruning units of `granularity` (default
 * single weights). Throws ConfigError if a gradient criterion
 * gets no statistics, or a score function returns the wrong number of scores; NonFiniteError (naming the
 * layer and index) if a score is NaN or infinite.
 */
export function importanceScores(criterion: CriterionName, target: PruneTarget, stats: GradientStats | null, rng: Rng, granularity: Granularity = { kind: 'weight' }): Float64Array {
  const c = criterionByName(criterion);
  if (c.needsGradients && (stats === null || stats.batches === 0)) {
    throw new ConfigError(`criterion '${c.name}' needs gradient statistics (run a gradient pass over some batches first)`);
  }
  const scores = c.score(target, { stats: c.needsGradients ? stats : null, rng, granularity });
  if (!(scores instanceof Float64Array) || scores.length !== target.weight.value.size) {
    throw new ConfigError(`criterion '${c.name}' returned ${scores instanceof Float64Array ? scores.length : 'no Float64Array of'} scores for ${target.name}, which has ${target.weight.value.size} weights`);
  }
  assertFiniteScores(scores, `criterion '${c.name}' scored ${target.name}`);
  return scores;
}
