import { add } from '../tensor/ops.ts';
import { allocateOverwritten, Tensor } from '../tensor/tensor.ts';
import type { Shape } from '../tensor/shape.ts';

/**
 * Computes the gradients of an op's inputs from the gradient `dy` of its output. `needsGrad[i]` says
 * whether input i wants a gradient; return null for inputs that don't (so no work is wasted on them).
 * A returned gradient may have the broadcast shape of the output: the engine sums it back to the
 * input's shape (see graph.ts), so ops never handle broadcasting themselves.
 */
export type BackwardFn = (dy: Tensor, needsGrad: readonly boolean[]) => readonly (Tensor | null)[];

/**
 * A node of the computation graph: a value, and (after backward) the gradient of the loss with respect to
 * it. Leaves are inputs and parameters; every other Var remembers the op that made it, its inputs and
 * how to push a gradient back through that op.
 */
export class Var {
  /** The value. Parameters update it in place; a Parameter may also swap it for a resized tensor. */
  value: Tensor;
  /** Accumulated gradient (leaves only), same shape as `value`; null until a backward pass reaches it. */
  grad: Tensor | null = null;
  /** Whether gradients flow to this Var (true for parameters and for anything computed from them). */
  readonly requiresGrad: boolean;
  /** Name of the op that produced this Var ("leaf" for inputs and parameters); for errors and debugging. */
  readonly op: string;
  /** Inputs of the op; cleared after backward unless the graph is retained. */
  parents: readonly Var[];
  backwardFn: BackwardFn | null;

  constructor(value: Tensor, options: { requiresGrad?: boolean; op?: string; parents?: readonly Var[]; backwardFn?: BackwardFn | null } = {}) {
    this.value = value;
    this.requiresGrad = options.requiresGrad ?? false;
    this.op = options.op ?? 'leaf';
    this.parents = options.parents ?? [];
    this.backwardFn = options.backwardFn ?? null;
  }

  get shape(): Shape {
    return this.value.shape;
  }

  get isLeaf(): boolean {
    return this.op === 'leaf';
  }

  /**
   * Adds a gradient arriving at this leaf during backward (gradients accumulate until cleared). `owned`:
   * nothing else refers to `g` (backward knows when), so a first gradient is kept as is instead of copied.
   */
  accumulateGrad(g: Tensor, owned = false): void {
    this.grad = this.grad === null ? (owned ? g : copyOf(g)) : add(this.grad, g);
  }
}

/**
 * A copy of g (the engine may hand the same tensor to several inputs), allocated like any op result: on the
 * 'wasm-simd' backend during a training step it stays in the kernels' memory, so the optimizer reads it in place.
 */
function copyOf(g: Tensor): Tensor {
  const data = allocateOverwritten(g.size, g.dtype);
  data.set(g.data);
  return new Tensor(data, g.shape);
}

/** A leaf that is an input or a constant: gradients are not computed for it. */
export function constant(value: Tensor): Var {
  return new Var(value);
}

/** A leaf whose gradient is wanted (for example an input in a gradient check). */
export function variable(value: Tensor): Var {
  return new Var(value, { requiresGrad: true });
}
