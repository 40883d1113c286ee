import { subset, type Dataset } from '../data/dataset.ts';
import { kFoldSplits } from '../data/split.ts';
import { ConfigError } from '../errors.ts';
import { rebuildHoldout, type HoldoutRecord, type TrainingRecipe } from './recipe.ts';

/*
 * Where a study's validation accuracy comes from — never from data the model being judged was trained on.
 * Three sources, one shape (a list of folds, each with the samples to train on and the samples to validate
 * on):
 *   holdout    the part of the training data the model file records as held out (sparsegrad train keeps
 *              10 % by default); one fold: train on the rest, validate on the holdout.
 *   directory  a separate labelled data set (`--validation DIR`); one fold: train on what the model was
 *              trained on, validate on the directory's samples.
 *   cv         K-fold cross-validation: fold f retrains the dense model from its recorded recipe on the other
 *              K−1 folds and validates on fold f; a setting's score is the mean over the folds.
 * A plan is plain data (indices, not copies), so it can be sent to worker threads.
 */

/** The three validation sources. */
export type ValidationSource = 'holdout' | 'directory' | 'cv';

/** One fold: indices into the training data to train on, and to validate on (null: all of `external`). */
export interface ValidationFold {
  readonly trainIndices: Int32Array;
  readonly validationIndices: Int32Array | null;
}

/** A validation plan over one training set (see the file comment). */
export interface ValidationPlan {
  readonly source: ValidationSource;
  /** One line for people, e.g. "the model's 10 % holdout of digits/train (800 samples)". */
  readonly description: string;
  readonly folds: readonly ValidationFold[];
  /** The validation directory's samples (source 'directory'), else null. */
  readonly external: Dataset | null;
  /**
   * Indices into the training data the given model was trained on: what a setting's final run (from the
   * given model, judged on the test set) trains on. The same array as `folds[0].trainIndices` for a holdout.
   */
  readonly finalIndices: Int32Array;
  /** For 'cv': the recipe each fold's dense model is retrained with. Null: every fold starts from the given model. */
  readonly recipe: TrainingRecipe | null;
}

/**
 * Validation on the holdout a model file records (`readHoldoutRecord`): train on the rest, validate on the
 * held-out samples. Throws ConfigError if `train` is not the data the holdout was drawn from.
 */
export function holdoutValidation(train: Dataset, record: HoldoutRecord): ValidationPlan {
  const split = rebuildHoldout(train, record);
  return {
    source: 'holdout',
    description: `the model's ${formatPercent(record.fraction)} holdout of ${train.name} (${split.validationIndices.length} samples, seed ${record.seed}, never trained on)`,
    folds: [{ trainIndices: split.trainIndices, validationIndices: split.validationIndices }],
    external: null,
    finalIndices: split.trainIndices,
    recipe: null,
  };
}

/**
 * Validation on a separate data set. The model was trained on `train` (or, when it records a holdout, on
 * `train` without it: pass `trainedOn`), and so is every candidate. Throws ConfigError if the shapes differ or
 * if 1 % or more of the validation samples also occur (same pixels, same label) in the data trained on.
 */
export function directoryValidation(train: Dataset, validation: Dataset, trainedOn: Int32Array = allIndices(train.count)): ValidationPlan {
  if (validation.count === 0) throw new ConfigError(`the validation data ${validation.name} has no samples`);
  if (validation.features !== train.features) {
    throw new ConfigError(`the validation data ${validation.name} has ${validation.features} features per sample, the training data ${train.features}`);
  }
  const shared = countSharedSamples(train, trainedOn, validation);
  if (shared * 100 >= validation.count) {
    throw new ConfigError(`${shared} of the ${validation.count} validation samples in ${validation.name} also occur in the training data: that is not held-out data`);
  }
  const note = shared === 0 ? '' : `; ${shared} of them also occur in the training data`;
  return {
    source: 'directory',
    description: `${validation.name} (${validation.count} samples${note})`,
    folds: [{ trainIndices: trainedOn, validationIndices: null }],
    external: validation,
    finalIndices: trainedOn,
    recipe: null,
  };
}

/**
 * K-fold cross-validation (stratified, seeded: `kFoldSplits`) over the samples `trainedOn` of `train` (what
 * the given model was trained on; default all), retraining the dense model on each fold's K−1 parts by
 * `recipe`. A setting's final run trains on the same samples from the given model. Throws ConfigError for
 * K < 2 or K > the number of samples.
 */
export function crossValidation(train: Dataset, k: number, seed: number, recipe: TrainingRecipe, trainedOn: Int32Array = allIndices(train.count)): ValidationPlan {
  const pool = trainedOn.length === train.count ? train : subset(train, trainedOn, `${train.name}/fit`);
  const toTrain = (indices: Int32Array): Int32Array => (pool === train ? indices : indices.map((i) => trainedOn[i]!));
  const splits = kFoldSplits(pool, k, seed);
  const without = pool === train ? '' : ' (without its holdout)';
  return {
    source: 'cv',
    description: `${k}-fold cross-validation on ${train.name}${without} (stratified, seed ${seed}; the dense model retrained on each fold's other ${k - 1} parts)`,
    folds: splits.map((s) => ({ trainIndices: toTrain(s.trainIndices), validationIndices: toTrain(s.validationIndices) })),
    external: null,
    finalIndices: trainedOn,
    recipe,
  };
}

/** The plan in a few JSON fields (for --json output and the run journal). */
export function planSummary(plan: ValidationPlan): { source: ValidationSource; folds: number; description: string; validationSamples: number[] } {
  return {
    source: plan.source,
    folds: plan.folds.length,
    description: plan.description,
    validationSamples: plan.folds.map((f) => f.validationIndices?.length ?? plan.external!.count),
  };
}

/** 0, 1, …, n−1. */
export function allIndices(n: number): Int32Array {
  const indices = new Int32Array(n);
  for (let i = 0; i < n; i++) indices[i] = i;
  return indices;
}

/** How many samples of `other` also occur (identical inputs and label) among the samples `indices` of `data`. */
function countSharedSamples(data: Dataset, indices: Int32Array, other: Dataset): number {
  const f = data.features;
  const rowKey = (d: Dataset, i: number): number => {
    const words = new Uint32Array(d.x.buffer, d.x.byteOffset + i * f * 4, f);
    let h = d.y[i]! + 0x9e3779b9;
    for (let j = 0; j < f; j++) h = (Math.imul(h ^ words[j]!, 0x01000193) + j) | 0;
    return h;
  };
  const seen = new Map<number, number[]>();
  for (const i of indices) {
    const key = rowKey(data, i);
    const list = seen.get(key);
    if (list === undefined) seen.set(key, [i]);
    else list.push(i);
  }
  let shared = 0;
  for (let i = 0; i < other.count; i++) {
    const candidates = seen.get(rowKey(other, i));
    if (candidates?.some((j) => sameSample(data, j, other, i)) === true) shared++;
  }
  return shared;
}

function sameSample(a: Dataset, i: number, b: Dataset, j: number): boolean {
  if (a.y[i] !== b.y[j]) return false;
  const f = a.features;
  for (let k = 0; k < f; k++) if (a.x[i * f + k] !== b.x[j * f + k]) return false;
  return true;
}

function formatPercent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(2))} %`;
}
