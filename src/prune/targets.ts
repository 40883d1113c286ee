import { ConfigError } from '../errors.ts';
import { Dropout, ReLU, Sigmoid, Tanh } from '../nn/activations.ts';
import { Conv2d } from '../nn/conv.ts';
import { Linear } from '../nn/linear.ts';
import type { Layer } from '../nn/module.ts';
import type { Parameter } from '../nn/parameter.ts';
import { AvgPool2d, MaxPool2d } from '../nn/pool.ts';
import { Flatten } from '../nn/shape-layers.ts';
import type { Sequential } from '../nn/sequential.ts';

/** A layer with a prunable weight: a Linear layer, or a Conv2d layer (one row of filters per output channel). */
export type PrunableLayer = Linear | Conv2d;

/**
 * What can be pruned: the weight of every Linear and Conv2d layer (biases are pruned only together with their
 * neuron or filter). A weight is seen as a matrix [rows, cols]: [out, in] for Linear, [outChannels,
 * inChannels/groups·kh·kw] for Conv2d — the rows are the output units. A target also knows the next weighted
 * layer, because removing an output unit makes the inputs it feeds there dead: unit u feeds the next layer's
 * columns [u·nextSpan, (u+1)·nextSpan) (1 for Linear → Linear, kh·kw of the next Conv2d for one input channel,
 * H·W for a channel flattened into a Linear layer).
 */
export interface PruneTarget {
  /** Parameter name, e.g. "layers.0.weight". */
  readonly name: string;
  readonly layer: PrunableLayer;
  readonly layerIndex: number;
  readonly weight: Parameter;
  /**
   * The next weighted layer, when only element-wise, pooling and flatten layers stand between (so its inputs
   * map to this layer's units channel by channel); null for the output layer or after a reshape.
   */
  readonly next: PrunableLayer | null;
  /** Columns of `next`'s weight matrix fed by each output unit of this layer; 0 when `next` is a grouped convolution (not unit-aligned). */
  readonly nextSpan: number;
}

/** Settings of `findTargets`. */
export interface TargetOptions {
  /** Parameter or layer names to leave dense ("layers.4.weight" or "layers.4"). */
  exclude?: readonly string[];
}

/** The weight of a target as the matrix [rows (output units), cols] its rows are selected from. */
export function weightMatrix(target: PruneTarget): [number, number] {
  const rows = target.weight.value.shape[0]!;
  return [rows, rows === 0 ? 0 : target.weight.value.size / rows];
}

/** Columns of one input channel in a target's weight matrix: kh·kw for Conv2d, 1 for Linear. */
export function channelSpan(target: PruneTarget): number {
  return target.layer instanceof Conv2d ? target.layer.kernelSize[0] * target.layer.kernelSize[1] : 1;
}

/** Layers that keep channels aligned between two weighted layers (unit u of one feeds only columns of u in the next). */
function keepsChannels(layer: Layer): boolean {
  return layer instanceof ReLU || layer instanceof Sigmoid || layer instanceof Tanh || layer instanceof Dropout
    || layer instanceof MaxPool2d || layer instanceof AvgPool2d || layer instanceof Flatten;
}

/** The prunable weights of a Sequential, in order. Throws if there are none. */
export function findTargets(model: Sequential, options: TargetOptions = {}): PruneTarget[] {
  const weighted: { index: number; layer: PrunableLayer }[] = [];
  model.layers.forEach((layer, index) => {
    if (layer instanceof Linear || layer instanceof Conv2d) weighted.push({ index, layer });
  });
  if (weighted.length === 0) throw new ConfigError('the model has no prunable layers (pruning needs at least one Linear or Conv2d layer)');
  const valid = weighted.map(({ index }) => `layers.${index}.weight`);
  const excluded = new Set<string>();
  for (const name of options.exclude ?? []) {
    const normalized = /^layers\.\d+$/.test(name) ? `${name}.weight` : name;
    if (!valid.includes(normalized)) throw new ConfigError(`cannot exclude '${name}': prunable weights are ${valid.join(', ')}`);
    excluded.add(normalized);
  }
  const targets = weighted.map(({ index, layer }, k): PruneTarget => {
    const following = weighted[k + 1];
    const aligned = following !== undefined && model.layers.slice(index + 1, following.index).every(keepsChannels);
    const next = aligned ? following.layer : null;
    const units = layer.weight.value.shape[0]!;
    let nextSpan = 0;
    if (next instanceof Conv2d) nextSpan = next.groups === 1 ? next.kernelSize[0] * next.kernelSize[1] : 0;
    else if (next instanceof Linear) nextSpan = next.inFeatures % units === 0 ? next.inFeatures / units : 0;
    return { name: `layers.${index}.weight`, layer, layerIndex: index, weight: layer.weight, next, nextSpan };
  });
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
