import { ShapeError, StateError } from '../errors.ts';
import { add, sumToShape } from '../tensor/ops.ts';
import { broadcastShapes, formatShape, shapesEqual } from '../tensor/shape.ts';
import { ones, type Tensor } from '../tensor/tensor.ts';
import { Var, type BackwardFn } from './var.ts';

/*
 * The autograd engine: recording ops into a graph, and the reverse-mode pass over it. The cross-cutting
 * rules live here, once, instead of in every op: gradient accumulation (fan-out), reducing broadcast
 * gradients to their input's shape, checking gradient shapes, and freeing the graph after use.
 */

let gradEnabled = true;

/** Whether ops currently record the graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording gradients: inference, evaluation and optimizer updates use this. */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Wraps an op's result as a graph node: how to define a new differentiable op (every built-in op is written
 * this way). `value` is the forward result, computed on the parents' tensors (`x.value`) with the tensor ops;
 * `backwardFn` returns one gradient per parent, in order, of the parent's shape (or of the output's broadcast
 * shape: the engine sums it back). `op` names the node for debugging. When no input needs a gradient (or
 * recording is off) the result is a plain constant and the backward closure is dropped, so inference builds
 * no graph at all. Check a new op with `gradcheck`, as every built-in op is.
 *
 * @example
 * ```ts
 * import { gradcheck, ops, record, sum, tensor, type Var } from 'sparsegrad';
 *
 * // x³, with d(x³)/dx = 3x²: the backward multiplies the output's gradient dy by it.
 * function cube(x: Var): Var {
 *   return record('cube', ops.mul(ops.square(x.value), x.value), [x], (dy) => [ops.mul(dy, ops.scale(ops.square(x.value), 3))]);
 * }
 * console.log(gradcheck((x) => sum(cube(x!)), [tensor([[1, -2], [0.5, 3]])]).ok); // true
 * ```
 */
export function record(op: string, value: Tensor, parents: readonly Var[], backwardFn: BackwardFn): Var {
  if (!gradEnabled || !parents.some((p) => p.requiresGrad)) return new Var(value);
  return new Var(value, { requiresGrad: true, op, parents, backwardFn });
}

/** Nodes whose backward returns new tensors, one per input, and keeps no reference to them (recordFresh). */
const freshProducers = new WeakSet<Var>();

/**
 * `record` for an op whose backward returns tensors it has just computed, a different one for each input,
 * and keeps none of them (a matrix product's gradients are new products): a leaf may then keep such a
 * gradient as its `grad` instead of a copy — a copy of every weight gradient of every training step saved.
 * @internal For the library's own ops; `record` is the public way (its gradients are always copied).
 */
export function recordFresh(op: string, value: Tensor, parents: readonly Var[], backwardFn: BackwardFn): Var {
  const node = record(op, value, parents, backwardFn);
  if (!node.isLeaf) freshProducers.add(node);
  return node;
}

/** Nodes reachable from `root`, ordered so every node comes after all of its inputs (iterative DFS). */
export function topologicalOrder(root: Var): Var[] {
  const order: Var[] = [];
  const visited = new Set<Var>();
  const stack: { node: Var; next: number }[] = [{ node: root, next: 0 }];
  visited.add(root);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const parents = frame.node.parents;
    if (frame.next < parents.length) {
      const parent = parents[frame.next++]!;
      if (parent.requiresGrad && !visited.has(parent)) {
        visited.add(parent);
        stack.push({ node: parent, next: 0 });
      }
    } else {
      order.push(frame.node);
      stack.pop();
    }
  }
  return order;
}

/** Options of `backward`. */
export interface BackwardOptions {
  /** Keep the graph so backward can run through it again (default false: it is freed). */
  retainGraph?: boolean;
}

/**
 * Reverse-mode differentiation: accumulates d(root)/d(leaf) into `leaf.grad` for every leaf that requires a
 * gradient. `seed` is the gradient of the root (default 1 for a scalar root).
 */
export function backward(root: Var, seed?: Tensor, options: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new StateError('backward: this value does not depend on anything that requires a gradient');
  }
  if (seed === undefined) {
    if (root.value.size !== 1) {
      throw new StateError(`backward: the root has shape ${formatShape(root.shape)}; pass a seed gradient for a non-scalar root`);
    }
    seed = ones(root.shape, root.value.dtype);
  } else if (!shapesEqual(seed.shape, root.shape)) {
    throw new ShapeError(`backward: seed shape ${formatShape(seed.shape)} differs from root shape ${formatShape(root.shape)}`);
  }

  const order = topologicalOrder(root);
  const grads = new Map<Var, Tensor>([[root, seed]]);
  // Gradients nothing but `grads` refers to: sums made here, and what a fresh producer returned (see
  // recordFresh). A leaf's first gradient is kept as is when it is one of them, and copied otherwise.
  const owned = new Set<Tensor>();
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    const dy = grads.get(node);
    grads.delete(node);
    if (dy === undefined) continue;
    if (node.isLeaf) {
      node.accumulateGrad(dy, owned.has(dy));
      continue;
    }
    if (node.backwardFn === null) {
      throw new StateError(`backward: the graph through op '${node.op}' was already freed by an earlier backward; pass { retainGraph: true } to run backward twice`);
    }
    const needsGrad = node.parents.map((p) => p.requiresGrad);
    const inputGrads = node.backwardFn(dy, needsGrad);
    const fresh = freshProducers.has(node);
    node.parents.forEach((parent, k) => {
      const g = inputGrads[k];
      if (!needsGrad[k] || g === null || g === undefined) return;
      const shaped = reduceToShape(g, parent, node.op, k);
      const previous = grads.get(parent);
      const next = previous === undefined ? shaped : add(previous, shaped);
      grads.set(parent, next);
      // An op may hand one tensor (say its own dy) to several inputs: only what is surely unshared is owned.
      if (fresh || previous !== undefined) owned.add(next);
      else owned.delete(next);
    });
  }

  if (!options.retainGraph) {
    for (const node of order) {
      if (!node.isLeaf) {
        node.parents = [];
        node.backwardFn = null;
      }
    }
  }
}

/** Brings an op's input gradient to the input's shape, summing over broadcast axes; rejects anything else. */
function reduceToShape(g: Tensor, input: Var, op: string, index: number): Tensor {
  if (shapesEqual(g.shape, input.shape)) return g;
  let compatible = true;
  try {
    compatible = shapesEqual(broadcastShapes(g.shape, input.shape), g.shape);
  } catch {
    compatible = false;
  }
  if (!compatible) {
    throw new ShapeError(`backward of '${op}': gradient for input ${index} has shape ${formatShape(g.shape)}, which does not match the input's shape ${formatShape(input.shape)}`);
  }
  return sumToShape(g, input.shape);
}
