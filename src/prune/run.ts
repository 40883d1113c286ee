import type { Dataset } from '../data/dataset.ts';
import { ConfigError } from '../errors.ts';
import { buildModel } from '../nn/build.ts';
import { cloneModel } from '../nn/clone.ts';
import { distillationLoss, type DistillationOptions } from '../nn/distillation.ts';
import type { Sequential } from '../nn/sequential.ts';
import { Adam, AdamW } from '../nn/optim/adam.ts';
import type { Optimizer } from '../nn/optim/optimizer.ts';
import { constantLR, cosineLR, type LRSchedule } from '../nn/optim/schedule.ts';
import { SGD } from '../nn/optim/sgd.ts';
import { fit, type EpochStats, type ProgressEvent, type TrainingHooks } from '../nn/train.ts';
import { Rng } from '../tensor/rng.ts';
import { needsGradients, type CriterionName } from './criteria.ts';
import { collectGradientStats } from './gradient-stats.ts';
import { formatGranularity, nmSparsity, type Granularity } from './granularity.ts';
import { dnsHook } from './methods/dns.ts';
import { gradualPruningHook } from './methods/gradual.ts';
import { riglHook } from './methods/rigl.ts';
import { hardThresholdHook, l1ProximalHook, topKProjectionHook } from './methods/thresholding.ts';
import { maskZeros, pruneTargets } from './prune-step.ts';
import { gradualSchedule, iterativeSparsities } from './schedule.ts';
import type { Scope } from './select.ts';
import { shrinkNeurons } from './shrink.ts';
import { checkSparsity, findTargets, targetsSparsity, type PruneTarget } from './targets.ts';

/*
 * One entry point for every pruning and sparse-training method, so the CLI, `compare` and users all run
 * them the same way. The model is changed in place (except SNIP, which restarts from a fresh
 * initialisation); the result carries the model to use.
 *
 *   oneshot    score once, prune to the target, fine-tune `epochs`            (Han et al. 2015, one round)
 *   iterative  `rounds` × (score, prune a fraction of what remains, retrain)   (Han et al. 2015)
 *   gradual    prune on a cubic schedule while training `epochs`               (Zhu & Gupta 2017)
 *   snip       re-initialise, prune by connection sensitivity, train `epochs`  (Lee et al. 2019)
 *   threshold  hard-threshold |w| < q·std after every step (sparsity follows)  (Han et al. 2015 style)
 *   topk       keep the top-k |w| after every step: an exact L0 budget         (iterative hard thresholding)
 *   l1         soft-threshold after every step (L1 proximal step)              (ISTA)
 *   dns        prune and splice with two thresholds while training            (Guo et al. 2016)
 *   rigl       fixed sparsity, drop by |w| and regrow by |∂L/∂w|              (Evci et al. 2020)
 */
export const METHODS = ['oneshot', 'iterative', 'gradual', 'snip', 'threshold', 'topk', 'l1', 'dns', 'rigl'] as const;
export type MethodName = (typeof METHODS)[number];

/** Methods that rank weights with the configured criterion (the others have their own rule). */
export const CRITERION_METHODS: readonly MethodName[] = ['oneshot', 'iterative', 'gradual'];
/** Methods whose sparsity is the outcome of a threshold rather than a target. */
export const THRESHOLD_METHODS: readonly MethodName[] = ['threshold', 'l1'];

export function parseMethod(name: string): MethodName {
  if (!(METHODS as readonly string[]).includes(name)) throw new ConfigError(`unknown method '${name}' (expected one of ${METHODS.join(', ')})`);
  return name as MethodName;
}

/** Learning-rate schedules a pruning run accepts (see `PruneConfig.lrSchedule`). */
export const LR_SCHEDULES = ['constant', 'cosine', 'hold-cosine'] as const;
export type LrScheduleName = (typeof LR_SCHEDULES)[number];

export interface PruneConfig {
  method: MethodName;
  criterion: CriterionName;
  /** Target fraction of pruned weights (ignored by threshold and l1, fixed by N:M). */
  sparsity: number;
  scope: Scope;
  granularity: Granularity;
  exclude?: readonly string[];
  overrides?: Readonly<Record<string, number>>;
  /** Training epochs during or after pruning (the epoch budget every method gets). */
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer?: 'adam' | 'adamw' | 'sgd';
  /**
   * Learning-rate schedule over the pruning run (default constant). 'cosine' anneals over the whole run;
   * 'hold-cosine' holds the rate while a gradual schedule still changes masks, then anneals (for other
   * methods it equals 'cosine').
   */
  lrSchedule?: LrScheduleName;
  seed: number;
  /** Mini-batches for gradient-based scores (default 10). */
  gradientBatches?: number;
  /** Rounds of iterative pruning (default 3). */
  rounds?: number;
  /** Gradual: steps between mask updates (default: 1/20 of the pruning phase). */
  frequency?: number;
  /** Gradual/RigL: fraction of training at which the final sparsity is reached (default 0.75). */
  endFraction?: number;
  /** threshold: q in τ = q·std(w). l1: λ. Required for those methods. */
  threshold?: number;
  /** Neuron granularity: rebuild the model with the pruned neurons removed (default true). */
  shrink?: boolean;
  /** Retrain with knowledge distillation from the unpruned model as teacher (Hinton et al. 2015). */
  distill?: DistillationOptions;
}

export interface PruneCallbacks {
  onEpoch?: (stats: EpochStats, phase: string) => void;
  onProgress?: (event: ProgressEvent, phase: string) => void;
  /** Human-readable notes on what the method does, as it goes. */
  onNote?: (text: string) => void;
}

export interface PruneResult {
  readonly model: Sequential;
  readonly history: { phase: string; stats: EpochStats }[];
  /** Sparsity of the prunable weights at the end. */
  readonly sparsity: number;
  readonly notes: string[];
}

export function runPruning(model: Sequential, data: { train: Dataset; validation?: Dataset }, config: PruneConfig, callbacks: PruneCallbacks = {}): PruneResult {
  validateConfig(config);
  const notes: string[] = [];
  const note = (text: string): void => {
    notes.push(text);
    callbacks.onNote?.(text);
  };
  const history: { phase: string; stats: EpochStats }[] = [];
  const rng = new Rng(config.seed);
  const { method, criterion, scope, granularity } = config;
  let working = model;
  if (method === 'snip') {
    working = buildModel(model.spec(), new Rng(config.seed));
    note('snip: re-initialised the weights (SNIP prunes at initialisation)');
  }
  let targets = findTargets(working, config.exclude === undefined ? {} : { exclude: config.exclude });
  const loss = config.distill === undefined ? undefined : distillationLoss(cloneModel(model), config.distill);
  if (config.distill !== undefined) note(`distillation: retraining against the unpruned model's soft predictions (α ${config.distill.alpha ?? 0.5}, T ${config.distill.temperature ?? 4})`);
  const sparsity = granularity.kind === 'nm' ? nmSparsity(granularity) : config.sparsity;
  const stepOptions = { criterion, scope, granularity, rng, ...(config.overrides === undefined ? {} : { overrides: config.overrides }) };
  const batchesPerEpoch = Math.ceil(data.train.count / config.batchSize);

  const train = (epochs: number, phase: string, hooks: TrainingHooks[] = [], pruningEpochs = 0): void => {
    if (epochs <= 0) return;
    const optimizer = makeOptimizer(working, config);
    const schedule: LRSchedule =
      config.lrSchedule === 'cosine' ? cosineLR(epochs)
      : config.lrSchedule === 'hold-cosine' ? cosineLR(epochs, 0, pruningEpochs < epochs ? pruningEpochs : 0)
      : constantLR;
    fit(working, data.train, {
      epochs,
      batchSize: config.batchSize,
      optimizer,
      schedule,
      seed: rng.nextUint32(),
      hooks,
      ...(loss === undefined ? {} : { loss }),
      ...(data.validation === undefined ? {} : { validation: data.validation }),
      onEpoch: (stats) => {
        history.push({ phase, stats });
        callbacks.onEpoch?.(stats, phase);
      },
      onProgress: (event) => callbacks.onProgress?.(event, phase),
    });
  };
  const gradientStats = (c: CriterionName) =>
    needsGradients(c) ? collectGradientStats(working, targets, data.train, { batches: config.gradientBatches ?? 10, batchSize: config.batchSize, seed: rng.nextUint32() }) : null;

  switch (method) {
    case 'oneshot': {
      pruneTargets(targets, sparsity, { ...stepOptions, stats: gradientStats(criterion) });
      note(`oneshot: pruned to ${pct(targetsSparsity(targets))} by ${criterion} (${scope}, ${formatGranularity(granularity)}), fine-tuning ${config.epochs} epochs`);
      targets = maybeShrink(working, targets, config, note);
      train(config.epochs, 'fine-tune');
      break;
    }
    case 'iterative': {
      const rounds = config.rounds ?? 3;
      const levels = iterativeSparsities(sparsity, rounds);
      const perRound = distributeEpochs(config.epochs, rounds);
      levels.forEach((level, r) => {
        pruneTargets(targets, level, { ...stepOptions, stats: gradientStats(criterion) });
        note(`iterative round ${r + 1}/${rounds}: pruned to ${pct(targetsSparsity(targets))}, retraining ${perRound[r]} epochs`);
        train(perRound[r]!, `round ${r + 1}`);
      });
      targets = maybeShrink(working, targets, config, note);
      break;
    }
    case 'gradual': {
      const total = config.epochs * batchesPerEpoch;
      const endStep = Math.max(1, Math.floor(total * (config.endFraction ?? 0.75)));
      const frequency = config.frequency ?? Math.max(1, Math.floor(endStep / 20));
      const schedule = gradualSchedule({ finalSparsity: sparsity, beginStep: 1, endStep, frequency });
      const hook = gradualPruningHook(targets, schedule, stepOptions);
      note(`gradual: cubic schedule to ${pct(sparsity)} by step ${endStep} of ${total}, masks updated every ${frequency} steps by ${criterion}`);
      train(config.epochs, 'gradual', [hook], endStep / batchesPerEpoch);
      targets = maybeShrink(working, targets, config, note);
      break;
    }
    case 'snip': {
      pruneTargets(targets, sparsity, { ...stepOptions, criterion: 'snip', stats: gradientStats('snip') });
      note(`snip: pruned the fresh network to ${pct(targetsSparsity(targets))} by connection sensitivity, training ${config.epochs} epochs`);
      train(config.epochs, 'train');
      break;
    }
    case 'threshold': {
      note(`threshold: |w| < ${config.threshold}·std zeroed after every step for ${config.epochs} epochs`);
      train(config.epochs, 'threshold', [hardThresholdHook(targets, { stdMultiple: config.threshold! })]);
      maskZeros(targets);
      break;
    }
    case 'l1': {
      note(`l1: soft-thresholding with λ = ${config.threshold} after every step for ${config.epochs} epochs`);
      train(config.epochs, 'l1', [l1ProximalHook(targets, config.threshold!)]);
      maskZeros(targets);
      break;
    }
    case 'topk': {
      note(`topk: projecting onto the ${pct(1 - sparsity)} largest weights (${scope}) after every step for ${config.epochs} epochs`);
      train(config.epochs, 'topk', [topKProjectionHook(targets, { sparsity, scope })]);
      maskZeros(targets);
      break;
    }
    case 'dns': {
      const hook = dnsHook(targets, { sparsity, totalSteps: config.epochs * batchesPerEpoch, rng: rng.fork() });
      note(`dns: prune-and-splice towards ${pct(sparsity)} for ${config.epochs} epochs`);
      train(config.epochs, 'dns', [hook]);
      hook.finalize();
      break;
    }
    case 'rigl': {
      pruneTargets(targets, sparsity, { ...stepOptions, criterion: 'magnitude' });
      const hook = riglHook(targets, { totalSteps: config.epochs * batchesPerEpoch, ...(config.endFraction === undefined ? {} : { endFraction: config.endFraction }) });
      note(`rigl: magnitude-pruned to ${pct(targetsSparsity(targets))}, then drop/regrow while training ${config.epochs} epochs`);
      train(config.epochs, 'rigl', [hook]);
      note(`rigl: ${hook.updates.length} connection updates`);
      break;
    }
  }
  return { model: working, history, sparsity: targetsSparsity(targets), notes };
}

function validateConfig(config: PruneConfig): void {
  if (!(METHODS as readonly string[]).includes(config.method)) parseMethod(config.method);
  if (!THRESHOLD_METHODS.includes(config.method) && config.granularity.kind !== 'nm') checkSparsity(config.sparsity);
  if (!Number.isSafeInteger(config.epochs) || config.epochs < 0) throw new ConfigError(`epochs must be a non-negative integer, got ${config.epochs}`);
  if (config.epochs === 0 && !['oneshot', 'iterative'].includes(config.method)) {
    throw new ConfigError(`method '${config.method}' prunes while training, so it needs at least one epoch (got epochs = 0)`);
  }
  if (THRESHOLD_METHODS.includes(config.method) && config.threshold === undefined) {
    throw new ConfigError(`method '${config.method}' needs a threshold (${config.method === 'l1' ? 'λ' : 'q, as in τ = q·std'}); use chooseThreshold to pick one by a validation sweep`);
  }
  const structured = config.granularity.kind !== 'weight';
  if (structured && !['oneshot', 'iterative', 'gradual'].includes(config.method)) {
    throw new ConfigError(`granularity ${formatGranularity(config.granularity)} is supported by the oneshot, iterative and gradual methods, not '${config.method}'`);
  }
  if (config.granularity.kind === 'nm' && config.method === 'gradual') {
    throw new ConfigError('N:M patterns have a fixed sparsity and cannot follow a gradual schedule; use oneshot or iterative');
  }
  if (config.lrSchedule !== undefined && !(LR_SCHEDULES as readonly string[]).includes(config.lrSchedule)) {
    throw new ConfigError(`unknown lrSchedule '${String(config.lrSchedule)}' (expected one of ${LR_SCHEDULES.join(', ')})`);
  }
}

function makeOptimizer(model: Sequential, config: PruneConfig): Optimizer {
  const params = model.parameters();
  switch (config.optimizer ?? 'adam') {
    case 'adam': return new Adam(params, { lr: config.lr });
    case 'adamw': return new AdamW(params, { lr: config.lr });
    case 'sgd': return new SGD(params, { lr: config.lr, momentum: 0.9 });
    default: throw new ConfigError(`unknown optimizer '${String(config.optimizer)}' (expected adam, adamw or sgd)`);
  }
}

function maybeShrink(model: Sequential, targets: PruneTarget[], config: PruneConfig, note: (t: string) => void): PruneTarget[] {
  if (config.granularity.kind !== 'neuron' || config.shrink === false) return targets;
  const removed = shrinkNeurons(model);
  note(`shrink: removed ${removed.map((r) => `${r.removed} of ${r.before} neurons in ${r.name}`).join(', ')}`);
  return findTargets(model, config.exclude === undefined ? {} : { exclude: config.exclude });
}

/** Splits an epoch budget over rounds as evenly as possible (earlier rounds get the remainder). */
function distributeEpochs(epochs: number, rounds: number): number[] {
  const base = Math.floor(epochs / rounds);
  return Array.from({ length: rounds }, (_, r) => base + (r < epochs - base * rounds ? 1 : 0));
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}
