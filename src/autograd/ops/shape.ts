import { ShapeError } from '../../errors.ts';
import { formatShape, type Shape } from '../../tensor/shape.ts';
import { record } from '../graph.ts';
import type { Var } from '../var.ts';

/** The same values with another shape (one dimension may be -1). The gradient is reshaped back. */
export function reshape(x: Var, shape: Shape): Var {
  return record('reshape', x.value.reshape(shape), [x], (dy) => [dy.reshape(x.shape)]);
}

/**
 * The axes from `startAxis` on merged into one (default 1: [N, C, H, W] → [N, C·H·W], what a convolution
 * hands a Linear layer). A reshape: no copy, the gradient is reshaped back. Throws ShapeError for an axis
 * outside [0, rank).
 */
export function flatten(x: Var, startAxis = 1): Var {
  const rank = x.shape.length;
  if (!Number.isSafeInteger(startAxis) || startAxis < 0 || startAxis >= Math.max(rank, 1)) {
    throw new ShapeError(`flatten: startAxis ${startAxis} is not an axis of ${formatShape(x.shape)}`);
  }
  const kept = x.shape.slice(0, startAxis);
  const merged = x.shape.slice(startAxis).reduce((a, b) => a * b, 1);
  return reshape(x, [...kept, merged]);
}
