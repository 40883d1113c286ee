import * as T from '../../tensor/ops.ts';
import { normalizeAxis } from '../../tensor/shape.ts';
import { record } from '../graph.ts';
import type { Var } from '../var.ts';

/** softmax along `axis`. dx = s ⊙ (dy − Σ(dy ⊙ s)) with the sum over the axis. */
export function softmax(x: Var, axis = -1): Var {
  const ax = normalizeAxis(axis, x.value.rank, 'softmax');
  const s = T.softmax(x.value, ax);
  return record('softmax', s, [x], (dy) => [T.mul(s, T.sub(dy, T.sum(T.mul(dy, s), ax, true)))]);
}

/** log-softmax along `axis`. dx = dy − softmax ⊙ Σ dy with the sum over the axis. */
export function logSoftmax(x: Var, axis = -1): Var {
  const ax = normalizeAxis(axis, x.value.rank, 'logSoftmax');
  const out = T.logSoftmax(x.value, ax);
  return record('logSoftmax', out, [x], (dy) => [T.sub(dy, T.mul(T.exp(out), T.sum(dy, ax, true)))]);
}
