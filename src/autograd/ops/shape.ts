import type { Shape } from '../../tensor/shape.ts';
import { record } from '../graph.ts';
import type { Var } from '../var.ts';

/** The same values with another shape (one dimension may be -1). The gradient is reshaped back. */
export function reshape(x: Var, shape: Shape): Var {
  return record('reshape', x.value.reshape(shape), [x], (dy) => [dy.reshape(x.shape)]);
}
