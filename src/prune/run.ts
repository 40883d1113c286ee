import type { Dataset } from '../data/dataset.ts';
import { ConfigError } from '../errors.ts';
import { cloneModel } from '../nn/clone.ts';
import { distillationLoss } from '../nn/distillation.ts';
import { OPTIMIZERS } from '../nn/optim/make.ts';
import type { Sequential } from '../nn/sequential.ts';
import type { EpochStats, ProgressEvent } from '../nn/train.ts';
import { Rng } from '../tensor/rng.ts';
import { LR_SCHEDULES, PRUNE_CONFIG_KEYS, type PruneConfig } from './config.ts';
import { RunContext } from './context.ts';
import { type Criterion, criterionByName } from './criteria.ts';
import { formatGranularity, nmSparsity } from './granularity.ts';
import type { MethodOptions, PruningMethod, RandomStreams } from './method.ts';
import { resolveOptions } from './options.ts';
import { pruningMethod, pruningMethods } from './registry.ts';
import { checkSelectionSettings } from './select.ts';
import type { ShrinkReport } from './shrink.ts';
import { checkSparsity } from './targets.ts';

/*
 * One entry point for every pruning and sparse-training method, so the CLI, comparisons and users run
 * them all the same way. This file is orchestration only: validate the common settings and the method's
 * options, build the context, let the method run, collect the result. What each method does lives in its
 * own file under methods/ (`sparsegrad prune --help` lists them all, with their options).
 */

/** Progress of a pruning run, for command lines and reports. */
export interface PruneCallbacks {
  onEpoch?: (stats: EpochStats, phase: string) => void;
  onProgress?: (event: ProgressEvent, phase: string) => void;
  /** Human-readable notes on what the method does, as it goes. */
  onNote?: (text: string) => void;
}

/** What a pruning run returns. */
export interface PruneResult {
  /** The pruned model: the one passed in, changed in place, unless the method re-initialised it (SNIP). */
  readonly model: Sequential;
  /** Epoch statistics of every training phase, in order. */
  readonly history: { phase: string; stats: EpochStats }[];
  /** Fraction of the prunable weights that are zero at the end, or removed with their neuron (shrink). */
  readonly sparsity: number;
  readonly notes: string[];
  /** With neuron (filter) or channel granularity: what shrinking removed, and parameters and FLOPs before and after. */
  readonly shrink?: ShrinkReport;
}

/**
 * Checks a pruning config without running it: the method, criterion and options exist, the sparsity, epochs,
 * granularity, scope and overrides fit the method. Studies call it for every run of a grid before any run
 * starts (or any journal is written), so a bad cell is refused up front. Throws ConfigError naming the problem.
 */
export function checkPruneConfig(config: PruneConfig): { method: PruningMethod; options: MethodOptions; criterion: Criterion } {
  const method = pruningMethod(config.method);
  checkCommonConfig(config, method.name);
  const options = resolveOptions(method, config.options);
  const criterion = criterionByName(config.criterion ?? 'magnitude');
  const { granularity } = config;
  if (method.sparsity !== 'outcome' && granularity.kind !== 'nm') checkSparsity(config.sparsity);
  if ((method.minEpochs ?? 0) > config.epochs) {
    const needed = method.minEpochs === 1 ? 'one epoch' : `${method.minEpochs} epochs`;
    throw new ConfigError(`method '${method.name}' prunes while training, so it needs at least ${needed} (got epochs = ${config.epochs})`);
  }
  if (granularity.kind !== 'weight' && method.structured !== true) {
    const structured = pruningMethods().filter((m) => m.structured === true).map((m) => m.name);
    throw new ConfigError(`granularity ${formatGranularity(granularity)} is supported by the ${structured.join(', ')} methods, not '${method.name}'`);
  }
  checkSelectionSettings(granularity, config.scope, config.overrides);
  if (method.sparsity === 'outcome' && config.overrides !== undefined && Object.keys(config.overrides).length > 0) {
    throw new ConfigError(`method '${method.name}' has no target sparsity (its sparsity is the outcome of its threshold), so per-layer sparsity overrides cannot apply; use exclude to leave a layer dense`);
  }
  method.validate?.(config, options);
  return { method, options, criterion };
}

/**
 * Prunes `model` with the method `config.method` (see `pruningMethods()`), training on `data.train`
 * where the method trains. Throws ConfigError, naming the setting, for an unknown method, criterion or
 * setting, a method option that is missing, unknown or out of range, or a combination the method does
 * not support (e.g. N:M with a gradual schedule).
 *
 * Works on `model` itself: the returned `model` is the same object, pruned and trained in place, unless the
 * method re-initialises it (snip) or neuron pruning shrinks it; clone it first (`cloneModel`) to keep the
 * original.
 *
 * @example
 * ```ts
 * import { Adam, evaluate, fit, mlp, runPruning } from 'sparsegrad';
 * import { loadDigits } from 'sparsegrad/node';
 *
 * const { train, test } = loadDigits();
 * const model = mlp([784, 100, 10], { seed: 0 });
 * fit(model, train, { epochs: 2, batchSize: 128, optimizer: new Adam(model.parameters(), { lr: 1e-3 }), seed: 0 });
 * const result = runPruning(model, { train }, {
 *   method: 'iterative', criterion: 'taylor', sparsity: 0.9, scope: 'global', granularity: { kind: 'weight' },
 *   epochs: 3, batchSize: 128, lr: 1e-3, seed: 0, options: { rounds: 3 },
 * });
 * console.log(result.sparsity, evaluate(result.model, test).accuracy); // 0.9 ~0.90
 * ```
 */
export function runPruning(model: Sequential, data: { train: Dataset; validation?: Dataset }, config: PruneConfig, callbacks: PruneCallbacks = {}): PruneResult {
  const { method, options, criterion } = checkPruneConfig(config);
  const { granularity } = config;

  const notes: string[] = [];
  const note = (text: string): void => {
    notes.push(text);
    callbacks.onNote?.(text);
  };
  const history: { phase: string; stats: EpochStats }[] = [];
  const random = forkRandomStreams(config.seed);
  const loss = config.distill === undefined ? undefined : distillationLoss(cloneModel(model), config.distill);
  if (config.distill !== undefined) note(`distillation: retraining against the unpruned model's soft predictions (α ${config.distill.alpha ?? 0.5}, T ${config.distill.temperature ?? 4})`);
  const sparsity = granularity.kind === 'nm' ? nmSparsity(granularity) : config.sparsity;
  const ctx = new RunContext({ model, data, config, criterion, sparsity, random, loss, callbacks, history, note });
  method.run(ctx, options);
  ctx.shrink(); // a no-op unless neuron pruning left dead neurons the method did not remove itself
  return { model: ctx.model, history, sparsity: ctx.currentSparsity(), notes, ...(ctx.shrinkReport === null ? {} : { shrink: ctx.shrinkReport }) };
}

/**
 * One seeded stream per purpose, forked from the run's seed in a fixed order (a new purpose goes at the
 * end, so the existing streams keep their bits). Drawing more scores — a gradient pass, the `random`
 * criterion — then never shifts the training batch order, so every criterion is compared on the same batches.
 */
export function forkRandomStreams(seed: number): RandomStreams {
  const root = new Rng(seed);
  const order = root.fork();
  const scores = root.fork();
  const method = root.fork();
  return { order, scores, method };
}

/** Checks the settings every method shares (method options are the method's own specs' business). */
function checkCommonConfig(config: PruneConfig, methodName: string): void {
  for (const key of Object.keys(config)) {
    if (PRUNE_CONFIG_KEYS.has(key)) continue;
    const owner = key in pruningMethod(methodName).options ? ` it is an option of method '${methodName}': pass it as options: { ${key}: ... }` : '';
    throw new ConfigError(`unknown pruning setting '${key}'${owner === '' ? ` (settings: ${[...PRUNE_CONFIG_KEYS].join(', ')}; a method's own options go in options: { ... })` : `;${owner}`}`);
  }
  if (!Number.isSafeInteger(config.epochs) || config.epochs < 0) throw new ConfigError(`epochs must be a non-negative integer, got ${config.epochs}`);
  if (config.lrSchedule !== undefined && !(LR_SCHEDULES as readonly string[]).includes(config.lrSchedule)) {
    throw new ConfigError(`unknown lrSchedule '${String(config.lrSchedule)}' (expected one of ${LR_SCHEDULES.join(', ')})`);
  }
  if (config.optimizer !== undefined && !(OPTIMIZERS as readonly string[]).includes(config.optimizer)) {
    throw new ConfigError(`unknown optimizer '${String(config.optimizer)}' (expected one of ${OPTIMIZERS.join(', ')})`);
  }
}
