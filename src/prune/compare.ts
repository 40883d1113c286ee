import type { DataSplit } from '../data/dataset.ts';
import { ConfigError } from '../errors.ts';
import { cloneModel } from '../nn/clone.ts';
import type { Sequential } from '../nn/sequential.ts';
import { evaluate, type EpochStats, type ProgressEvent } from '../nn/train.ts';
import { CRITERIA, type CriterionName } from './criteria.ts';
import { kthSmallest } from './quickselect.ts';
import { CRITERION_METHODS, runPruning, type MethodName, type PruneConfig } from './run.ts';
import { findTargets } from './targets.ts';

/*
 * Side-by-side comparison on the same data and the same trained model: every method × criterion ×
 * sparsity in a grid, each run on its own copy of the model, with test accuracy and the sparsity actually
 * reached. Methods with their own selection rule (snip, topk, dns, rigl, threshold) run once per sparsity,
 * not once per criterion. The threshold method is calibrated so that its τ = q·std would prune the target
 * fraction of the trained weights; its final sparsity is whatever training then makes of that.
 */

export interface ComparisonOptions {
  methods: readonly MethodName[];
  criteria: readonly CriterionName[];
  sparsities: readonly number[];
  /** Everything else a run needs (epochs, batch size, lr, scope, seed, ...). */
  base: Omit<PruneConfig, 'method' | 'criterion' | 'sparsity'>;
  onRun?: (label: string, index: number, total: number) => void;
  onRow?: (row: ComparisonRow) => void;
  onProgress?: (event: ProgressEvent, label: string) => void;
  onEpoch?: (stats: EpochStats, label: string) => void;
}

export interface ComparisonRow {
  readonly method: MethodName;
  /** The criterion, or '-' for methods with their own rule. */
  readonly criterion: CriterionName | '-';
  readonly targetSparsity: number;
  readonly sparsity: number;
  readonly testAccuracy: number;
  readonly testLoss: number;
  readonly seconds: number;
  readonly threshold?: number;
}

export interface Comparison {
  readonly dense: { readonly testAccuracy: number; readonly testLoss: number };
  readonly rows: ComparisonRow[];
}

export function runComparison(model: Sequential, data: DataSplit, options: ComparisonOptions): Comparison {
  for (const c of options.criteria) if (!(CRITERIA as readonly string[]).includes(c)) throw new ConfigError(`unknown criterion '${c}' (expected one of ${CRITERIA.join(', ')})`);
  if (options.methods.includes('l1')) throw new ConfigError("the l1 method has no target sparsity to put on a grid; run it with 'sparsegrad prune --method l1' (its λ is chosen by a sweep)");
  const denseEval = evaluate(model, data.test);
  const runs: { method: MethodName; criterion: CriterionName | '-'; sparsity: number }[] = [];
  for (const method of options.methods) {
    const criteria: (CriterionName | '-')[] = CRITERION_METHODS.includes(method) ? [...options.criteria] : ['-'];
    for (const criterion of criteria) for (const sparsity of options.sparsities) runs.push({ method, criterion, sparsity });
  }
  const rows: ComparisonRow[] = [];
  runs.forEach((run, index) => {
    const label = `${run.method}${run.criterion === '-' ? '' : `/${run.criterion}`}@${run.sparsity}`;
    options.onRun?.(label, index, runs.length);
    const copy = cloneModel(model);
    const threshold = run.method === 'threshold' ? calibrateStdMultiple(copy, run.sparsity) : undefined;
    const config: PruneConfig = {
      ...options.base,
      method: run.method,
      criterion: run.criterion === '-' ? 'magnitude' : run.criterion,
      sparsity: run.sparsity,
      ...(threshold === undefined ? {} : { threshold }),
    };
    const started = Date.now();
    const result = runPruning(copy, { train: data.train }, config, {
      ...(options.onProgress === undefined ? {} : { onProgress: (e: ProgressEvent) => options.onProgress!(e, label) }),
      ...(options.onEpoch === undefined ? {} : { onEpoch: (s: EpochStats) => options.onEpoch!(s, label) }),
    });
    const test = evaluate(result.model, data.test);
    const row: ComparisonRow = {
      method: run.method,
      criterion: run.criterion,
      targetSparsity: run.sparsity,
      sparsity: result.sparsity,
      testAccuracy: test.accuracy,
      testLoss: test.loss,
      seconds: (Date.now() - started) / 1000,
      ...(threshold === undefined ? {} : { threshold }),
    };
    rows.push(row);
    options.onRow?.(row);
  });
  return { dense: { testAccuracy: denseEval.accuracy, testLoss: denseEval.loss }, rows };
}

/**
 * The q for which |w| < q·std(w_layer) holds for a fraction `sparsity` of the model's prunable weights
 * (std taken per layer, as in Han et al.).
 */
export function calibrateStdMultiple(model: Sequential, sparsity: number): number {
  const ratios: number[] = [];
  for (const t of findTargets(model)) {
    const w = t.weight.value.data;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < w.length; i++) {
      sum += w[i]!;
      sumSq += w[i]! * w[i]!;
    }
    const std = Math.sqrt(Math.max(sumSq / w.length - (sum / w.length) ** 2, 1e-30));
    for (let i = 0; i < w.length; i++) ratios.push(Math.abs(w[i]!) / std);
  }
  const k = Math.min(Math.max(Math.round(sparsity * ratios.length), 1), ratios.length) - 1;
  // Just above the k-th smallest ratio, so that k+1 weights fall strictly below the threshold.
  const q = kthSmallest(Float64Array.from(ratios), k);
  return q * (1 + 1e-9) + 1e-12;
}
