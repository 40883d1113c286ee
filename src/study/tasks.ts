import { subset, type Dataset } from '../data/dataset.ts';
import { ConfigError } from '../errors.ts';
import type { Sequential } from '../nn/sequential.ts';
import { evaluate, type ProgressEvent } from '../nn/train.ts';
import { pruningMethod, runPruning, sparsityReport, type OptionValue, type PruneConfig } from '../prune/index.ts';
import { withBackend, type Backend } from '../tensor/backend.ts';
import { withThreads } from '../tensor/threads.ts';
import { modelFromState, modelState, type ModelState } from './model-state.ts';
import { trainWithRecipe } from './recipe.ts';
import type { ValidationPlan } from './validation.ts';
import { compressionStages, quantizeAndFineTune, type CompressionStages, type QuantizeMethod } from '../quantize/index.ts';

/*
 * A study (a comparison grid, a sweep, cross-validation) is a list of independent tasks: each is plain
 * data, starts from a fixed model, trains on fixed data with its own seed, and returns plain data. So the
 * tasks can run in any order, in this thread or in worker threads (src/node/study-pool.ts), be written to
 * a journal as they finish and be skipped when a study resumes — and give the same numbers every way.
 *
 *   dense  a fold's dense model: the given model (holdout, directory) or one retrained from the recipe on
 *          the fold's training part (cv); its validation accuracy is the fold's baseline.
 *   trial  one pruning run from a fold's dense model on the fold's training part (or, for fold 'final',
 *          from the given model on what it was trained on), scored on the fold's validation part and/or
 *          the test set.
 */

/** A fold's dense model and its validation score. */
export interface DenseTask {
  readonly kind: 'dense';
  readonly key: string;
  readonly label: string;
  readonly fold: number;
}

/** One pruning run (see the file comment). */
export interface TrialTask {
  readonly kind: 'trial';
  readonly key: string;
  readonly label: string;
  readonly fold: number | 'final';
  readonly config: PruneConfig;
  /** Put an 'outcome' method on the sparsity axis first (`PruningMethod.calibrate`, e.g. threshold's q). */
  readonly calibrate: boolean;
  readonly validation: boolean;
  readonly test: boolean;
  /** After pruning and scoring, quantize the pruned model (with fine-tuning) and score it again (issue 14). */
  readonly quantize?: TrialQuantization;
}

/** How a trial quantizes its pruned model: method, codebook bits (kmeans), fine-tuning epochs and Adam rate. */
export interface TrialQuantization {
  readonly method: QuantizeMethod;
  readonly bits?: number;
  /** kmeans widths of particular layers (see QuantizeOptions.layerBits). */
  readonly layerBits?: Readonly<Record<string, number>>;
  /** Round biases and centroids to float16 after fine-tuning (see QuantizeOptions.float16). */
  readonly float16?: boolean;
  readonly epochs: number;
  readonly lr: number;
}

/** A unit of work of a study. */
export type StudyTask = DenseTask | TrialTask;

/** Accuracy and mean loss on a data set. */
export interface Score {
  readonly accuracy: number;
  readonly loss: number;
}

/** What a dense task returns. `model` (a retrained fold model) is kept in memory only, never journaled. */
export interface DenseResult {
  readonly kind: 'dense';
  readonly key: string;
  readonly validation: Score;
  readonly seconds: number;
  readonly model?: ModelState;
}

/** What a trial returns. */
export interface TrialResult {
  readonly kind: 'trial';
  readonly key: string;
  /** Fraction of zero weights among the prunable weights. */
  readonly sparsity: number;
  /** Bytes of weights and biases as stored (each layer dense float32 or CSR, whichever is smaller). */
  readonly bytes: number;
  /** The method options the run used, calibrated ones included (when there are any). */
  readonly options?: Readonly<Record<string, OptionValue>>;
  readonly validation?: Score;
  readonly test?: Score;
  readonly seconds: number;
  /** With `TrialTask.quantize`: the file size after each stage and the quantized model's scores. */
  readonly compression?: { readonly stages: CompressionStages; readonly validation?: Score; readonly test?: Score };
}

/** What any task returns. */
export type TaskResult = DenseResult | TrialResult;

/** What every task of a study reads; the same on every thread that runs them. */
export interface StudySetup {
  /** The given (loaded) model. */
  readonly model: ModelState;
  /** The full training data; the plan's indices refer to it. */
  readonly train: Dataset;
  readonly test: Dataset | null;
  /** Null: no validation (trials run on fold 'final' only, which then is all of `train`). */
  readonly plan: ValidationPlan | null;
  readonly backend: Backend;
  /**
   * Threads of the wasm-simd kernels inside each task (default 1). Any count gives the same bits, so results
   * do not depend on it; with several jobs the command gives each job its share of the cores.
   */
  readonly threads?: number;
}

/** Progress of one task, for people. */
export interface TaskCallbacks {
  onNote?: (text: string) => void;
  /** Training progress of the task's pruning run. */
  onProgress?: (event: ProgressEvent) => void;
}

/**
 * Runs study tasks in this thread. Fold data and retrained fold models are kept for the tasks that follow.
 * A trial of a cv fold needs that fold's dense task to have run first (here, or elsewhere: `addDenseModel`).
 */
export class StudyRunner {
  private readonly data = new WeakMap<Int32Array, Dataset>();
  private readonly denseModels = new Map<number, ModelState>();

  constructor(private readonly setup: StudySetup) {}

  /** Gives a cv fold its dense model (retrained by a dense task in another thread). */
  addDenseModel(fold: number, model: ModelState): void {
    this.denseModels.set(fold, model);
  }

  /** Runs one task; throws what training throws (ConfigError, NonFiniteError, ...). */
  run(task: StudyTask, callbacks: TaskCallbacks = {}): TaskResult {
    const run = (): TaskResult => (task.kind === 'dense' ? this.runDense(task, callbacks) : this.runTrial(task, callbacks));
    return withBackend(this.setup.backend, () => withThreads(this.setup.threads ?? 1, run));
  }

  private runDense(task: DenseTask, callbacks: TaskCallbacks): DenseResult {
    const started = Date.now();
    const { train, validation } = this.foldData(task.fold);
    const recipe = this.plan().recipe;
    let model: Sequential;
    let retrained: ModelState | undefined;
    if (recipe === null) {
      model = modelFromState(this.setup.model);
    } else {
      callbacks.onNote?.(`${task.label}: retraining the dense model on ${train.count} samples (${recipe.epochs} epochs)`);
      model = trainWithRecipe(this.setup.model.spec, recipe, train).model;
      retrained = modelState(model);
      this.denseModels.set(task.fold, retrained);
    }
    const score = evaluate(model, validation!);
    return { kind: 'dense', key: task.key, validation: { accuracy: score.accuracy, loss: score.loss }, seconds: (Date.now() - started) / 1000, ...(retrained === undefined ? {} : { model: retrained }) };
  }

  private runTrial(task: TrialTask, callbacks: TaskCallbacks): TrialResult {
    const started = Date.now();
    const { train, validation } = this.foldData(task.fold);
    const model = modelFromState(this.startingModel(task.fold));
    const method = pruningMethod(task.config.method);
    const calibrated = task.calibrate ? (method.calibrate?.(model, task.config.sparsity) ?? {}) : {};
    const options = { ...calibrated, ...(task.config.options ?? {}) } as Record<string, OptionValue>;
    const hasOptions = Object.keys(options).length > 0;
    const config: PruneConfig = { ...task.config, ...(hasOptions ? { options } : {}) };
    const result = runPruning(model, { train }, config, callbacks.onProgress === undefined ? {} : { onProgress: callbacks.onProgress });
    const score = (data: Dataset): Score => {
      const e = evaluate(result.model, data);
      return { accuracy: e.accuracy, loss: e.loss };
    };
    if (task.validation && validation === null) throw new ConfigError(`${task.label}: the final run has no validation data`);
    if (task.test && this.setup.test === null) throw new ConfigError(`${task.label}: no test data was given`);
    const pruned = { ...(task.validation ? { validation: score(validation!) } : {}), ...(task.test ? { test: score(this.setup.test!) } : {}) };
    const bytes = storedBytes(result.model); // before quantization rewrites the weights in place
    let compression: TrialResult['compression'];
    if (task.quantize !== undefined) {
      const { method, bits, layerBits, float16, epochs, lr } = task.quantize;
      const { quantization } = quantizeAndFineTune(result.model, train, {
        method, ...(bits === undefined ? {} : { bits }), ...(layerBits === undefined ? {} : { layerBits }), float16: float16 === true, epochs, lr, batchSize: config.batchSize, seed: config.seed,
      });
      compression = { stages: compressionStages(result.model, quantization), ...(task.validation ? { validation: score(validation!) } : {}), ...(task.test ? { test: score(this.setup.test!) } : {}) };
    }
    return {
      kind: 'trial',
      key: task.key,
      sparsity: result.sparsity,
      bytes,
      ...(hasOptions ? { options } : {}),
      ...pruned,
      seconds: (Date.now() - started) / 1000,
      ...(compression === undefined ? {} : { compression }),
    };
  }

  private plan(): ValidationPlan {
    if (this.setup.plan === null) throw new ConfigError('this study has no validation plan: only final runs can be run');
    return this.setup.plan;
  }

  private startingModel(fold: number | 'final'): ModelState {
    if (fold === 'final' || this.setup.plan === null || this.setup.plan.recipe === null) return this.setup.model;
    const model = this.denseModels.get(fold);
    if (model === undefined) throw new ConfigError(`fold ${fold + 1}: its dense model has not been retrained yet (run its dense task first)`);
    return model;
  }

  /** The fold's training and validation data (copies made once per index array). */
  private foldData(fold: number | 'final'): { train: Dataset; validation: Dataset | null } {
    const plan = this.setup.plan;
    if (fold === 'final') return { train: plan === null ? this.setup.train : this.rows(plan.finalIndices, 'fit'), validation: null };
    const f = this.plan().folds[fold];
    if (f === undefined) throw new ConfigError(`fold ${fold + 1} does not exist (the plan has ${this.plan().folds.length})`);
    return { train: this.rows(f.trainIndices, 'fit'), validation: f.validationIndices === null ? this.plan().external! : this.rows(f.validationIndices, 'validation') };
  }

  private rows(indices: Int32Array, part: string): Dataset {
    const train = this.setup.train;
    if (indices.length === train.count) return train; // all of it (indices are ascending and distinct)
    let rows = this.data.get(indices);
    if (rows === undefined) {
      rows = subset(train, indices, `${train.name}/${part}`);
      this.data.set(indices, rows);
    }
    return rows;
  }
}

/** Bytes of a model's weights and biases as stored: per layer, dense float32 or CSR, whichever is smaller. */
export function storedBytes(model: Sequential): number {
  return sparsityReport(model).layers.reduce((n, l) => n + Math.min(l.bytesDense, l.bytesSparse), 0);
}

/**
 * Runs tasks in order in this thread (dense tasks first, since trials of a cv fold need its dense model)
 * and returns the results by task key.
 */
export function runTasksInline(
  setup: StudySetup,
  tasks: readonly StudyTask[],
  callbacks: {
    onStart?: (task: StudyTask, index: number, total: number) => void;
    onResult?: (task: StudyTask, result: TaskResult) => void;
    onNote?: (text: string) => void;
    onProgress?: (event: ProgressEvent, task: StudyTask) => void;
  } = {},
): Map<string, TaskResult> {
  const runner = new StudyRunner(setup);
  const ordered = [...tasks.filter((t) => t.kind === 'dense'), ...tasks.filter((t) => t.kind === 'trial')];
  const results = new Map<string, TaskResult>();
  ordered.forEach((task, index) => {
    callbacks.onStart?.(task, index, ordered.length);
    const result = runner.run(task, {
      ...(callbacks.onNote === undefined ? {} : { onNote: callbacks.onNote }),
      ...(callbacks.onProgress === undefined ? {} : { onProgress: (event: ProgressEvent) => callbacks.onProgress!(event, task) }),
    });
    results.set(task.key, result);
    callbacks.onResult?.(task, result);
  });
  return results;
}

/** The tasks with duplicate keys dropped (the first of each kept): a grid that lists a value twice runs it once. */
export function uniqueTasks(tasks: readonly StudyTask[]): StudyTask[] {
  const seen = new Set<string>();
  return tasks.filter((t) => !seen.has(t.key) && seen.add(t.key) !== undefined);
}

/** JSON with object keys sorted, so equal values give equal strings (task keys). */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record).sort().filter((k) => record[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stableJson(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
