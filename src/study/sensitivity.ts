import type { Dataset } from '../data/dataset.ts';
import { ConfigError } from '../errors.ts';
import { cloneModel } from '../nn/clone.ts';
import type { Sequential } from '../nn/sequential.ts';
import { evaluate } from '../nn/train.ts';
import { Rng } from '../tensor/rng.ts';
import { collectGradientStats, findTargets, needsGradients, pruneTargets, type CriterionName } from '../prune/index.ts';

/** One point of a sensitivity analysis: one layer pruned alone to `sparsity`, and the accuracy that remained. */
export interface SensitivityRow {
  readonly layer: string;
  readonly sparsity: number;
  readonly accuracy: number;
}

/**
 * Per-layer sensitivity analysis (Han et al. 2015, NNI's SensitivityAnalysis): prune one layer at a time
 * to each sparsity, without retraining, and record the accuracy on `validation`. Layers whose accuracy
 * collapses early deserve a lower sparsity. `validation` should be data the model never saw — its holdout
 * (`rebuildHoldout(train, readHoldoutRecord(training)!).validation`) or a separate set, never the test set
 * if the result will choose per-layer sparsities. Gradient-based criteria score on `trainForScores`, which
 * must then be given (the training data: scoring on the validation data would let it choose the weights).
 * Throws ConfigError when a gradient criterion has no `trainForScores`.
 */
export function sensitivityAnalysis(
  model: Sequential,
  validation: Dataset,
  options: { sparsities: readonly number[]; criterion?: CriterionName; trainForScores?: Dataset; seed?: number },
): SensitivityRow[] {
  const criterion = options.criterion ?? 'magnitude';
  if (needsGradients(criterion) && options.trainForScores === undefined) {
    throw new ConfigError(`sensitivityAnalysis: the '${criterion}' criterion scores weights by gradients; pass the training data as trainForScores`);
  }
  const data = validation;
  const rows: SensitivityRow[] = [];
  for (const target of findTargets(model)) {
    for (const sparsity of options.sparsities) {
      const copy = cloneModel(model);
      const copyTarget = findTargets(copy).find((t) => t.name === target.name)!;
      const stats = needsGradients(criterion) ? collectGradientStats(copy, [copyTarget], options.trainForScores!, { seed: options.seed ?? 0 }) : null;
      pruneTargets([copyTarget], sparsity, { criterion, scope: 'layer', granularity: { kind: 'weight' }, stats, rng: new Rng(options.seed ?? 0) });
      rows.push({ layer: target.name, sparsity, accuracy: evaluate(copy, data).accuracy });
    }
  }
  return rows;
}
