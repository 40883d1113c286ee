import { Sigmoid } from '../nn/activations.ts';
import { Conv2d } from '../nn/conv.ts';
import type { Parameter } from '../nn/parameter.ts';
import type { Sequential } from '../nn/sequential.ts';
import { layerFlops } from '../nn/spec-shapes.ts';
import { Tensor } from '../tensor/tensor.ts';
import { findTargets, type PruneTarget } from './targets.ts';

/*
 * After structured pruning, physically removes the dead output units — neurons of Linear layers, filters of
 * Conv2d layers — so the model becomes a smaller dense model (the structured-pruning payoff: fewer FLOPs with
 * plain dense kernels). A unit is dead when nothing it computes reaches the output:
 *  - its whole row of weights is pruned and its bias too (it outputs act(0) = 0; not removed before a sigmoid,
 *    where act(0) = ½), or
 *  - every weight it feeds in the next layer is pruned (an input column, an input channel, the flattened
 *    plane of its channel) — what channel pruning of the next layer leaves behind.
 * Removing unit u drops its row, its bias, and its columns [u·span, (u+1)·span) of the next layer. Parameters
 * keep their identity; only their values shrink. The output layer's units (the classes) are never removed.
 */

/** What shrinking removed from one layer: its output units before, and how many went. */
export interface ShrinkLayer {
  readonly name: string;
  readonly before: number;
  readonly removed: number;
}

/** What `shrinkModel` did: per layer, and the model's dense size and per-sample FLOPs before and after. */
export interface ShrinkReport {
  readonly layers: ShrinkLayer[];
  readonly parameters: { readonly before: number; readonly after: number };
  /** Multiply-adds ×2 per sample of the weighted layers (dense), see layerFlops. */
  readonly flops: { readonly before: number; readonly after: number };
}

/**
 * Removes the dead neurons and filters of `model` (see the file comment) and reports what went, per layer.
 * The outputs of the smaller model equal those of the masked one (to float rounding of the sums).
 */
export function shrinkNeurons(model: Sequential): ShrinkLayer[] {
  const report: ShrinkLayer[] = [];
  for (const target of findTargets(model)) {
    // A grouped convolution's filters and input channels are tied to their groups: left as they are.
    if (target.next === null || target.nextSpan === 0 || (target.layer instanceof Conv2d && target.layer.groups !== 1)) continue;
    const rows = target.weight.value.shape[0]!;
    const alive: number[] = [];
    for (let u = 0; u < rows; u++) if (unitMatters(model, target, u)) alive.push(u);
    report.push({ name: `layers.${target.layerIndex}`, before: rows, removed: rows - alive.length });
    if (alive.length === rows) continue;
    keepRows(target.weight, alive);
    if (target.layer.bias !== null) keepRows(target.layer.bias, alive);
    keepColumnBlocks(target.next.weight, alive, target.nextSpan);
  }
  return report;
}

/** shrinkNeurons, with the model's parameters and FLOPs before and after. */
export function shrinkModel(model: Sequential): ShrinkReport {
  const size = (): { parameters: number; flops: number } => ({ parameters: model.parameterCount(), flops: layerFlops(model.spec()).reduce((a, b) => a + b, 0) });
  const before = size();
  const layers = shrinkNeurons(model);
  const after = size();
  return { layers, parameters: { before: before.parameters, after: after.parameters }, flops: { before: before.flops, after: after.flops } };
}

/** Whether unit u of the target can still change the model's output (see the file comment). */
function unitMatters(model: Sequential, target: PruneTarget, u: number): boolean {
  const kept = (p: Parameter, i: number): boolean => (p.mask === null ? p.value.data[i] !== 0 : p.mask[i] === 1);
  const w = target.weight;
  const cols = w.value.size / w.value.shape[0]!;
  let rowAlive = false;
  for (let i = u * cols; i < (u + 1) * cols && !rowAlive; i++) rowAlive = kept(w, i);
  const bias = target.layer.bias;
  // A unit with no inputs still emits act(bias), and a sigmoid of 0 is ½, not nothing.
  const feedsSigmoid = model.layers.slice(target.layerIndex + 1, model.layers.indexOf(target.next!)).some((l) => l instanceof Sigmoid);
  const emits = rowAlive || (bias !== null && kept(bias, u)) || feedsSigmoid;
  if (!emits) return false;
  const next = target.next!.weight;
  const nextRows = next.value.shape[0]!;
  const nextCols = next.value.size / nextRows;
  const span = target.nextSpan;
  for (let r = 0; r < nextRows; r++) {
    for (let i = r * nextCols + u * span; i < r * nextCols + (u + 1) * span; i++) if (kept(next, i)) return true;
  }
  return false;
}

/** Keeps the rows `rows` of p (its first axis), mask included; the other axes are unchanged. */
function keepRows(p: Parameter, rows: readonly number[]): void {
  const rowLength = p.value.size / p.value.shape[0]!;
  const data = new Float32Array(rows.length * rowLength);
  const mask = p.mask === null ? null : new Uint8Array(rows.length * rowLength);
  rows.forEach((r, i) => {
    data.set(p.value.data.subarray(r * rowLength, (r + 1) * rowLength), i * rowLength);
    mask?.set(p.mask!.subarray(r * rowLength, (r + 1) * rowLength), i * rowLength);
  });
  p.resize(new Tensor(data, [rows.length, ...p.value.shape.slice(1)]), simplify(mask));
}

/**
 * Keeps the column blocks `units` (block u = columns [u·span, (u+1)·span) of every row) of p seen as a matrix:
 * a Linear weight [out, units·span] or a Conv2d weight [out, units, kh, kw] (span = kh·kw).
 */
function keepColumnBlocks(p: Parameter, units: readonly number[], span: number): void {
  const rows = p.value.shape[0]!;
  const cols = p.value.size / rows;
  const newCols = units.length * span;
  const data = new Float32Array(rows * newCols);
  const mask = p.mask === null ? null : new Uint8Array(rows * newCols);
  for (let r = 0; r < rows; r++) {
    units.forEach((u, j) => {
      data.set(p.value.data.subarray(r * cols + u * span, r * cols + (u + 1) * span), r * newCols + j * span);
      mask?.set(p.mask!.subarray(r * cols + u * span, r * cols + (u + 1) * span), r * newCols + j * span);
    });
  }
  const shape = p.value.rank === 4 ? [rows, units.length, p.value.shape[2]!, p.value.shape[3]!] : [rows, newCols];
  p.resize(new Tensor(data, shape), simplify(mask));
}

/** A mask that keeps everything is no mask. */
function simplify(mask: Uint8Array | null): Uint8Array | null {
  return mask !== null && mask.every((m) => m === 1) ? null : mask;
}
