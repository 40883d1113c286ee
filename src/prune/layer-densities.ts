import { ConfigError } from '../errors.ts';
import { checkSparsity } from './targets.ts';

/*
 * How a sparse-from-the-start method spreads a global sparsity over layers (Evci et al. 2020, §3 "Sparsity
 * distribution"):
 *  - uniform: every layer at the same sparsity;
 *  - erk (Erdős–Rényi-Kernel): a layer's density is proportional to (n_in + n_out)/(n_in·n_out), so small
 *    layers stay denser; scaled so the whole model keeps its budget. A layer whose density would exceed 1
 *    is made dense and the others are rescaled, until none does (as RigL's sparse_utils does). For a
 *    convolution with a kh×kw kernel the density is proportional to (n_in + n_out + kh + kw)/(n_in·n_out·kh·kw);
 *    for fully connected layers (kh = kw = 0 in that formula) ERK and Erdős–Rényi are the same rule.
 */

/** A layer distribution of `keptPerLayer`. */
export type LayerDistribution = 'uniform' | 'erk';
/** The layer distributions, for option specs and help. */
export const LAYER_DISTRIBUTIONS: readonly LayerDistribution[] = ['uniform', 'erk'];

/**
 * One layer's weight: [rows = n_out, cols = n_in] for a Linear layer; a Conv2d layer adds its kernel
 * (cols = input channels per group). `sparsity` fixes its own (a per-layer override).
 */
export interface LayerShape {
  readonly rows: number;
  readonly cols: number;
  /** The kernel [kh, kw] of a convolution (absent for a fully connected layer). */
  readonly kernel?: readonly [number, number];
  readonly sparsity?: number;
}

/** Weights of a layer: rows·cols, times kh·kw for a convolution. */
function weightsOf(l: LayerShape): number {
  return l.rows * l.cols * (l.kernel === undefined ? 1 : l.kernel[0] * l.kernel[1]);
}

/**
 * The number of weights to keep in each layer, so that the layers without a fixed sparsity keep
 * round((1 − sparsity) · their weights) together, spread by `distribution`; a layer with a fixed sparsity
 * keeps round((1 − its sparsity) · its weights). Rounding goes to the largest remainders, so the budget is
 * exact. Throws ConfigError for a sparsity outside [0, 1) or an unknown distribution.
 */
export function keptPerLayer(layers: readonly LayerShape[], sparsity: number, distribution: LayerDistribution): number[] {
  checkSparsity(sparsity);
  if (!LAYER_DISTRIBUTIONS.includes(distribution)) throw new ConfigError(`unknown layer distribution '${String(distribution)}' (expected one of ${LAYER_DISTRIBUTIONS.join(', ')})`);
  const sizes = layers.map(weightsOf);
  const kept = layers.map((l, i) => (l.sparsity === undefined ? 0 : Math.round((1 - checkedFixed(l.sparsity)) * sizes[i]!)));
  const free = layers.map((_, i) => i).filter((i) => layers[i]!.sparsity === undefined);
  if (free.length === 0) return kept;
  const densities = distribution === 'uniform' ? free.map(() => 1 - sparsity) : erkDensities(free.map((i) => layers[i]!), 1 - sparsity);
  const budget = Math.round((1 - sparsity) * free.reduce((n, i) => n + sizes[i]!, 0));
  const exact = free.map((i, k) => Math.min(densities[k]! * sizes[i]!, sizes[i]!));
  const floors = exact.map(Math.floor);
  let missing = budget - floors.reduce((a, b) => a + b, 0);
  // Largest remainders first (ties by layer order), never past a layer's size.
  const order = exact.map((_, k) => k).sort((a, b) => exact[b]! - floors[b]! - (exact[a]! - floors[a]!) || a - b);
  for (const k of order) {
    if (missing <= 0) break;
    if (floors[k]! < sizes[free[k]!]!) {
      floors[k]!++;
      missing--;
    }
  }
  free.forEach((i, k) => (kept[i] = floors[k]!));
  return kept;
}

function checkedFixed(sparsity: number): number {
  checkSparsity(sparsity, 'a layer\'s fixed sparsity');
  return sparsity;
}

/** ERK densities for `layers` with an overall density `density`, capped at 1 with redistribution. */
function erkDensities(layers: readonly LayerShape[], density: number): number[] {
  const sizes = layers.map(weightsOf);
  const raw = layers.map((l) => (l.rows + l.cols + (l.kernel === undefined ? 0 : l.kernel[0] + l.kernel[1])) / weightsOf(l));
  const dense = new Set<number>();
  const total = density * sizes.reduce((a, b) => a + b, 0);
  for (;;) {
    let budget = total;
    let divisor = 0;
    layers.forEach((_, i) => {
      if (dense.has(i)) budget -= sizes[i]!;
      else divisor += raw[i]! * sizes[i]!;
    });
    const scale = divisor === 0 ? 0 : Math.max(budget, 0) / divisor;
    let largest = -1;
    layers.forEach((_, i) => {
      if (!dense.has(i) && (largest < 0 || raw[i]! > raw[largest]!)) largest = i;
    });
    if (largest < 0 || scale * raw[largest]! <= 1) return layers.map((_, i) => (dense.has(i) ? 1 : scale * raw[i]!));
    layers.forEach((_, i) => raw[i] === raw[largest] && dense.add(i));
  }
}
