/**
 * Carving a validation set out of the training data. Pruning sweeps thresholds and picks one by validation
 * accuracy; using the test set for that would leak it into the choice, so the choice is made on held-out
 * training samples instead. Browser-safe.
 */
import { ConfigError } from '../errors.ts';
import type { Rng } from '../tensor/rng.ts';
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
