import * as T from '../../tensor/ops.ts';
import { normalizeAxis, type Shape } from '../../tensor/shape.ts';
import { allocateOverwritten, allocateResult, Tensor } from '../../tensor/tensor.ts';
import { record } from '../graph.ts';
import type { Var } from '../var.ts';

/* Reductions. Their gradients spread dy back over the reduced axis. */

/** dy (shape of the reduced result) stretched back to `shape` along the reduced axis (or everywhere). */
function expandGrad(dy: Tensor, shape: Shape, axis: number | undefined): Tensor {
  const kept = axis === undefined ? shape.map(() => 1) : shape.map((d, i) => (i === axis ? 1 : d));
  const map = T.broadcastIndexMap(shape, kept);
  const out = new Tensor(allocateOverwritten(map?.length ?? dy.size, dy.dtype), shape);
  const src = dy.data;
  if (map === null) out.data.set(src);
  else for (let i = 0; i < out.size; i++) out.data[i] = src[map[i]!]!;
  return out;
}

/** Sum over `axis` (or everything). d/dx = 1 for every summed element. */
export function sum(x: Var, axis?: number, keepDims = false): Var {
  const ax = axis === undefined ? undefined : normalizeAxis(axis, x.value.rank, 'sum');
  return record('sum', T.sum(x.value, ax, keepDims), [x], (dy) => [expandGrad(dy, x.shape, ax)]);
}

/** Mean over `axis` (or everything). d/dx = 1/count. */
export function mean(x: Var, axis?: number, keepDims = false): Var {
  const ax = axis === undefined ? undefined : normalizeAxis(axis, x.value.rank, 'mean');
  const count = ax === undefined ? x.value.size : x.shape[ax]!;
  return record('mean', T.mean(x.value, ax, keepDims), [x], (dy) => [T.scale(expandGrad(dy, x.shape, ax), 1 / count)]);
}

/** Maximum over `axis`. The gradient goes to the first maximal element only. */
export function max(x: Var, axis: number, keepDims = false): Var {
  const ax = normalizeAxis(axis, x.value.rank, 'max');
  const { values, indices } = T.maxWithIndex(x.value, ax, keepDims);
  return record('max', values, [x], (dy) => {
    const dx = new Tensor(allocateResult(x.value.size, dy.dtype), x.shape);
    let inner = 1;
    for (let i = ax + 1; i < x.value.rank; i++) inner *= x.shape[i]!;
    const len = x.shape[ax]!;
    for (let r = 0; r < indices.length; r++) {
      const o = Math.floor(r / inner);
      const j = r - o * inner;
      dx.data[(o * len + indices[r]!) * inner + j] = dy.data[r]!;
    }
    return [dx];
  });
}
