import type { Dataset } from '../data/dataset.ts';
import { ConfigError } from '../errors.ts';
import type { Sequential } from '../nn/sequential.ts';
import { checkPruneConfig, pruningMethod, type PruneConfig } from '../prune/index.ts';
import { currentBackend, type Backend } from '../tensor/backend.ts';
import { modelState } from './model-state.ts';
import { runTasksInline, stableJson, uniqueTasks, type DenseResult, type StudyTask, type TaskResult, type TrialResult } from './tasks.ts';
import { planSummary, type ValidationPlan, type ValidationSource } from './validation.ts';

/*
 * Choosing a pruning setting by grid search on validation data the model never saw (a ValidationPlan:
 * its holdout, a separate directory, or K folds): every setting of value × fine-tune epochs × learning rate
 * runs on every fold, and the setting is chosen by its mean validation accuracy — the sparsest within a
 * tolerance of the dense model's (default), or the most accurate within a size budget. The test set takes
 * no part in the choice.
 */

/** The grid: values of the swept quantity × epochs × learning rates. */
export interface SweepGrid {
  /**
   * The method's sweep option (threshold: q, l1: λ) for methods that declare one, else target sparsities.
   * Default: the method's own sweep candidates (required for other methods).
   */
  readonly values?: readonly number[];
  /** Fine-tuning epochs to try (default: the config's). */
  readonly epochs?: readonly number[];
  /** Learning rates to try (default: the config's). */
  readonly lrs?: readonly number[];
}

/** How the setting is chosen. */
export type SweepObjective =
  /** The sparsest setting whose mean validation accuracy is at least the dense model's minus `tolerance` (a fraction). */
  | { readonly kind: 'sparsest'; readonly tolerance: number }
  /** The most accurate setting whose stored weights take at most `maxBytes` bytes (see `storedBytes`). */
  | { readonly kind: 'best-at-size'; readonly maxBytes: number };

/** One setting of the grid with its scores (means over the folds). */
export interface SweepRow {
  /** The swept value: a sparsity, or a value of the method's sweep option (q, λ). */
  readonly value: number;
  readonly epochs: number;
  readonly lr: number;
  /** Mean sparsity reached over the folds. */
  readonly sparsity: number;
  /** Largest stored size over the folds, in bytes. */
  readonly bytes: number;
  /** Mean validation accuracy over the folds. */
  readonly accuracy: number;
  /** Sample standard deviation of the validation accuracy over the folds (0 for one fold). */
  readonly accuracyStd: number;
  readonly foldAccuracies: readonly number[];
}

/** What a sweep found. */
export interface SweepResult {
  /** The chosen row, or null if no setting meets the objective. */
  readonly chosen: SweepRow | null;
  /** 'sparsity', or the name of the method option swept ('threshold'). */
  readonly swept: string;
  /** Mean validation accuracy of the dense model(s) over the folds, and its standard deviation. */
  readonly baseline: number;
  readonly baselineStd: number;
  readonly objective: SweepObjective;
  /** Kept for the 'sparsest' objective (its tolerance), else 0. */
  readonly tolerance: number;
  readonly validation: { readonly source: ValidationSource; readonly folds: number; readonly description: string; readonly validationSamples: number[] };
  readonly rows: SweepRow[];
}

/** A sweep as tasks, and how to turn their results into a SweepResult. */
export interface SweepStudy {
  readonly tasks: StudyTask[];
  /** The config of each setting, in row order (what a final run of the chosen one uses). */
  readonly settings: readonly { readonly value: number; readonly epochs: number; readonly lr: number; readonly config: PruneConfig }[];
  assemble(results: ReadonlyMap<string, TaskResult>): SweepResult;
}

/**
 * Plans a sweep of `config`'s method over `grid` on `plan`'s folds. Throws ConfigError for an empty grid, a
 * bad objective, or a plan without folds.
 */
export function planSweep(plan: ValidationPlan, config: PruneConfig, grid: SweepGrid, objective: SweepObjective): SweepStudy {
  const method = pruningMethod(config.method);
  const option = method.sweep?.option;
  const values = grid.values ?? method.sweep?.candidates ?? [];
  const epochsList = grid.epochs ?? [config.epochs];
  const lrs = grid.lrs ?? [config.lr];
  if (values.length === 0) throw new ConfigError(`a sweep of method '${method.name}' needs at least one candidate`);
  if (epochsList.length === 0 || lrs.length === 0) throw new ConfigError('a sweep needs at least one epochs value and one learning rate');
  checkObjective(objective);
  const tooFew = epochsList.find((e) => e < (method.minEpochs ?? 0));
  if (tooFew !== undefined) throw new ConfigError(`method '${method.name}' prunes while training, so every setting needs at least ${method.minEpochs} epoch${method.minEpochs === 1 ? '' : 's'} (the grid has ${tooFew})`);
  if (plan.folds.length === 0) throw new ConfigError('a sweep needs a validation plan with at least one fold');

  const settings = values.flatMap((value) => epochsList.flatMap((epochs) => lrs.map((lr) => {
    const swept: Partial<PruneConfig> = option === undefined ? { sparsity: value } : { options: { ...config.options, [option]: value } };
    return { value, epochs, lr, config: { ...config, epochs, lr, ...swept } as PruneConfig };
  })));
  for (const s of settings) checkPruneConfig(s.config); // refused before any run starts or any journal line is written
  const folds = plan.folds.map((_, f) => f);
  const denseTasks: StudyTask[] = folds.map((f) => ({ kind: 'dense', key: `dense|fold=${f}`, label: `fold ${f + 1}/${folds.length}: dense`, fold: f }));
  const trialKey = (f: number, c: PruneConfig): string => `trial|fold=${f}|v|${stableJson(c)}`;
  const trialTasks: StudyTask[] = settings.flatMap((s) => folds.map((f) => ({
    kind: 'trial' as const,
    key: trialKey(f, s.config),
    label: `${option ?? 'sparsity'} ${s.value}, ${s.epochs} epoch${s.epochs === 1 ? '' : 's'}, lr ${s.lr}${folds.length > 1 ? `, fold ${f + 1}/${folds.length}` : ''}`,
    fold: f, config: s.config, calibrate: false, validation: true, test: false,
  })));

  return {
    tasks: uniqueTasks([...denseTasks, ...trialTasks]),
    settings,
    assemble(results) {
      const dense = folds.map((f) => (need(results, `dense|fold=${f}`) as DenseResult).validation.accuracy);
      const rows: SweepRow[] = settings.map((s) => {
        const trials = folds.map((f) => need(results, trialKey(f, s.config)) as TrialResult);
        const accuracies = trials.map((t) => t.validation!.accuracy);
        return {
          value: s.value, epochs: s.epochs, lr: s.lr,
          sparsity: mean(trials.map((t) => t.sparsity)),
          bytes: Math.max(...trials.map((t) => t.bytes)),
          accuracy: mean(accuracies), accuracyStd: std(accuracies), foldAccuracies: accuracies,
        };
      });
      const baseline = mean(dense);
      return {
        chosen: chooseSetting(rows, baseline, objective),
        swept: option ?? 'sparsity',
        baseline, baselineStd: std(dense), objective,
        tolerance: objective.kind === 'sparsest' ? objective.tolerance : 0,
        validation: planSummary(plan),
        rows,
      };
    },
  };
}

/**
 * Picks a row by the objective. 'sparsest': the sparsest row within tolerance of `baseline` (ties: the
 * more accurate, then the earlier). 'best-at-size': the most accurate row within the byte budget (ties:
 * the smaller, then the earlier). Null if no row qualifies.
 */
export function chooseSetting(rows: readonly SweepRow[], baseline: number, objective: SweepObjective): SweepRow | null {
  let best: SweepRow | null = null;
  for (const row of rows) {
    if (objective.kind === 'sparsest') {
      if (row.accuracy < baseline - objective.tolerance) continue;
      if (best === null || row.sparsity > best.sparsity || (row.sparsity === best.sparsity && row.accuracy > best.accuracy)) best = row;
    } else {
      if (row.bytes > objective.maxBytes) continue;
      if (best === null || row.accuracy > best.accuracy || (row.accuracy === best.accuracy && row.bytes < best.bytes)) best = row;
    }
  }
  return best;
}

/** Picks the sparsest candidate within tolerance (the 'sparsest' objective over rows of value, sparsity, accuracy). */
export function pickSparsest<R extends { readonly sparsity: number; readonly accuracy: number }>(rows: readonly R[], baseline: number, tolerance: number): R | null {
  let best: R | null = null;
  for (const row of rows) {
    if (row.accuracy >= baseline - tolerance && (best === null || row.sparsity > best.sparsity)) best = row;
  }
  return best;
}

/** Options of `sweepPruning`. */
export interface SweepOptions extends SweepGrid {
  /** Alias of `values` (kept from the one-dimensional sweep). */
  readonly candidates?: readonly number[];
  /** The 'sparsest' objective's allowed drop in validation accuracy (a fraction; 0.01 = one point). */
  readonly tolerance?: number;
  /** Another objective (overrides `tolerance`). */
  readonly objective?: SweepObjective;
  /** Kernels to train on (default: the scoped backend of `withBackend`, else DEFAULT_BACKEND). */
  readonly backend?: Backend;
  /** Called as each setting's runs finish (on the last fold). */
  readonly onRow?: (row: { value: number; epochs: number; lr: number }, result: TrialResult) => void;
}

/**
 * Grid search in this thread: tries every setting on every fold of `plan` (each run on its own copy of the
 * model, or of the fold's retrained dense model) and chooses by `options.objective`. `train` is the full
 * training data the plan's indices refer to. Throws ConfigError for an empty grid or a bad objective, and
 * whatever `runPruning` throws for the config.
 *
 * @example
 * const plan = holdoutValidation(train, readHoldoutRecord(record.training)!);
 * const sweep = sweepPruning(model, train, plan, { ...config, method: 'threshold' }, { values: [0.5, 1, 2], tolerance: 0.01 });
 */
export function sweepPruning(model: Sequential, train: Dataset, plan: ValidationPlan, config: PruneConfig, options: SweepOptions): SweepResult {
  const objective = options.objective ?? { kind: 'sparsest', tolerance: options.tolerance ?? 0.01 };
  const values = options.values ?? options.candidates;
  const study = planSweep(plan, config, { ...(values === undefined ? {} : { values }), ...(options.epochs === undefined ? {} : { epochs: options.epochs }), ...(options.lrs === undefined ? {} : { lrs: options.lrs }) }, objective);
  const setup = { model: modelState(model), train, test: null, plan, backend: options.backend ?? currentBackend() };
  const results = runTasksInline(setup, study.tasks, {
    onResult: (task, result) => {
      if (task.kind !== 'trial' || task.fold !== plan.folds.length - 1) return;
      const setting = study.settings.find((s) => s.config === task.config)!;
      options.onRow?.({ value: setting.value, epochs: setting.epochs, lr: setting.lr }, result as TrialResult);
    },
  });
  return study.assemble(results);
}

function checkObjective(objective: SweepObjective): void {
  if (objective.kind === 'sparsest') {
    if (!(objective.tolerance >= 0 && objective.tolerance < 1)) throw new ConfigError(`tolerance must be in [0, 1), got ${objective.tolerance}`);
  } else if (objective.kind === 'best-at-size') {
    if (!(objective.maxBytes > 0) || !Number.isFinite(objective.maxBytes)) throw new ConfigError(`the size budget must be a positive number of bytes, got ${objective.maxBytes}`);
  } else {
    throw new ConfigError(`unknown sweep objective '${String((objective as { kind: unknown }).kind)}' (expected sparsest or best-at-size)`);
  }
}

function need(results: ReadonlyMap<string, TaskResult>, key: string): TaskResult {
  const result = results.get(key);
  if (result === undefined) throw new ConfigError(`the study has no result for ${key}`);
  return result;
}

/** Mean of a non-empty list. */
export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n − 1), 0 for fewer than two values. */
export function std(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}
