import type { Dataset } from '../data/dataset.ts';
import { splitValidation } from '../data/split.ts';
import { ConfigError } from '../errors.ts';
import { cloneModel } from '../nn/clone.ts';
import type { Sequential } from '../nn/sequential.ts';
import { evaluate } from '../nn/train.ts';
import { Rng } from '../tensor/rng.ts';
import { pruningMethod, runPruning, type PruneConfig } from '../prune/index.ts';

/*
 * Choosing a sparsity or threshold by a sweep on validation data carved from the training set (never the
 * test set): try each candidate on a copy of the model and return the sparsest setting whose validation
 * accuracy stays within `tolerance` of the unpruned model's.
 */

/** One candidate of a sweep and its outcome on the validation split. */
export interface SweepRow {
  /** The candidate: a sparsity, or a value of the method's sweep option (a std multiple q, an L1 strength λ). */
  readonly value: number;
  readonly sparsity: number;
  readonly accuracy: number;
}

/** What `sweepPruning` returns: every candidate's row, the unpruned model's validation accuracy and the choice. */
export interface SweepResult {
  /** The sparsest row within tolerance, or null if none is. */
  readonly chosen: SweepRow | null;
  readonly baseline: number;
  readonly tolerance: number;
  readonly rows: SweepRow[];
}

/** Settings of `sweepPruning`. */
export interface SweepOptions {
  /**
   * Candidate sparsities, or — for a method that declares a sweep option (threshold: q, l1: λ) — values of
   * that option. Default: the method's own sweep candidates (required for other methods).
   */
  candidates?: readonly number[];
  /** Allowed drop in validation accuracy, as a fraction (0.01 = one point). */
  tolerance: number;
  /** Fraction of the training data held out for validation (default 0.1). */
  validationFraction?: number;
  /** Training epochs per candidate (default: the config's epochs). */
  epochs?: number;
  onRow?: (row: SweepRow) => void;
}

/** Picks the sparsest candidate within tolerance; pure bookkeeping, shared by all sweeps. */
export function pickSparsest(rows: readonly SweepRow[], baseline: number, tolerance: number): SweepRow | null {
  let best: SweepRow | null = null;
  for (const row of rows) {
    if (row.accuracy >= baseline - tolerance && (best === null || row.sparsity > best.sparsity)) best = row;
  }
  return best;
}

/**
 * Tries every candidate on a copy of `model` (trained on the rest of `train`, evaluated on a validation
 * split carved from it) and picks the sparsest within tolerance. Throws ConfigError for no candidates or
 * a tolerance outside [0, 1), and whatever `runPruning` throws for the config.
 */
export function sweepPruning(model: Sequential, train: Dataset, config: PruneConfig, options: SweepOptions): SweepResult {
  const method = pruningMethod(config.method);
  const option = method.sweep?.option;
  const candidates = options.candidates ?? method.sweep?.candidates ?? [];
  if (candidates.length === 0) throw new ConfigError(`a sweep of method '${method.name}' needs at least one candidate`);
  if (!(options.tolerance >= 0 && options.tolerance < 1)) throw new ConfigError(`tolerance must be in [0, 1), got ${options.tolerance}`);
  const split = splitValidation(train, options.validationFraction ?? 0.1, new Rng(config.seed));
  const baseline = evaluate(model, split.validation).accuracy;
  const rows: SweepRow[] = [];
  for (const value of candidates) {
    const trial = cloneModel(model);
    const trialConfig: PruneConfig = {
      ...config,
      epochs: options.epochs ?? config.epochs,
      ...(option === undefined ? { sparsity: value } : { options: { ...config.options, [option]: value } }),
    };
    const result = runPruning(trial, { train: split.train }, trialConfig);
    const row = { value, sparsity: result.sparsity, accuracy: evaluate(result.model, split.validation).accuracy };
    rows.push(row);
    options.onRow?.(row);
  }
  return { chosen: pickSparsest(rows, baseline, options.tolerance), baseline, tolerance: options.tolerance, rows };
}
