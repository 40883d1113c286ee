import { subset, type Dataset } from '../data/dataset.ts';
import { buildModel } from '../nn/build.ts';
import { Conv2d } from '../nn/conv.ts';
import { makeOptimizer } from '../nn/optim/make.ts';
import { constantLR, cosineLR, type LRSchedule } from '../nn/optim/schedule.ts';
import type { Sequential } from '../nn/sequential.ts';
import { fit, type EpochStats, type LossFn, type TrainingHooks } from '../nn/train.ts';
import { Rng } from '../tensor/rng.ts';
import { criterionByName, importanceScores, type Criterion } from './criteria.ts';
import { collectGradientStats, GradientStats, gradientStatsHook } from './gradient-stats.ts';
import type { PruningContext, RandomStreams, ScoreOptions, SelectStepOptions, TrainPhaseOptions } from './method.ts';
import type { PruneConfig } from './config.ts';
import type { PruneCallbacks } from './run.ts';
import { applyMaskPlan, computeMasks, type MaskPlan } from './select.ts';
import { shrinkModel, type ShrinkReport } from './shrink.ts';
import { findTargets, type PruneTarget } from './targets.ts';

/** Everything `runPruning` has prepared for one run. */
export interface ContextSetup {
  readonly model: Sequential;
  readonly data: { readonly train: Dataset; readonly validation?: Dataset };
  readonly config: PruneConfig;
  readonly criterion: Criterion;
  readonly sparsity: number;
  readonly random: RandomStreams;
  /** The training loss (distillation), or undefined for cross-entropy. */
  readonly loss: LossFn | undefined;
  readonly callbacks: PruneCallbacks;
  /** Where epoch statistics go, by phase. */
  readonly history: { phase: string; stats: EpochStats }[];
  readonly note: (text: string) => void;
}

/** The `PruningContext` of one run: the model, its targets, training, scoring and selection with the run's settings. */
export class RunContext implements PruningContext {
  readonly config: PruneConfig;
  readonly criterion: Criterion;
  readonly sparsity: number;
  readonly random: RandomStreams;
  readonly batchesPerEpoch: number;
  private working: Sequential;
  private currentTargets: PruneTarget[];
  private shrunk = false;
  /** What `shrink` removed, and the model's parameters and FLOPs before and after; null until it has run. */
  shrinkReport: ShrinkReport | null = null;
  /** The targets' weight count before any neuron was removed: what a shrunk model's sparsity is measured against. */
  private readonly initialWeights: number;

  constructor(private readonly setup: ContextSetup) {
    this.config = setup.config;
    this.criterion = setup.criterion;
    this.sparsity = setup.sparsity;
    this.random = setup.random;
    this.batchesPerEpoch = Math.ceil(setup.data.train.count / setup.config.batchSize);
    this.working = setup.model;
    this.currentTargets = this.findTargets();
    this.initialWeights = this.currentTargets.reduce((n, t) => n + t.weight.value.size, 0);
  }

  get model(): Sequential {
    return this.working;
  }

  get targets(): readonly PruneTarget[] {
    return this.currentTargets;
  }

  train(epochs: number, phase: string, hooks: readonly TrainingHooks[] = [], options: TrainPhaseOptions = {}): void {
    if (epochs <= 0) return;
    const { config } = this.setup;
    const maskEpochs = options.maskEpochs ?? 0;
    const schedule: LRSchedule =
      config.lrSchedule === 'cosine' ? cosineLR(epochs)
      : config.lrSchedule === 'hold-cosine' ? cosineLR(epochs, 0, maskEpochs < epochs ? maskEpochs : 0)
      : constantLR;
    this.fitPhase(this.setup.data.train, epochs, phase, hooks, schedule, this.random.order.nextUint32());
  }

  warmUp(stats: GradientStats): void {
    const { config, data } = this.setup;
    const steps = config.gradientBatches ?? 10;
    const size = Math.min(config.batchSize, data.train.count);
    const rng = this.random.scores;
    const indices = Int32Array.from({ length: steps * size }, () => rng.int(data.train.count));
    // One epoch over `steps` mini-batches of `size` random samples is exactly `steps` optimizer steps.
    this.fitPhase(subset(data.train, indices, `${data.train.name} (score warm-up)`), 1, 'score warm-up', [gradientStatsHook(stats)], constantLR, rng.nextUint32(), size);
  }

  /** One training phase with the run's optimizer, loss and callbacks. */
  private fitPhase(train: Dataset, epochs: number, phase: string, hooks: readonly TrainingHooks[], schedule: LRSchedule, seed: number, batchSize = this.config.batchSize): void {
    const { config, data, loss, callbacks, history } = this.setup;
    fit(this.working, train, {
      epochs,
      batchSize,
      optimizer: makeOptimizer(config.optimizer ?? 'adam', this.working.parameters(), config.lr),
      schedule,
      seed,
      hooks,
      ...(loss === undefined ? {} : { loss }),
      ...(data.validation === undefined ? {} : { validation: data.validation }),
      onEpoch: (stats) => {
        history.push({ phase, stats });
        callbacks.onEpoch?.(stats, phase);
      },
      onProgress: (event) => callbacks.onProgress?.(event, phase),
    });
  }

  gradientStats(criterion: Criterion = this.criterion): GradientStats | null {
    if (!criterion.needsGradients) return null;
    if (criterion.fromTraining === true) {
      const stats = GradientStats.forTargets(this.currentTargets);
      this.warmUp(stats);
      return stats;
    }
    const { config, data } = this.setup;
    return collectGradientStats(this.working, this.currentTargets, data.train, {
      batches: config.gradientBatches ?? 10,
      batchSize: config.batchSize,
      seed: this.random.scores.nextUint32(),
    });
  }

  scores(options: ScoreOptions = {}): Map<PruneTarget, Float64Array> {
    const criterion = options.criterion === undefined ? this.criterion : criterionByName(options.criterion);
    const stats = options.stats !== undefined ? options.stats : this.gradientStats(criterion);
    return new Map(this.currentTargets.map((t) => [t, importanceScores(criterion.name, t, stats, this.random.scores, this.config.granularity)] as const));
  }

  select(scores: ReadonlyMap<PruneTarget, Float64Array>, sparsity: number, options: SelectStepOptions = {}): MaskPlan {
    const { scope, granularity, overrides } = this.config;
    return computeMasks(this.currentTargets, scores, { sparsity, scope, granularity, ...(overrides === undefined ? {} : { overrides }), ...options });
  }

  pruneTo(sparsity: number, options: ScoreOptions & Pick<SelectStepOptions, 'overrideAt'> = {}): MaskPlan {
    const { overrideAt, ...scoring } = options;
    const plan = this.select(this.scores(scoring), sparsity, overrideAt === undefined ? {} : { overrideAt });
    applyMaskPlan(plan);
    return plan;
  }

  reinitialize(): void {
    this.working = buildModel(this.working.spec(), new Rng(this.config.seed));
    this.currentTargets = this.findTargets();
  }

  shrink(): void {
    const { kind } = this.config.granularity;
    if (this.shrunk || (kind !== 'neuron' && kind !== 'channel') || this.config.shrink === false) return;
    this.shrunk = true;
    const report = shrinkModel(this.working);
    this.shrinkReport = report;
    const units = (name: string): string => (this.working.layers[Number(name.split('.')[1])] instanceof Conv2d ? 'filters' : 'neurons');
    const ratio = (a: number, b: number): string => `${b} → ${a} (${(b / Math.max(a, 1)).toFixed(2)}× smaller)`;
    this.note(`shrink: removed ${report.layers.map((r) => `${r.removed} of ${r.before} ${units(r.name)} in ${r.name}`).join(', ')}; ` +
      `parameters ${ratio(report.parameters.after, report.parameters.before)}, FLOPs per sample ${ratio(report.flops.after, report.flops.before)}`);
    this.currentTargets = this.findTargets();
  }

  currentSparsity(): number {
    // After neuron removal the targets are smaller: count the removed weights as pruned.
    let size = 0;
    let zeros = 0;
    for (const t of this.currentTargets) {
      const w = t.weight.value.data;
      size += w.length;
      for (let i = 0; i < w.length; i++) if (w[i] === 0) zeros++;
    }
    return this.initialWeights === 0 ? 0 : (zeros + this.initialWeights - size) / this.initialWeights;
  }

  note(text: string): void {
    this.setup.note(text);
  }

  private findTargets(): PruneTarget[] {
    const { exclude } = this.config;
    return findTargets(this.working, exclude === undefined ? {} : { exclude });
  }
}
