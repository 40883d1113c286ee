import { ConfigError } from '../errors.ts';
import { Linear } from '../nn/linear.ts';
import type { Parameter } from '../nn/parameter.ts';
import type { Sequential } from '../nn/sequential.ts';

/**
 * What can be pruned: the weight matrix of every Linear layer (biases are pruned only together with their
 * neuron). A target also knows the next Linear layer, because removing a neuron makes that layer's
 * matching input column dead.
 */
export interface PruneTarget {
  /** Parameter name, e.g. "layers.0.weight". */
  readonly name: string;
  readonly layer: Linear;
  readonly layerIndex: number;
  readonly weight: Parameter;
  /** The next Linear layer in the model, or null for the output layer. */
  readonly next: Linear | null;
}

/** Settings of `findTargets`. */
export interface TargetOptions {
  /** Parameter or layer names to leave dense ("layers.4.weight" or "layers.4"). */
  exclude?: readonly string[];
}

/** The prunable weights of a Sequential, in order. Throws if there are none. */
export function findTargets(model: Sequential, options: TargetOptions = {}): PruneTarget[] {
  const linears: { index: number; layer: Linear }[] = [];
  model.layers.forEach((layer, index) => {
    if (layer instanceof Linear) linears.push({ index, layer });
  });
  if (linears.length === 0) throw new ConfigError('the model has no prunable layers (pruning needs at least one Linear layer)');
  const valid = linears.map(({ index }) => `layers.${index}.weight`);
  const excluded = new Set<string>();
  for (const name of options.exclude ?? []) {
    const normalized = /^layers\.\d+$/.test(name) ? `${name}.weight` : name;
    if (!valid.includes(normalized)) throw new ConfigError(`cannot exclude '${name}': prunable weights are ${valid.join(', ')}`);
    excluded.add(normalized);
  }
  const targets = linears.map(({ index, layer }, k) => ({
    name: `layers.${index}.weight`,
    layer,
    layerIndex: index,
    weight: layer.weight,
    next: linears[k + 1]?.layer ?? null,
  }));
  const kept = targets.filter((t) => !excluded.has(t.name));
  if (kept.length === 0) throw new ConfigError('every prunable layer is excluded: nothing left to prune');
  return kept;
}

/** Throws unless 0 ≤ sparsity < 1 (1 would remove every weight). */
export function checkSparsity(sparsity: number, what = 'sparsity'): void {
  if (typeof sparsity !== 'number' || !(sparsity >= 0 && sparsity < 1)) {
    throw new ConfigError(`${what} must be in [0, 1), got ${sparsity}`);
  }
}

/** Fraction of a parameter's entries that are zero (pruned or exactly zero). */
export function zeroFraction(p: Parameter): number {
  const w = p.value.data;
  if (w.length === 0) return 0;
  let zeros = 0;
  for (let i = 0; i < w.length; i++) if (w[i] === 0) zeros++;
  return zeros / w.length;
}

/** Overall fraction of zero weights across the targets. */
export function targetsSparsity(targets: readonly PruneTarget[]): number {
  let zeros = 0;
  let total = 0;
  for (const t of targets) {
    const w = t.weight.value.data;
    for (let i = 0; i < w.length; i++) if (w[i] === 0) zeros++;
    total += w.length;
  }
  return total === 0 ? 0 : zeros / total;
}
