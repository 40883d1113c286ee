/**
 * Carving a validation set out of the training data. Pruning sweeps thresholds and picks one by validation
 * accuracy; using the test set for that would leak it into the choice, so the choice is made on held-out
 * training samples instead. Browser-safe.
 */
import { ConfigError } from '../errors.ts';
import { Rng } from '../tensor/rng.ts';
import { subset, type Dataset } from './dataset.ts';

/** The two parts of a training set after `splitValidation`. */
export interface ValidationSplit {
  /** The samples left for training (named `<name>/fit`). */
  readonly train: Dataset;
  /** The held-out samples (named `<name>/validation`). */
  readonly validation: Dataset;
}

/**
 * Splits `train` at random into a training part and a validation part of `round(fraction × count)` samples.
 * The choice comes from `rng` only, so the same seed gives the same split. Both parts keep the samples in
 * their original relative order (the training loop shuffles anyway, and it makes the copy sequential).
 * Throws `ConfigError` unless `fraction` is in (0, 1) and both parts end up non-empty.
 *
 * @example const { train, validation } = splitValidation(digits.train, 0.1, new Rng(1)); // 7200 + 800
 */
export function splitValidation(train: Dataset, fraction: number, rng: Rng): ValidationSplit {
  if (!(fraction > 0 && fraction < 1)) {
    throw new ConfigError(`splitValidation: fraction must be in (0, 1), got ${fraction}`);
  }
  const validationCount = Math.round(train.count * fraction);
  if (validationCount < 1 || validationCount > train.count - 1) {
    throw new ConfigError(
      `splitValidation: a fraction of ${fraction} of ${train.count} samples leaves ${validationCount} for validation ` +
        `and ${train.count - validationCount} for training; both parts need at least one sample`,
    );
  }

  // Mark a random `validationCount` samples (the first entries of a seeded permutation).
  const order = rng.permutation(train.count);
  const isValidation = new Uint8Array(train.count);
  for (let i = 0; i < validationCount; i++) isValidation[order[i]!] = 1;

  const fitIndices = new Int32Array(train.count - validationCount);
  const validationIndices = new Int32Array(validationCount);
  let fitCount = 0;
  let heldOutCount = 0;
  for (let i = 0; i < train.count; i++) {
    if (isValidation[i] === 1) validationIndices[heldOutCount++] = i;
    else fitIndices[fitCount++] = i;
  }
  return {
    train: subset(train, fitIndices, `${train.name}/fit`),
    validation: subset(train, validationIndices, `${train.name}/validation`),
  };
}

/** A seeded, stratified split of a data set into the part a model trains on and the part held out from it. */
export interface IndexedSplit extends ValidationSplit {
  /** Indices (ascending) into the original data of the samples in `train`. */
  readonly trainIndices: Int32Array;
  /** Indices (ascending) into the original data of the samples in `validation`; disjoint from `trainIndices`. */
  readonly validationIndices: Int32Array;
}

/**
 * Holds out `fraction` of `data`, stratified by label: from each class, the first round(fraction × n_class)
 * of its samples in a permutation drawn from `new Rng(seed)` are held out, the rest are for training. The same
 * data, fraction and seed always give the same split (the model file records them to rebuild it). Throws
 * ConfigError unless `fraction` is in (0, 1) and both parts end up non-empty.
 *
 * @example const { train, validation } = holdoutSplit(digits.train, 0.1, 0); // 7200 + 800, every class 10 %
 */
export function holdoutSplit(data: Dataset, fraction: number, seed: number): IndexedSplit {
  if (!(fraction > 0 && fraction < 1)) throw new ConfigError(`holdout: the fraction must be in (0, 1), got ${fraction}`);
  const classCounts = countClasses(data);
  const quota = classCounts.map((n) => Math.round(n * fraction));
  const taken = new Int32Array(data.numClasses);
  const heldOut = new Uint8Array(data.count);
  for (const i of new Rng(seed).permutation(data.count)) {
    const label = data.y[i]!;
    if (taken[label]! < quota[label]!) {
      taken[label]!++;
      heldOut[i] = 1;
    }
  }
  const split = splitByMark(data, heldOut, 1);
  if (split.validation.count === 0 || split.train.count === 0) {
    throw new ConfigError(
      `holdout: a fraction of ${fraction} of ${data.count} samples (per class, rounded) leaves ${split.validation.count} to hold out ` +
        `and ${split.train.count} to train on; both parts need at least one sample`,
    );
  }
  return split;
}

/**
 * K-fold cross-validation splits, stratified by label and seeded: the samples of each class, taken in the
 * order of a permutation drawn from `new Rng(seed)`, are dealt to the folds in turn (each class starting where
 * the previous one stopped, so fold sizes differ by at most one). Split f holds out fold f and trains on the
 * other K−1. Throws ConfigError unless K is an integer in [2, count].
 */
export function kFoldSplits(data: Dataset, k: number, seed: number): IndexedSplit[] {
  if (!Number.isSafeInteger(k) || k < 2) throw new ConfigError(`cross-validation needs K ≥ 2 folds, got ${k}`);
  if (k > data.count) throw new ConfigError(`cross-validation: ${k} folds of ${data.count} samples would leave a fold empty`);
  const fold = new Uint8Array(data.count);
  const dealt = new Int32Array(data.numClasses);
  const start = new Int32Array(data.numClasses);
  const classCounts = countClasses(data);
  for (let c = 1; c < data.numClasses; c++) start[c] = (start[c - 1]! + classCounts[c - 1]!) % k;
  for (const i of new Rng(seed).permutation(data.count)) {
    const label = data.y[i]!;
    fold[i] = (start[label]! + dealt[label]!++) % k;
  }
  return Array.from({ length: k }, (_, f) => splitByMark(data, fold, f));
}

function countClasses(data: Dataset): number[] {
  const counts = new Array<number>(data.numClasses).fill(0);
  for (let i = 0; i < data.count; i++) {
    const label = data.y[i]!;
    if (label >= data.numClasses) throw new ConfigError(`${data.name}: label ${label} of sample ${i} is out of range for ${data.numClasses} classes`);
    counts[label]!++;
  }
  return counts;
}

/** Samples whose mark equals `heldOutMark` go to validation, the others to training; both keep their order. */
function splitByMark(data: Dataset, marks: Uint8Array, heldOutMark: number): IndexedSplit {
  let held = 0;
  for (let i = 0; i < data.count; i++) if (marks[i] === heldOutMark) held++;
  const trainIndices = new Int32Array(data.count - held);
  const validationIndices = new Int32Array(held);
  let t = 0;
  let v = 0;
  for (let i = 0; i < data.count; i++) {
    if (marks[i] === heldOutMark) validationIndices[v++] = i;
    else trainIndices[t++] = i;
  }
  return {
    train: subset(data, trainIndices, `${data.name}/fit`),
    validation: subset(data, validationIndices, `${data.name}/validation`),
    trainIndices,
    validationIndices,
  };
}
