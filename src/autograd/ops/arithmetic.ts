import * as T from '../../tensor/ops.ts';
import { scalar } from '../../tensor/tensor.ts';
import { record } from '../graph.ts';
import { constant, Var } from '../var.ts';

/*
 * Broadcasting arithmetic. Each backward returns gradients in the output's (broadcast) shape; the engine
 * sums them back to each input's shape.
 */

type Operand = Var | number;

function lift(x: Operand, like: Var): Var {
  return typeof x === 'number' ? constant(scalar(x, like.value.dtype)) : x;
}

function operands(a: Operand, b: Operand): [Var, Var] {
  if (typeof a === 'number' && typeof b === 'number') return [constant(scalar(a)), constant(scalar(b))];
  const first = typeof a === 'number' ? lift(a, b as Var) : a;
  return [first, lift(b, first)];
}

/** a + b. d/da = 1, d/db = 1. */
export function add(a: Operand, b: Operand): Var {
  const [x, y] = operands(a, b);
  return record('add', T.add(x.value, y.value), [x, y], (dy) => [dy, dy]);
}

/** a − b. d/da = 1, d/db = −1. */
export function sub(a: Operand, b: Operand): Var {
  const [x, y] = operands(a, b);
  return record('sub', T.sub(x.value, y.value), [x, y], (dy, needs) => [dy, needs[1] ? T.neg(dy) : null]);
}

/** a ⊙ b. d/da = b, d/db = a. */
export function mul(a: Operand, b: Operand): Var {
  const [x, y] = operands(a, b);
  return record('mul', T.mul(x.value, y.value), [x, y], (dy, needs) => [
    needs[0] ? T.mul(dy, y.value) : null,
    needs[1] ? T.mul(dy, x.value) : null,
  ]);
}

/** a / b. d/da = 1/b, d/db = −a/b². */
export function div(a: Operand, b: Operand): Var {
  const [x, y] = operands(a, b);
  return record('div', T.div(x.value, y.value), [x, y], (dy, needs) => [
    needs[0] ? T.div(dy, y.value) : null,
    needs[1] ? T.neg(T.div(T.mul(dy, x.value), T.square(y.value))) : null,
  ]);
}

/** −x. */
export function neg(x: Var): Var {
  return record('neg', T.neg(x.value), [x], (dy) => [T.neg(dy)]);
}
