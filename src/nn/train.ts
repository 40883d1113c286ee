import { ConfigError, NonFiniteError, ShapeError } from '../errors.ts';
import { backward, noGrad } from '../autograd/graph.ts';
import { crossEntropy, type Labels } from '../autograd/ops/losses.ts';
import { constant, type Var } from '../autograd/var.ts';
import { validateDataset, type Dataset } from '../data/dataset.ts';
import { holdoutSplit } from '../data/split.ts';
import { currentBackend, resolveBackend, withBackend, type Backend } from '../tensor/backend.ts';
import { Rng } from '../tensor/rng.ts';
import { currentThreads, resolveThreads, threadPool, withThreads } from '../tensor/threads.ts';
import { assertFinite, Tensor } from '../tensor/tensor.ts';
import { activeSimd, simdInstance } from '../tensor/wasm/instance.ts';
import { BatchPrefetcher, gatherBatch } from './batches.ts';
import type { Module } from './module.ts';
import type { Optimizer } from './optim/optimizer.ts';
import { constantLR, type LRSchedule } from './optim/schedule.ts';
import { SimdTrainingSession } from './simd-session.ts';

/*
 * The training loop: epochs of seeded-shuffled mini-batches, forward, loss, backward, optimizer step.
 * Pruning methods plug in through `TrainingHooks` (score accumulation after backward, mask updates after
 * the step); progress is reported through callbacks so this file stays free of any I/O.
 *
 * The backend (`FitOptions.backend`, else the scoped one of `withBackend`, else DEFAULT_BACKEND) decides
 * which kernels run. On 'wasm-simd' the parameters, the optimizer state and each step's tensors live in the
 * SIMD kernels' memory for the whole run (simd-session.ts): a tensor made during a step (including
 * `p.grad` seen by a hook) is valid until the next step starts, so hooks copy what they keep.
 */

/** What a training hook sees at each optimizer step (see TrainingHooks). */
export interface StepContext {
  /** 1-based epoch. */
  readonly epoch: number;
  /** 0-based batch index within the epoch. */
  readonly batch: number;
  readonly batchesPerEpoch: number;
  /** 1-based count of optimizer steps taken so far in this fit (including the current one). */
  readonly step: number;
  readonly totalSteps: number;
  readonly loss: number;
  readonly model: Module;
  readonly optimizer: Optimizer;
  /** The batch's inputs [batch, features], valid until the next step (hooks copy what they keep). */
  readonly inputs: Tensor;
}

/** The statistics of one training epoch (in `TrainingHistory.epochs` and `onEpoch`). */
export interface EpochStats {
  /** 1-based epoch. */
  readonly epoch: number;
  /** Mean training loss over the epoch's batches. */
  readonly loss: number;
  /** Training accuracy over the epoch (measured on the fly, in training mode). */
  readonly accuracy: number;
  /** Wall-clock seconds the epoch took. */
  readonly seconds: number;
  /** The learning rate used during the epoch. */
  readonly lr: number;
  /** Loss and accuracy on `FitOptions.validation`, when given. */
  readonly validation?: { readonly loss: number; readonly accuracy: number };
}

/**
 * Code that `fit` runs at fixed points of training: how pruning methods and gradient statistics plug into the
 * loop without changing it. Tensors seen here (such as `p.grad`) are valid until the next step starts.
 */
export interface TrainingHooks {
  /** Gradients are computed and the optimizer has not stepped yet (e.g. accumulate gradient importance). */
  afterBackward?(ctx: StepContext): void;
  /** The optimizer has stepped (e.g. threshold weights, update masks on a schedule). */
  afterStep?(ctx: StepContext): void;
  /** An epoch has ended (after validation, if any). */
  afterEpoch?(stats: EpochStats, model: Module): void;
}

/** Progress within an epoch, for progress bars (`FitOptions.onProgress`, after every batch). */
export interface ProgressEvent {
  readonly epoch: number;
  readonly epochs: number;
  readonly batch: number;
  readonly batches: number;
  /** Running mean loss of the current epoch. */
  readonly loss: number;
}

/** Settings of `fit`. */
export interface FitOptions {
  /** Number of passes over the data (a positive integer). */
  epochs: number;
  /** Samples per mini-batch (a positive integer; the last batch of an epoch may be smaller). */
  batchSize: number;
  /** The optimizer, built over `model.parameters()`. */
  optimizer: Optimizer;
  /** Seed of the shuffling order (same seed, same batches, same weights). */
  seed: number;
  /** Learning rate per epoch (default: the optimizer's rate throughout). */
  schedule?: LRSchedule;
  /** Evaluated after every epoch. */
  validation?: Dataset;
  /** Code to run after backward, after each step and after each epoch (pruning methods use these). */
  hooks?: TrainingHooks | readonly TrainingHooks[];
  /** Called after every epoch. */
  onEpoch?: (stats: EpochStats) => void;
  /** Called after every batch. */
  onProgress?: (event: ProgressEvent) => void;
  /** Loss from logits, labels and the batch's inputs (e.g. for distillation); cross-entropy by default. */
  loss?: LossFn;
  /**
   * Kernels to train on: 'js' or 'wasm-simd' (default: the scoped backend of `withBackend`, else
   * DEFAULT_BACKEND). 'wasm-simd' falls back to 'js' on an engine without WebAssembly SIMD; the history says
   * which one ran. Same seed and backend give bit-identical weights.
   */
  backend?: Backend;
  /**
   * Threads for the 'wasm-simd' kernels (default: the scope of `withThreads`, else 1): the matrix products
   * and the optimizer update of large layers are split over them. Any count gives bit-identical weights.
   * Falls back to 1 (the history says why) on the 'js' backend and where threads cannot run (a browser page
   * that is not cross-origin isolated; Node without setThreadHost). ConfigError outside 1…MAX_THREADS.
   */
  threads?: number;
  /**
   * Keep a seeded, stratified part of `data` out of training (see `holdoutSplit`): fit trains on the rest,
   * validates on the held-out part after every epoch (unless `validation` is given) and returns the split in
   * `history.holdout`, so the model can be judged — and its pruning settings chosen — on data it never saw.
   */
  holdout?: { readonly fraction: number; readonly seed: number };
}

/** The part of the training data `fit` held out (FitOptions.holdout). */
export interface HoldoutInfo {
  readonly fraction: number;
  readonly seed: number;
  /** Indices (ascending) into the data passed to fit of the samples trained on. */
  readonly trainIndices: Int32Array;
  /** Indices (ascending) of the samples held out; disjoint from `trainIndices`. */
  readonly validationIndices: Int32Array;
  /** The held-out samples, as a data set. */
  readonly validation: Dataset;
}

/** A training loss: from the model's logits, the integer labels and the batch inputs [batch, features]. */
export type LossFn = (logits: Var, labels: Labels, inputs: Tensor) => Var;

/** What `fit` returns. */
export interface TrainingHistory {
  /** One entry per epoch, in order. */
  readonly epochs: EpochStats[];
  /** The backend that ran (see FitOptions.backend). */
  readonly backend: Backend;
  /** Why it differs from the one requested, if it does. */
  readonly backendNote?: string;
  /** How many threads the kernels ran on (see FitOptions.threads). */
  readonly threads: number;
  /** Why that is fewer than requested, if it is. */
  readonly threadsNote?: string;
  /** The held-out part of the data, when FitOptions.holdout was given. */
  readonly holdout?: HoldoutInfo;
}

function checkPositiveInt(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigError(`${name} must be a positive integer, got ${value}`);
}

/**
 * Trains `model` on `data` for `options.epochs` epochs of shuffled mini-batches (seeded: the same seed and
 * backend give bit-identical weights) and returns the per-epoch statistics. Throws ConfigError for bad
 * settings, NonFiniteError when the inputs or the loss are not finite, and the model's own errors for
 * inputs of the wrong width or labels out of range.
 *
 * @example
 * ```ts
 * import { Adam, evaluate, fit, mlp } from 'sparsegrad';
 * import { loadDigits } from 'sparsegrad/node';
 *
 * const { train, test } = loadDigits();
 * const model = mlp([784, 100, 10], { seed: 0 });
 * const history = fit(model, train, { epochs: 2, batchSize: 128, optimizer: new Adam(model.parameters(), { lr: 1e-3 }), seed: 0 });
 * console.log(history.epochs.at(-1)!.loss, evaluate(model, test).accuracy); // ~0.36 ~0.90
 * ```
 */
export function fit(model: Module, data: Dataset, options: FitOptions): TrainingHistory {
  let { backend, note } = resolveBackend(options.backend ?? currentBackend());
  if (backend === 'wasm-simd' && simdInstance() === null) {
    backend = 'js';
    note = 'the WebAssembly SIMD training kernels could not be instantiated here: running on the TypeScript kernels (js)';
  }
  const { threads, note: threadsNote } = trainingThreads(options.threads ?? currentThreads(), backend);
  if (threads > 1) threadPool(threads); // started before the first epoch: a failure to start ends fit here
  let holdout: HoldoutInfo | undefined;
  let trainOn = data;
  if (options.holdout !== undefined) {
    validateDataset(data);
    const { fraction, seed } = options.holdout;
    const split = holdoutSplit(data, fraction, seed);
    holdout = { fraction, seed, trainIndices: split.trainIndices, validationIndices: split.validationIndices, validation: split.validation };
    trainOn = split.train;
  }
  const validation = options.validation ?? holdout?.validation;
  const trainOptions = validation === undefined ? options : { ...options, validation };
  const epochs = withBackend(backend, () => withThreads(threads, () => trainEpochs(model, trainOn, trainOptions)));
  return {
    epochs, backend, ...(note === undefined ? {} : { backendNote: note }), threads, ...(threadsNote === undefined ? {} : { threadsNote }),
    ...(holdout === undefined ? {} : { holdout }),
  };
}

/** The threads a training run gets: only the 'wasm-simd' kernels on a shared memory use more than one. */
function trainingThreads(requested: number, backend: Backend): { threads: number; note?: string } {
  const resolved = resolveThreads(requested);
  if (resolved.threads === 1) return resolved;
  if (backend !== 'wasm-simd') return { threads: 1, note: `threads run the wasm-simd kernels only: the ${backend} backend runs on one thread` };
  if (simdInstance()?.arena.shared !== true) return { threads: 1, note: "the SIMD kernels' memory is not shared here: running on one thread" };
  return resolved;
}

function trainEpochs(model: Module, data: Dataset, options: FitOptions): EpochStats[] {
  const { epochs, batchSize, optimizer, seed, schedule = constantLR, validation } = options;
  checkPositiveInt('epochs', epochs);
  checkPositiveInt('batchSize', batchSize);
  validateDataset(data);
  if (data.count === 0) throw new ConfigError(`${data.name}: cannot train on an empty data set`);
  assertFinite(data.x, `${data.name} inputs`);
  const lossFn = options.loss ?? crossEntropy;
  const hooks = options.hooks === undefined ? [] : Array.isArray(options.hooks) ? options.hooks : [options.hooks as TrainingHooks];
  const baseLr = optimizer.lr;
  const rng = new Rng(seed);
  const order = new Int32Array(data.count);
  for (let i = 0; i < data.count; i++) order[i] = i;
  const batchesPerEpoch = Math.ceil(data.count / batchSize);
  const totalSteps = epochs * batchesPerEpoch;
  const history: EpochStats[] = [];
  let step = 0;

  /** One optimizer step on one mini-batch; returns its loss and how many samples it got right. */
  const trainingStep = (epoch: number, batch: number): { loss: number; correct: number } => {
    optimizer.lr = schedule.lrAt(epoch - 1 + batch / batchesPerEpoch, baseLr);
    const { x, y } = batches.batch(batch);
    const logits = model.forward(constant(x));
    const loss = lossFn(logits, y, x);
    const lossValue = loss.value.item();
    if (!Number.isFinite(lossValue)) {
      throw new NonFiniteError(`training diverged: the loss is ${lossValue} at epoch ${epoch}, batch ${batch + 1} of ${batchesPerEpoch} (try a lower learning rate; lr was ${optimizer.lr})`);
    }
    optimizer.zeroGrad();
    backward(loss);
    step++;
    const ctx: StepContext = { epoch, batch, batchesPerEpoch, step, totalSteps, loss: lossValue, model, optimizer, inputs: x };
    for (const h of hooks) h.afterBackward?.(ctx);
    batches.prefetch(batch + 1); // gathered while the workers start on the update (batches.ts)
    optimizer.step();
    for (const h of hooks) h.afterStep?.(ctx);
    return { loss: lossValue, correct: countCorrect(logits.value, y) };
  };

  const simd = activeSimd();
  const session = simd === null ? null : SimdTrainingSession.open(simd, model.parameters(), optimizer);
  const batches = new BatchPrefetcher(data, order, batchSize, (length) => session?.allocate(length) ?? new Float32Array(length));
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const started = Date.now();
      model.train();
      batches.startEpoch((o) => rng.shuffle(o));
      let lossSum = 0;
      let correct = 0;
      for (let batch = 0; batch < batchesPerEpoch; batch++) {
        const result = session === null ? trainingStep(epoch, batch) : session.step(() => trainingStep(epoch, batch));
        lossSum += result.loss;
        correct += result.correct;
        options.onProgress?.({ epoch, epochs, batch: batch + 1, batches: batchesPerEpoch, loss: lossSum / (batch + 1) });
      }
      const stats: EpochStats = {
        epoch,
        loss: lossSum / batchesPerEpoch,
        accuracy: correct / data.count,
        seconds: (Date.now() - started) / 1000,
        lr: optimizer.lr,
        ...(validation === undefined ? {} : { validation: evaluate(model, validation) }),
      };
      history.push(stats);
      for (const h of hooks) h.afterEpoch?.(stats, model);
      options.onEpoch?.(stats);
    }
  } finally {
    batches.close();
    session?.close();
    optimizer.lr = baseLr;
  }
  return history;
}

function countCorrect(logits: Tensor, labels: ArrayLike<number>): number {
  const [rows, classes] = logits.shape as [number, number];
  const d = logits.data;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (d[r * classes + c]! > d[r * classes + best]!) best = c;
    if (best === labels[r]) correct++;
  }
  return correct;
}

/** What `evaluate` returns. */
export interface Evaluation {
  /** Mean loss per sample (cross-entropy unless another loss is given). */
  readonly loss: number;
  /** Fraction of samples whose arg-max class is the label, in [0, 1]. */
  readonly accuracy: number;
  /** Number of correctly classified samples. */
  readonly correct: number;
  /** Number of samples evaluated. */
  readonly count: number;
}

/** Mean loss and accuracy on a data set, in evaluation mode and without building a graph. */
export function evaluate(model: Module, data: Dataset, options: { batchSize?: number; loss?: (logits: Var, labels: Labels) => Var } = {}): Evaluation {
  const batchSize = options.batchSize ?? 1000;
  checkPositiveInt('batchSize', batchSize);
  const lossFn = options.loss ?? crossEntropy;
  const wasTraining = model.training;
  model.eval();
  let lossSum = 0;
  let correct = 0;
  const order = new Int32Array(data.count);
  for (let i = 0; i < data.count; i++) order[i] = i;
  // On 'wasm-simd', each batch's tensors live in the kernels' memory until the next batch (no copies).
  const batches = activeSimd()?.arena.region() ?? null;
  try {
    noGrad(() => {
      for (let start = 0; start < data.count; start += batchSize) {
        const end = Math.min(start + batchSize, data.count);
        const evaluateBatch = (): void => {
          const { x, y } = gatherBatch(data, order, start, end);
          const logits = model.forward(constant(x));
          lossSum += lossFn(logits, y).value.item() * (end - start);
          correct += countCorrect(logits.value, y);
        };
        if (batches === null) evaluateBatch();
        else batches.run(evaluateBatch);
      }
    });
  } finally {
    batches?.close();
  }
  model.train(wasTraining);
  const count = data.count;
  return { loss: count === 0 ? 0 : lossSum / count, accuracy: count === 0 ? 0 : correct / count, correct, count };
}

/** Logits [count, classes] for `count` samples stored row-major in `x`. */
export function predict(model: Module, x: Float32Array, count: number): Tensor {
  if (!Number.isSafeInteger(count) || count < 0 || (count > 0 && x.length % count !== 0)) {
    throw new ShapeError(`predict: ${x.length} input values cannot be split into ${count} samples`);
  }
  const features = count === 0 ? 0 : x.length / count;
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => model.forward(constant(new Tensor(x, [count, features]))).value);
  } finally {
    model.train(wasTraining);
  }
}

/** The predicted class of each sample. */
export function predictClasses(model: Module, x: Float32Array, count: number): Int32Array {
  const logits = predict(model, x, count);
  const [rows, classes] = logits.shape as [number, number];
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits.data[r * classes + c]! > logits.data[r * classes + best]!) best = c;
    out[r] = best;
  }
  return out;
}
