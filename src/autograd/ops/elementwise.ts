import * as T from '../../tensor/ops.ts';
import { allocateOverwritten, Tensor } from '../../tensor/tensor.ts';
import { record } from '../graph.ts';
import type { Var } from '../var.ts';

/* Elementwise functions. Where the derivative is cheapest from the output (exp, sigmoid, tanh), it uses it. */

/** eˣ. d/dx = eˣ (the output itself). */
export function exp(x: Var): Var {
  const out = T.exp(x.value);
  return record('exp', out, [x], (dy) => [T.mul(dy, out)]);
}

/** ln x. d/dx = 1/x. */
export function log(x: Var): Var {
  return record('log', T.log(x.value), [x], (dy) => [T.div(dy, x.value)]);
}

/**
 * max(x, 0). d/dx = 1 where x > 0, else 0.
 * NOTE: the subgradient at exactly 0 is taken as 0 (as PyTorch does).
 */
export function relu(x: Var): Var {
  return record('relu', T.relu(x.value), [x], (dy) => [T.reluBackward(x.value, dy)]);
}

/** 1/(1+e⁻ˣ). d/dx = s(1−s). */
export function sigmoid(x: Var): Var {
  const s = T.sigmoid(x.value);
  return record('sigmoid', s, [x], (dy) => {
    const dx = new Tensor(allocateOverwritten(dy.size, dy.dtype), dy.shape);
    for (let i = 0; i < dx.size; i++) {
      const si = s.data[i]!;
      dx.data[i] = dy.data[i]! * si * (1 - si);
    }
    return [dx];
  });
}

/** tanh x. d/dx = 1 − tanh²x. */
export function tanh(x: Var): Var {
  const t = T.tanh(x.value);
  return record('tanh', t, [x], (dy) => {
    const dx = new Tensor(allocateOverwritten(dy.size, dy.dtype), dy.shape);
    for (let i = 0; i < dx.size; i++) {
      const ti = t.data[i]!;
      dx.data[i] = dy.data[i]! * (1 - ti * ti);
    }
    return [dx];
  });
}
