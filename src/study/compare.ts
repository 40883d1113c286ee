import type { DataSplit } from '../data/dataset.ts';
import { ConfigError } from '../errors.ts';
import type { Sequential } from '../nn/sequential.ts';
import { evaluate, type ProgressEvent } from '../nn/train.ts';
import { checkPruneConfig, checkSparsity, criterionByName, pruningMethod, type CriterionName, type MethodName, type OptionValue, type PruneConfig } from '../prune/index.ts';
import { currentBackend, type Backend } from '../tensor/backend.ts';
import { modelState } from './model-state.ts';
import { mean, std } from './sweep.ts';
import { runTasksInline, stableJson, uniqueTasks, type DenseResult, type Score, type StudyTask, type TaskResult, type TrialQuantization, type TrialResult } from './tasks.ts';
import type { CompressionStages } from '../quantize/index.ts';
import { planSummary, type ValidationPlan } from './validation.ts';

/*
 * Side-by-side comparison on the same data and the same trained model: every method × criterion ×
 * sparsity in a grid, each run on its own copy of the model, with test accuracy and the sparsity actually
 * reached — and, given a validation plan, validation accuracy next to it (the number to choose by; the test
 * number is for reporting). Methods with their own selection rule (snip, threshold, topk, dns, rigl, ...) run
 * once per sparsity, not once per criterion. Methods whose sparsity is an outcome are put on the grid by
 * their `calibrate` (threshold: the q for which τ = q·std prunes the target fraction of the trained weights,
 * which its fixed mask keeps; threshold-dynamic and dns: the q or c that prunes it at the start, the final
 * sparsity being whatever training then makes of it); those without one (l1) cannot be.
 *
 * Runs per row: with a holdout or a validation directory, one (trained on what the model was trained on,
 * scored on both validation and test); with K folds, K on the folds plus one from the given model for the test.
 */

/** The grid of `runComparison`: methods × criteria × sparsities on one base config, and progress callbacks. */
export interface ComparisonOptions {
  methods: readonly MethodName[];
  criteria: readonly CriterionName[];
  sparsities: readonly number[];
  /** Everything else a run needs (epochs, batch size, lr, scope, seed, ...). */
  base: Omit<PruneConfig, 'method' | 'criterion' | 'sparsity' | 'options'>;
  /** Each method's own options by method name, e.g. `{ iterative: { rounds: 2 } }`. */
  methodOptions?: Readonly<Record<string, Readonly<Record<string, OptionValue>>>>;
  /** Where validation accuracy comes from (see validation.ts); without one, rows have test accuracy only. */
  validation?: ValidationPlan;
  /** Kernels to train on (default: the scoped backend of `withBackend`, else DEFAULT_BACKEND). */
  backend?: Backend;
  /** Also quantize every pruned model (with fine-tuning): rows gain the compression axis (`compression`). */
  quantize?: TrialQuantization;
  onRun?: (label: string, index: number, total: number) => void;
  onRow?: (row: ComparisonRow) => void;
  onProgress?: (event: ProgressEvent, label: string) => void;
}

/** One run of a comparison grid: what was asked and what came out (validation and test accuracy, sparsity). */
export interface ComparisonRow {
  readonly method: MethodName;
  /** The criterion, or '-' for methods with their own rule. */
  readonly criterion: CriterionName | '-';
  readonly targetSparsity: number;
  readonly sparsity: number;
  readonly testAccuracy: number;
  readonly testLoss: number;
  /** Mean validation accuracy over the plan's folds (when a plan was given), and its standard deviation. */
  readonly validationAccuracy?: number;
  readonly validationStd?: number;
  readonly seconds: number;
  /** The method options the run was given (calibrated ones included), when there are any. */
  readonly options?: Readonly<Record<string, OptionValue>>;
  /**
   * With `quantize`: the file size after each stage (dense, pruned, quantized, entropy-coded) and the quantized
   * model's test accuracy (and mean validation accuracy over the folds).
   */
  readonly compression?: { readonly stages: CompressionStages; readonly testAccuracy: number; readonly validationAccuracy?: number };
}

/** What `runComparison` returns: the unpruned model's scores and one row per run. */
export interface Comparison {
  readonly dense: { readonly testAccuracy: number; readonly testLoss: number; readonly validationAccuracy?: number; readonly validationStd?: number };
  readonly validation?: ReturnType<typeof planSummary>;
  readonly rows: ComparisonRow[];
}

/** A comparison as tasks, and how to turn their results into rows. */
export interface ComparisonStudy {
  readonly tasks: StudyTask[];
  /** `denseTest`: the given model's score on the test set. */
  assemble(results: ReadonlyMap<string, TaskResult>, denseTest: Score): Comparison;
}

/**
 * Plans the grid of `options` on `plan` (null: test accuracy only, trained on all of the training data).
 * Throws ConfigError for an unknown method or criterion, a method that cannot be put on a sparsity grid,
 * or options for a method not in the grid.
 */
export function planComparison(plan: ValidationPlan | null, options: Omit<ComparisonOptions, 'validation'>): ComparisonStudy {
  for (const c of options.criteria) criterionByName(c);
  const methods = options.methods.map((name) => pruningMethod(name));
  for (const m of methods) {
    if (m.sparsity === 'outcome' && m.calibrate === undefined) {
      throw new ConfigError(`the ${m.name} method has no target sparsity to put on a grid; run it with 'sparsegrad prune --method ${m.name}'${m.sweep === undefined ? '' : ` (its ${m.sweep.option} is chosen by a sweep)`}`);
    }
  }
  for (const name of Object.keys(options.methodOptions ?? {})) {
    if (!options.methods.includes(name)) throw new ConfigError(`options for method '${name}', which is not in the comparison (methods: ${options.methods.join(', ')})`);
  }
  const runs: { method: MethodName; criterion: CriterionName | '-'; sparsity: number; label: string; config: PruneConfig; calibrate: boolean }[] = [];
  for (const method of methods) {
    const criteria: (CriterionName | '-')[] = method.usesCriterion ? [...options.criteria] : ['-'];
    for (const criterion of criteria) {
      for (const sparsity of options.sparsities) {
        const given = options.methodOptions?.[method.name];
        const config: PruneConfig = {
          ...options.base, method: method.name, criterion: criterion === '-' ? 'magnitude' : criterion, sparsity,
          ...(given !== undefined && Object.keys(given).length > 0 ? { options: given } : {}),
        };
        // Every cell is checked before any run starts or any journal line is written. A calibrated method
        // gets its option (the threshold) only when it runs, so only its target sparsity can be checked here.
        if (method.calibrate === undefined) checkPruneConfig(config);
        else checkSparsity(sparsity);
        runs.push({ method: method.name, criterion, sparsity, label: `${method.name}${criterion === '-' ? '' : `/${criterion}`}@${sparsity}`, config, calibrate: method.calibrate !== undefined });
      }
    }
  }
  const folds = plan === null ? [] : plan.folds.map((_, f) => f);
  const oneRun = plan === null || plan.recipe === null; // the validation run is the final run
  const trial = (run: (typeof runs)[number], fold: number | 'final', validation: boolean, test: boolean): StudyTask => ({
    kind: 'trial', key: `trial|fold=${fold}|${validation ? 'v' : ''}${test ? 't' : ''}|c=${run.calibrate}|${stableJson(run.config)}${options.quantize === undefined ? '' : `|q=${stableJson(options.quantize)}`}`,
    label: `${run.label}${typeof fold === 'number' && folds.length > 1 ? ` fold ${fold + 1}/${folds.length}` : ''}`,
    fold, config: run.config, calibrate: run.calibrate, validation, test, ...(options.quantize === undefined ? {} : { quantize: options.quantize }),
  });
  const testTask = (run: (typeof runs)[number]): StudyTask => (plan === null ? trial(run, 'final', false, true) : oneRun ? trial(run, 0, true, true) : trial(run, 'final', false, true));
  const foldTasks = (run: (typeof runs)[number]): StudyTask[] => (plan === null || oneRun ? [] : folds.map((f) => trial(run, f, true, false)));
  const denseTasks: StudyTask[] = folds.map((f) => ({ kind: 'dense', key: `dense|fold=${f}`, label: `fold ${f + 1}/${folds.length}: dense`, fold: f }));

  return {
    tasks: uniqueTasks([...denseTasks, ...runs.flatMap((run) => [...foldTasks(run), testTask(run)])]),
    assemble(results, denseTest) {
      const get = (task: StudyTask): TaskResult => {
        const result = results.get(task.key);
        if (result === undefined) throw new ConfigError(`the comparison has no result for ${task.label}`);
        return result;
      };
      const rows = runs.map((run): ComparisonRow => {
        const final = get(testTask(run)) as TrialResult;
        const validationRuns = oneRun ? (plan === null ? [] : [final]) : foldTasks(run).map((t) => get(t) as TrialResult);
        const accuracies = validationRuns.map((r) => r.validation!.accuracy);
        return {
          method: run.method, criterion: run.criterion, targetSparsity: run.sparsity, sparsity: final.sparsity,
          testAccuracy: final.test!.accuracy, testLoss: final.test!.loss,
          ...(accuracies.length === 0 ? {} : { validationAccuracy: mean(accuracies), validationStd: std(accuracies) }),
          seconds: final.seconds + (oneRun ? 0 : validationRuns.reduce((s, r) => s + r.seconds, 0)),
          ...(final.options === undefined ? {} : { options: final.options }),
          ...(final.compression === undefined ? {} : { compression: compressionOf(final, validationRuns) }),
        };
      });
      const dense = folds.map((f) => (get(denseTasks[f]!) as DenseResult).validation.accuracy);
      return {
        dense: { testAccuracy: denseTest.accuracy, testLoss: denseTest.loss, ...(dense.length === 0 ? {} : { validationAccuracy: mean(dense), validationStd: std(dense) }) },
        ...(plan === null ? {} : { validation: planSummary(plan) }),
        rows,
      };
    },
  };
}

/** A row's compression axis: the final run's stage sizes and quantized test accuracy, validation over the folds. */
function compressionOf(final: TrialResult, validationRuns: readonly TrialResult[]): NonNullable<ComparisonRow['compression']> {
  const accuracies = validationRuns.flatMap((r) => (r.compression?.validation === undefined ? [] : [r.compression.validation.accuracy]));
  return { stages: final.compression!.stages, testAccuracy: final.compression!.test!.accuracy, ...(accuracies.length === 0 ? {} : { validationAccuracy: mean(accuracies) }) };
}

/**
 * Runs the grid in this thread and evaluates every run on `data.test` (and on `options.validation`'s folds,
 * when given; its indices refer to `data.train`). Throws as `planComparison` does, and whatever training throws.
 */
export function runComparison(model: Sequential, data: DataSplit, options: ComparisonOptions): Comparison {
  const plan = options.validation ?? null;
  const study = planComparison(plan, options);
  const setup = { model: modelState(model), train: data.train, test: data.test, plan, backend: options.backend ?? currentBackend() };
  const results = runTasksInline(setup, study.tasks, {
    onStart: (task, index, total) => options.onRun?.(task.label, index, total),
    ...(options.onProgress === undefined ? {} : { onProgress: (event: ProgressEvent, task: StudyTask) => options.onProgress!(event, task.label) }),
  });
  const denseTest = evaluate(model, data.test);
  const comparison = study.assemble(results, { accuracy: denseTest.accuracy, loss: denseTest.loss });
  for (const row of comparison.rows) options.onRow?.(row);
  return comparison;
}
