/**
 * What `prune`, `sweep` and `compare` share about honest validation and parallel runs: the flags
 * `--validation DIR`, `--cv K`, `--jobs N`, `--resume`, `--runs FILE`; choosing the validation plan (the
 * model's recorded holdout, a separate directory, or K folds — never a split of data the model was trained
 * on); and the refusal when there is none.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checksum, datasetChecksum } from '../data/checksum.ts';
import { subset, type DataSplit, type Dataset } from '../data/dataset.ts';
import { idxToDataset } from '../data/idx.ts';
import { DataFormatError } from '../errors.ts';
import { modelFromRecord } from '../io/model-adapter.ts';
import type { Sequential } from '../nn/sequential.ts';
import { readIdxFile } from '../node/data.ts';
import { loadModelFile } from '../node/model-io.ts';
import { RunJournal } from '../node/run-journal.ts';
import type { ModelState } from '../study/model-state.ts';
import { readHoldoutRecord, readTrainingRecipe, rebuildHoldout, type HoldoutRecord } from '../study/recipe.ts';
import type { SweepResult } from '../study/sweep.ts';
import { crossValidation, directoryValidation, holdoutValidation, planSummary, type ValidationPlan } from '../study/validation.ts';
import type { Backend } from '../tensor/backend.ts';
import { numberFlag, optionalString, UsageError, type OptionSpec } from './args.ts';
import { outputOptions } from './common.ts';
import { bar, type Output } from './output.ts';
import type { StudyJobOptions } from '../node/study-pool.ts';

/** The flags that choose where validation comes from. */
export const VALIDATION_FLAGS: OptionSpec = { validation: { type: 'string' }, cv: { type: 'string' } };
/** The flags of parallel, resumable studies. */
export const JOB_FLAGS: OptionSpec = { jobs: { type: 'string' }, resume: { type: 'boolean' }, runs: { type: 'string' } };

/** Help lines for VALIDATION_FLAGS, with the description at column `column`. */
export function validationHelp(column: number): string {
  const line = (flag: string, text: string): string => `  ${flag.padEnd(column - 2)}${text}`;
  return [
    line('--validation DIR', 'validate on a directory of IDX files the model never saw (one images and one labels'),
    line('', 'file, e.g. t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]) instead of its holdout'),
    line('--cv K', 'K-fold cross-validation (K ≥ 2): retrain the dense model from its recorded recipe on'),
    line('', 'K−1 folds, validate on the held fold, choose by the mean'),
    line('', 'default: the holdout recorded in the model file (sparsegrad train keeps 10 % by default)'),
  ].join('\n');
}

/** Help lines for JOB_FLAGS. */
export function jobsHelp(column: number, journal: string): string {
  const line = (flag: string, text: string): string => `  ${flag.padEnd(column - 2)}${text}`;
  return [
    line('--jobs N', 'runs in N parallel worker threads (default 1: in this thread); same results for every N'),
    line('--runs FILE', 'journal of finished runs, one NDJSON line each as it ends'),
    line('', `(default: ${journal})`),
    line('--resume', 'continue an interrupted study from its journal: only missing runs are run'),
  ].join('\n');
}

/** `--jobs N`: a positive integer (0 is a usage error). */
export function jobsFlag(values: Record<string, unknown>): number {
  return numberFlag(values, 'jobs', 1, { min: 1, integer: true });
}

/** A model file's model and its training metadata. */
export async function loadModelWithTraining(path: string): Promise<{ model: Sequential; training: Record<string, unknown> | undefined }> {
  const record = await loadModelFile(path);
  return { model: modelFromRecord(record), training: record.training };
}

/** The validation plan the flags ask for, or the model's holdout; null if there is neither. */
export function validationPlanFromFlags(values: Record<string, unknown>, training: Readonly<Record<string, unknown>> | undefined, data: DataSplit, seed: number): ValidationPlan | null {
  const dir = optionalString(values, 'validation');
  if (dir !== undefined && values['cv'] !== undefined) throw new UsageError('--validation and --cv are two ways to validate: give one');
  const holdout = readHoldoutRecord(training);
  if (values['cv'] !== undefined) {
    const k = numberFlag(values, 'cv', undefined, { min: 2, integer: true });
    const recipe = readTrainingRecipe(training);
    return crossValidation(data.train, k, seed, recipe, holdout === null ? undefined : rebuildHoldout(data.train, holdout).trainIndices);
  }
  if (dir !== undefined) {
    const validation = loadValidationDirectory(dir);
    if (datasetChecksum(validation) === datasetChecksum(data.test)) {
      throw new UsageError(`--validation ${dir} holds the same samples as the test split of --data (${data.test.name}): choosing on the test set is what validation avoids; give data the test set does not contain`);
    }
    const trainedOn = holdout === null ? undefined : rebuildHoldout(data.train, holdout).trainIndices;
    return directoryValidation(data.train, validation, trainedOn);
  }
  return holdout === null ? null : holdoutValidation(data.train, holdout);
}

/** The usage error of a study command given a model without a holdout and no other validation. */
export function noValidationError(command: string, data: DataSplit): UsageError {
  return new UsageError(
    `${command} chooses by validation accuracy, and this model records no holdout (it was trained on all of ${data.train.name}, or before holdouts were recorded): ` +
      'pass --validation DIR (IDX data the model never saw) or --cv K (K-fold cross-validation from its recorded recipe), ' +
      'or retrain it with sparsegrad train, which holds out 10 % by default',
  );
}

/** The training data a final run trains on: what the given model was trained on (all of it without a plan or holdout). */
export function finalTrainingData(train: Dataset, plan: ValidationPlan | null, holdout: HoldoutRecord | null): Dataset {
  if (plan !== null) return plan.finalIndices.length === train.count ? train : subset(train, plan.finalIndices, `${train.name}/fit`);
  if (holdout !== null) return rebuildHoldout(train, holdout).train;
  return train;
}

/** Tells what the plan is, in one note. */
export function noteValidation(out: Output, plan: ValidationPlan): void {
  out.note(`validation: ${plan.description}`);
}

/** The identity of a study written into its run journal: a journal is resumed only by the same study. */
export function studyIdentity(command: string, model: ModelState, data: DataSplit, plan: ValidationPlan | null, backend: Backend): Record<string, unknown> {
  return {
    command,
    model: checksum(model.params.flatMap((p) => (p.mask === null ? [p.data] : [p.data, p.mask]))),
    train: datasetChecksum(data.train),
    test: datasetChecksum(data.test),
    validation: plan === null ? null : { ...planSummary(plan), ...(plan.external === null ? {} : { checksum: datasetChecksum(plan.external) }) },
    backend,
  };
}

/** What every study command shows while it runs: a line per started run, the runs' notes, an epoch bar. */
export function studyProgress(out: Output): Pick<StudyJobOptions, 'onStart' | 'onNote' | 'onProgress'> {
  return {
    onStart: (task, i, n) => out.note(`[${i + 1}/${n}] ${task.label}`),
    onNote: (text) => out.note(text),
    onProgress: (e, task) => out.progress(`${task.label} epoch ${e.epoch}/${e.epochs} ${bar(e.batch / e.batches)}`),
  };
}

/** Opens the study's run journal at `path` (from journalFlag), resuming it with `--resume`. */
export function openJournal(values: Record<string, unknown>, path: string, identity: Record<string, unknown>, out: Output): RunJournal {
  const journal = RunJournal.open(path, identity, { ...outputOptions(values), resume: values['resume'] === true });
  if (values['resume'] === true) out.note(journal.results.size === 0 ? `--resume: ${path} holds no finished runs; starting from the beginning` : `--resume: ${journal.results.size} finished runs in ${path}`);
  return journal;
}

/** `--runs FILE` (default `fallback`), checked before any work: see RunJournal.check. */
export function journalFlag(values: Record<string, unknown>, fallback: string): string {
  const path = optionalString(values, 'runs') ?? fallback;
  RunJournal.check(path, { ...outputOptions(values), resume: values['resume'] === true });
  return path;
}

/** The journal path next to a JSON output: `compare.json` → `compare.runs.ndjson`. */
export function journalPathFor(jsonPath: string): string {
  return `${jsonPath.replace(/\.json$/i, '')}.runs.ndjson`;
}

/**
 * Loads `--validation DIR`: a directory with exactly one IDX images file (`*images-idx3-ubyte`, gzipped or
 * not) and one labels file (`*labels-idx1-ubyte`). Throws DataFormatError naming what is missing or ambiguous.
 */
export function loadValidationDirectory(dir: string): Dataset {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new DataFormatError(`--validation ${dir}: cannot read the directory: ${error instanceof Error ? error.message : String(error)}`);
  }
  const pick = (kind: string): string => {
    const found = names.filter((n) => new RegExp(`(^|[-.])${kind}[-.]idx\\d-ubyte(\\.gz)?$`).test(n)).sort();
    if (found.length !== 1) {
      throw new DataFormatError(`--validation ${dir}: expected exactly one ${kind} IDX file (e.g. t10k-${kind}-idx${kind === 'images' ? 3 : 1}-ubyte.gz), found ${found.length === 0 ? 'none' : found.join(', ')}`);
    }
    return join(dir, found[0]!);
  };
  const images = pick('images');
  const labels = pick('labels');
  return idxToDataset(readIdxFile(images), readIdxFile(labels), `${dir.replace(/\/+$/, '').split('/').pop()}/validation`);
}

/** A sweep in JSON (prune --json and sweep --json): the grid, every setting's validation scores, the choice. */
export function sweepSummary(sweep: SweepResult): Record<string, unknown> {
  const row = (r: SweepResult['rows'][number]): Record<string, unknown> => ({
    value: r.value, epochs: r.epochs, lr: r.lr, sparsity: r.sparsity, bytes: r.bytes,
    validationAccuracy: r.accuracy, validationStd: r.accuracyStd, foldAccuracies: r.foldAccuracies,
  });
  return {
    swept: sweep.swept,
    candidates: [...new Set(sweep.rows.map((r) => r.value))],
    objective: sweep.objective,
    validation: sweep.validation,
    baseline: { validationAccuracy: sweep.baseline, validationStd: sweep.baselineStd },
    rows: sweep.rows.map(row),
    chosen: sweep.chosen === null ? null : row(sweep.chosen),
  };
}
