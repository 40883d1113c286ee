import type { DataSplit } from '../data/dataset.ts';
import { ConfigError } from '../errors.ts';
import { cloneModel } from '../nn/clone.ts';
import type { Sequential } from '../nn/sequential.ts';
import { evaluate, type EpochStats, type ProgressEvent } from '../nn/train.ts';
import { criterionByName, pruningMethod, runPruning, type CriterionName, type MethodName, type OptionValue, type PruneConfig } from '../prune/index.ts';

/*
 * Side-by-side comparison on the same data and the same trained model: every method × criterion ×
 * sparsity in a grid, each run on its own copy of the model, with test accuracy and the sparsity actually
 * reached. Methods with their own selection rule (snip, threshold, topk, dns, rigl, ...) run once per
 * sparsity, not once per criterion. Methods whose sparsity is an outcome are put on the grid by their
 * `calibrate` (threshold: the q for which τ = q·std prunes the target fraction of the trained weights, which
 * its fixed mask keeps; threshold-dynamic and dns: the q or c that prunes it at the start, the final sparsity
 * being whatever training then makes of it); those without one (l1) cannot be.
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
  onRun?: (label: string, index: number, total: number) => void;
  onRow?: (row: ComparisonRow) => void;
  onProgress?: (event: ProgressEvent, label: string) => void;
  onEpoch?: (stats: EpochStats, label: string) => void;
}

/** One run of a comparison grid: what was asked and what came out (accuracy and loss on the test split). */
export interface ComparisonRow {
  readonly method: MethodName;
  /** The criterion, or '-' for methods with their own rule. */
  readonly criterion: CriterionName | '-';
  readonly targetSparsity: number;
  readonly sparsity: number;
  readonly testAccuracy: number;
  readonly testLoss: number;
  readonly seconds: number;
  /** The method options the run was given (calibrated ones included), when there are any. */
  readonly options?: Readonly<Record<string, OptionValue>>;
}

/** What `runComparison` returns: the unpruned model's test scores and one row per run. */
export interface Comparison {
  readonly dense: { readonly testAccuracy: number; readonly testLoss: number };
  readonly rows: ComparisonRow[];
}

/**
 * Runs the grid and evaluates every run on `data.test`. Throws ConfigError for an unknown method or
 * criterion, a method that cannot be put on a sparsity grid, or options for a method not in the grid.
 */
export function runComparison(model: Sequential, data: DataSplit, options: ComparisonOptions): Comparison {
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
  const denseEval = evaluate(model, data.test);
  const runs: { method: (typeof methods)[number]; criterion: CriterionName | '-'; sparsity: number }[] = [];
  for (const method of methods) {
    const criteria: (CriterionName | '-')[] = method.usesCriterion ? [...options.criteria] : ['-'];
    for (const criterion of criteria) for (const sparsity of options.sparsities) runs.push({ method, criterion, sparsity });
  }
  const rows: ComparisonRow[] = [];
  runs.forEach((run, index) => {
    const name = run.method.name;
    const label = `${name}${run.criterion === '-' ? '' : `/${run.criterion}`}@${run.sparsity}`;
    options.onRun?.(label, index, runs.length);
    const copy = cloneModel(model);
    const runOptions = { ...(run.method.calibrate?.(copy, run.sparsity) ?? {}), ...(options.methodOptions?.[name] ?? {}) } as Record<string, OptionValue>;
    const hasOptions = Object.keys(runOptions).length > 0;
    const config: PruneConfig = {
      ...options.base,
      method: name,
      criterion: run.criterion === '-' ? 'magnitude' : run.criterion,
      sparsity: run.sparsity,
      ...(hasOptions ? { options: runOptions } : {}),
    };
    const started = Date.now();
    const result = runPruning(copy, { train: data.train }, config, {
      ...(options.onProgress === undefined ? {} : { onProgress: (e: ProgressEvent) => options.onProgress!(e, label) }),
      ...(options.onEpoch === undefined ? {} : { onEpoch: (s: EpochStats) => options.onEpoch!(s, label) }),
    });
    const test = evaluate(result.model, data.test);
    const row: ComparisonRow = {
      method: name,
      criterion: run.criterion,
      targetSparsity: run.sparsity,
      sparsity: result.sparsity,
      testAccuracy: test.accuracy,
      testLoss: test.loss,
      seconds: (Date.now() - started) / 1000,
      ...(hasOptions ? { options: runOptions } : {}),
    };
    rows.push(row);
    options.onRow?.(row);
  });
  return { dense: { testAccuracy: denseEval.accuracy, testLoss: denseEval.loss }, rows };
}
