import type { Dataset } from '../data/dataset.ts';
import { datasetChecksum } from '../data/checksum.ts';
import { holdoutSplit, type IndexedSplit } from '../data/split.ts';
import { ConfigError } from '../errors.ts';
import { buildModel } from '../nn/build.ts';
import { INIT_SCHEMES, type InitScheme } from '../nn/init.ts';
import { makeOptimizer, OPTIMIZERS, type OptimizerName } from '../nn/optim/make.ts';
import { constantLR, cosineLR, stepLR, type LRSchedule } from '../nn/optim/schedule.ts';
import type { Sequential } from '../nn/sequential.ts';
import type { ModelSpec } from '../nn/spec.ts';
import { fit, type EpochStats, type ProgressEvent, type TrainingHistory } from '../nn/train.ts';
import { BACKENDS, type Backend } from '../tensor/backend.ts';
import { Rng } from '../tensor/rng.ts';

/*
 * How a dense model was trained, written into its file's training metadata by `sparsegrad train` and read
 * back by the study commands: the recipe (to retrain it on other folds for cross-validation) and the
 * holdout (to rebuild exactly the samples it never saw, on exactly the same data).
 */

/** Learning-rate schedules of a dense training run (`sparsegrad train --schedule`). */
export const TRAINING_SCHEDULES = ['constant', 'cosine', 'step'] as const;
/** One of `TRAINING_SCHEDULES`. */
export type TrainingScheduleName = (typeof TRAINING_SCHEDULES)[number];

/** Everything besides the architecture (the model file holds that) that a dense training run depends on. */
export interface TrainingRecipe {
  readonly init: InitScheme;
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly optimizer: OptimizerName;
  readonly schedule: TrainingScheduleName;
  /** Seed of initialisation and batch order. */
  readonly seed: number;
  readonly backend: Backend;
}

/** What a model file records about the part of its training data it never saw (metadata `training.holdout`). */
export interface HoldoutRecord {
  readonly fraction: number;
  readonly seed: number;
  /** Always true: the split is stratified by label (see `holdoutSplit`). */
  readonly stratified: true;
  /** The training data the split was drawn from: how it was named on the command line, its size and checksum. */
  readonly data: { readonly spec: string; readonly name: string; readonly count: number; readonly checksum: string };
  readonly trainCount: number;
  readonly validationCount: number;
}

/** The learning-rate schedule `name` over `epochs` epochs ('step': ×0.1 every third of them). Throws ConfigError. */
export function trainingSchedule(name: string, epochs: number): LRSchedule {
  switch (name) {
    case 'constant': return constantLR;
    case 'cosine': return cosineLR(epochs);
    case 'step': return stepLR(Math.max(1, Math.round(epochs / 3)), 0.1);
    default: throw new ConfigError(`unknown schedule '${name}' (expected one of ${TRAINING_SCHEDULES.join(', ')})`);
  }
}

/** Options of `trainWithRecipe`. */
export interface RecipeTrainingOptions {
  /** Hold out part of `data` (seeded, stratified) and train on the rest. */
  readonly holdout?: { readonly fraction: number; readonly seed: number };
  readonly onEpoch?: (stats: EpochStats) => void;
  readonly onProgress?: (event: ProgressEvent) => void;
}

/**
 * Builds a fresh model of architecture `spec` and trains it on `data` by `recipe` — what `sparsegrad train`
 * does, and what cross-validation repeats on each fold. Same spec, recipe and data: the same bits.
 */
export function trainWithRecipe(spec: ModelSpec, recipe: TrainingRecipe, data: Dataset, options: RecipeTrainingOptions = {}): { model: Sequential; history: TrainingHistory } {
  const model = buildModel(spec, new Rng(recipe.seed), recipe.init);
  const history = fit(model, data, {
    epochs: recipe.epochs,
    batchSize: recipe.batchSize,
    optimizer: makeOptimizer(recipe.optimizer, model.parameters(), recipe.lr),
    schedule: trainingSchedule(recipe.schedule, recipe.epochs),
    seed: recipe.seed,
    backend: recipe.backend,
    ...(options.holdout === undefined ? {} : { holdout: options.holdout }),
    ...(options.onEpoch === undefined ? {} : { onEpoch: options.onEpoch }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  return { model, history };
}

/** The record of a holdout drawn from `data` (named `spec` on the command line) by `holdoutSplit`. */
export function holdoutRecord(data: Dataset, spec: string, fraction: number, seed: number, split: Pick<IndexedSplit, 'trainIndices' | 'validationIndices'>): HoldoutRecord {
  return {
    fraction,
    seed,
    stratified: true,
    data: { spec, name: data.name, count: data.count, checksum: datasetChecksum(data) },
    trainCount: split.trainIndices.length,
    validationCount: split.validationIndices.length,
  };
}

/**
 * Rebuilds a recorded holdout on `data`: checks that `data` is the data it was drawn from (count and
 * checksum) and that the split has the recorded sizes. Throws ConfigError naming the difference.
 */
export function rebuildHoldout(data: Dataset, record: HoldoutRecord): IndexedSplit {
  const recorded = record.data;
  if (data.count !== recorded.count || datasetChecksum(data) !== recorded.checksum) {
    throw new ConfigError(
      `the model's holdout was drawn from ${recorded.name} (--data ${recorded.spec}: ${recorded.count} samples, checksum ${recorded.checksum}), ` +
        `but the data given is ${data.name} (${data.count} samples, checksum ${datasetChecksum(data)}); pass the data the model was trained on`,
    );
  }
  const split = holdoutSplit(data, record.fraction, record.seed);
  if (split.validationIndices.length !== record.validationCount || split.trainIndices.length !== record.trainCount) {
    throw new ConfigError(`the model's holdout recorded ${record.validationCount} held-out samples, but rebuilding it gives ${split.validationIndices.length}`);
  }
  return split;
}

/** `training.recipe` of a model file, checked; throws ConfigError saying what is missing or wrong. */
export function readTrainingRecipe(training: Readonly<Record<string, unknown>> | undefined): TrainingRecipe {
  const recipe = training?.['recipe'];
  if (!isRecord(recipe)) {
    throw new ConfigError('the model file does not record its training recipe (training.recipe), so it cannot be retrained on other folds; train it with this version of sparsegrad train');
  }
  const where = 'training.recipe';
  return {
    init: choice(recipe, 'init', INIT_SCHEMES, where),
    epochs: integer(recipe, 'epochs', 1, where),
    batchSize: integer(recipe, 'batchSize', 1, where),
    lr: positive(recipe, 'lr', where),
    optimizer: choice(recipe, 'optimizer', OPTIMIZERS, where),
    schedule: choice(recipe, 'schedule', TRAINING_SCHEDULES, where),
    seed: integer(recipe, 'seed', 0, where),
    backend: choice(recipe, 'backend', BACKENDS, where),
  };
}

/** `training.holdout` of a model file, checked, or null when the model was trained on all of its data. */
export function readHoldoutRecord(training: Readonly<Record<string, unknown>> | undefined): HoldoutRecord | null {
  const holdout = training?.['holdout'];
  if (holdout === undefined || holdout === null) return null;
  const where = 'training.holdout';
  if (!isRecord(holdout)) throw new ConfigError(`${where} must be an object`);
  const data = holdout['data'];
  if (!isRecord(data)) throw new ConfigError(`${where}.data must be an object (spec, name, count, checksum)`);
  const fraction = holdout['fraction'];
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) throw new ConfigError(`${where}.fraction must be a number in (0, 1)`);
  if (holdout['stratified'] !== true) throw new ConfigError(`${where}.stratified must be true (this version draws stratified holdouts only)`);
  return {
    fraction,
    seed: integer(holdout, 'seed', 0, where),
    stratified: true,
    data: { spec: text(data, 'spec', `${where}.data`), name: text(data, 'name', `${where}.data`), count: integer(data, 'count', 1, `${where}.data`), checksum: text(data, 'checksum', `${where}.data`) },
    trainCount: integer(holdout, 'trainCount', 1, where),
    validationCount: integer(holdout, 'validationCount', 1, where),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integer(record: Record<string, unknown>, key: string, min: number, where: string): number {
  const v = record[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new ConfigError(`${where}.${key} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function positive(record: Record<string, unknown>, key: string, where: string): number {
  const v = record[key];
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new ConfigError(`${where}.${key} must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

function text(record: Record<string, unknown>, key: string, where: string): string {
  const v = record[key];
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${where}.${key} must be a non-empty string`);
  return v;
}

function choice<T extends string>(record: Record<string, unknown>, key: string, choices: readonly T[], where: string): T {
  const v = record[key];
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new ConfigError(`${where}.${key} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}
