import type { Dataset } from '../data/dataset.ts';
import { ConfigError } from '../errors.ts';
import { cloneModel } from '../nn/clone.ts';
import type { Sequential } from '../nn/sequential.ts';
import { evaluate } from '../nn/train.ts';
import { Rng } from '../tensor/rng.ts';
import { Tensor } from '../tensor/tensor.ts';
import { checkSparsity, collectGradientStats, findTargets, needsGradients, pruneTargets, type CriterionName } from '../prune/index.ts';

/*
 * Per-layer sensitivity (Han, Pool, Tran & Dally 2015, "Learning both Weights and Connections for Efficient
 * Neural Networks", figure 5 and its discussion): prune one layer at a time, without retraining, and watch the
 * validation accuracy. A layer whose accuracy holds up to a high sparsity can be pruned hard; one whose
 * accuracy collapses early (conv1 in LeNet-5 and AlexNet) gets a low sparsity. `suggestLayerSparsities`
 * turns the curves into per-layer targets for `PruneConfig.overrides` / `prune --layer-sparsity`.
 */

/** One point of a sensitivity analysis: one layer pruned alone to `sparsity`, and the accuracy that remained. */
export interface SensitivityRow {
  readonly layer: string;
  readonly sparsity: number;
  readonly accuracy: number;
}

/** Options of `sensitivityAnalysis`. */
export interface SensitivityOptions {
  /** Sparsities to prune each layer to, each in [0, 1); at least one. */
  readonly sparsities: readonly number[];
  /** How to score weights (default 'magnitude'). */
  readonly criterion?: CriterionName;
  /** Training data for gradient-based criteria (required by them, ignored by the others). */
  readonly trainForScores?: Dataset;
  /** Mini-batches of `trainForScores` the gradient statistics average over (default 10). */
  readonly gradientBatches?: number;
  /** Seeds the gradient mini-batches and the random criterion (default 0). */
  readonly seed?: number;
  /** Called as each layer's rows are done (`index` of `count` layers), e.g. to show progress. */
  readonly onLayer?: (layer: string, rows: readonly SensitivityRow[], index: number, count: number) => void;
}

/**
 * Per-layer sensitivity analysis (Han et al. 2015, NNI's SensitivityAnalysis): prune one layer at a time
 * to each sparsity, without retraining, and record the accuracy on `validation`. Layers whose accuracy
 * collapses early deserve a lower sparsity. `validation` should be data the model never saw — its holdout
 * (`rebuildHoldout(train, readHoldoutRecord(training)!).validation`) or a separate set, never the test set
 * if the result will choose per-layer sparsities. Gradient-based criteria score on `trainForScores`, which
 * must then be given (the training data: scoring on the validation data would let it choose the weights);
 * their statistics are collected once per layer. Rows come layer by layer (in model order), sparsities in
 * the order given. The model is not changed. Throws ConfigError when a gradient criterion has no
 * `trainForScores`, or for no sparsities or one outside [0, 1).
 */
export function sensitivityAnalysis(model: Sequential, validation: Dataset, options: SensitivityOptions): SensitivityRow[] {
  const criterion = options.criterion ?? 'magnitude';
  const seed = options.seed ?? 0;
  if (options.sparsities.length === 0) throw new ConfigError('sensitivityAnalysis: give at least one sparsity');
  for (const s of options.sparsities) checkSparsity(s, 'sensitivityAnalysis: every sparsity');
  if (needsGradients(criterion) && options.trainForScores === undefined) {
    throw new ConfigError(`sensitivityAnalysis: the '${criterion}' criterion scores weights by gradients; pass the training data as trainForScores`);
  }
  const rows: SensitivityRow[] = [];
  const targets = findTargets(model);
  targets.forEach((target, index) => {
    // One working copy per layer; only this layer's weight and mask change, and are put back after each point.
    const copy = cloneModel(model);
    const copyTarget = findTargets(copy).find((t) => t.name === target.name)!;
    const weight = copyTarget.weight;
    const original = { data: Float32Array.from(weight.value.data), mask: weight.mask === null ? null : Uint8Array.from(weight.mask) };
    const stats = needsGradients(criterion)
      ? collectGradientStats(copy, [copyTarget], options.trainForScores!, { seed, ...(options.gradientBatches === undefined ? {} : { batches: options.gradientBatches }) })
      : null;
    const layerRows: SensitivityRow[] = [];
    for (const sparsity of options.sparsities) {
      weight.value = new Tensor(Float32Array.from(original.data), weight.value.shape);
      weight.mask = original.mask === null ? null : Uint8Array.from(original.mask);
      pruneTargets([copyTarget], sparsity, { criterion, scope: 'layer', granularity: { kind: 'weight' }, stats, rng: new Rng(seed) });
      layerRows.push({ layer: target.name, sparsity, accuracy: evaluate(copy, validation).accuracy });
    }
    rows.push(...layerRows);
    options.onLayer?.(target.name, layerRows, index, targets.length);
  });
  return rows;
}

/** A layer's suggested sparsity (see `suggestLayerSparsities`). */
export interface LayerSparsitySuggestion {
  /** The parameter name of the rows, e.g. 'layers.1.weight'. */
  readonly layer: string;
  /** The highest sparsity whose accuracy stayed within the tolerance; 0 if none did. */
  readonly sparsity: number;
  /** The validation accuracy measured at that sparsity; null if no row stayed within the tolerance. */
  readonly accuracy: number | null;
}

/**
 * Slack on the tolerance comparison: accuracies are ratios of counts, and `baseline − tolerance` computed in
 * floating point can land a hair above a drop of exactly `tolerance` (0.8 − 0.1 = 0.7000000000000001).
 */
const ROUNDING_SLACK = 1e-9;

/**
 * Per-layer sparsity targets from a sensitivity analysis. Han et al. 2015 read each layer's pruning
 * threshold off its sensitivity curve by hand (the most sensitive layer, conv1, gets the least pruning); this
 * is the same reading as a rule, the one NNI's SensitivityPruner uses (`_max_prune_ratio`): each layer goes
 * as far as it can alone while the validation accuracy stays within `tolerance` of the dense model's
 * (`baseline`). For each layer of `rows` (in order of first appearance; rows need not be sorted) it returns
 * the highest sparsity whose accuracy is ≥ baseline − tolerance (a drop of exactly `tolerance` counts as
 * within it), or 0 with accuracy null if no row is. Rows at the same sparsity (repeats) report the best of
 * their accuracies. The curve is taken as measured, not made monotone: unlike NNI, which stops at the first
 * sparsity that fails, a noisy dip at a lower sparsity does not veto a higher one that passed. Each layer is judged
 * alone, so pruning all layers to their suggestions at once costs more than any one curve shows: the targets
 * are starting points for pruning with retraining (`prune --layer-sparsity`), not a promise of accuracy.
 * `baseline` and `tolerance` are fractions (0.01 = one point). Throws ConfigError for a baseline outside
 * [0, 1], a tolerance outside [0, 1), or a row with a sparsity outside [0, 1) or an accuracy outside [0, 1].
 *
 * @example
 * const rows = sensitivityAnalysis(model, validation, { sparsities: [0.5, 0.8, 0.9, 0.95] });
 * const targets = suggestLayerSparsities(rows, evaluate(model, validation).accuracy, 0.01);
 * const overrides = Object.fromEntries(targets.map((t) => [t.layer, t.sparsity])); // PruneConfig.overrides
 */
export function suggestLayerSparsities(rows: readonly SensitivityRow[], baseline: number, tolerance: number): LayerSparsitySuggestion[] {
  if (!(baseline >= 0 && baseline <= 1)) throw new ConfigError(`suggestLayerSparsities: baseline accuracy must be in [0, 1], got ${baseline}`);
  if (!(tolerance >= 0 && tolerance < 1)) throw new ConfigError(`suggestLayerSparsities: tolerance must be in [0, 1), got ${tolerance}`);
  const best = new Map<string, { sparsity: number; accuracy: number | null }>();
  for (const row of rows) {
    checkSparsity(row.sparsity, `suggestLayerSparsities: the sparsity of a ${row.layer} row`);
    if (!(row.accuracy >= 0 && row.accuracy <= 1)) throw new ConfigError(`suggestLayerSparsities: the accuracy of a ${row.layer} row must be in [0, 1], got ${row.accuracy}`);
    const current = best.get(row.layer) ?? { sparsity: 0, accuracy: null };
    best.set(row.layer, current);
    if (row.accuracy < baseline - tolerance - ROUNDING_SLACK) continue;
    const higher = current.accuracy === null || row.sparsity > current.sparsity;
    const tieButBetter = row.sparsity === current.sparsity && row.accuracy > (current.accuracy ?? -1);
    if (higher || tieButBetter) best.set(row.layer, { sparsity: row.sparsity, accuracy: row.accuracy });
  }
  return [...best].map(([layer, choice]) => ({ layer, ...choice }));
}
