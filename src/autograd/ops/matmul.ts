import { ShapeError } from '../../errors.ts';
import * as T from '../../tensor/ops.ts';
import { formatShape } from '../../tensor/shape.ts';
import { recordFresh } from '../graph.ts';
import type { Var } from '../var.ts';

/**
 * Matrix product with optional transposes. The gradients use the other two orientations of the same
 * kernels, so no transpose is ever materialised:
 *   C = A·B   → dA = dC·Bᵀ,  dB = Aᵀ·dC
 *   C = A·Bᵀ  → dA = dC·B,   dB = dCᵀ·A
 *   C = Aᵀ·B  → dA = B·dCᵀ,  dB = A·dC
 */
export function matmul(a: Var, b: Var, options: T.MatmulOptions = {}): Var {
  const { transA = false, transB = false } = options;
  const out = T.matmul(a.value, b.value, options);
  return recordFresh('matmul', out, [a, b], (dc, needs) => {
    const A = a.value;
    const B = b.value;
    if (transA) {
      return [needs[0] ? T.matmul(B, dc, { transB: true }) : null, needs[1] ? T.matmul(A, dc) : null];
    }
    if (transB) {
      return [needs[0] ? T.matmul(dc, B) : null, needs[1] ? T.matmul(dc, A, { transA: true }) : null];
    }
    return [needs[0] ? T.matmul(dc, B, { transB: true }) : null, needs[1] ? T.matmul(A, dc, { transA: true }) : null];
  });
}

/**
 * The fully connected layer y = x·Wᵀ + b, with W stored [out, in] (as PyTorch does) and b [out].
 * Fused (one kernel call plus a bias loop) because it is the hot path of training.
 *   dx = dy·W,  dW = dyᵀ·x,  db = Σ_rows dy
 */
export function linear(x: Var, weight: Var, bias: Var | null = null): Var {
  const [, inFeatures] = weight.shape as [number, number];
  if (x.value.rank !== 2 || weight.value.rank !== 2 || x.shape[1] !== inFeatures) {
    throw new ShapeError(`linear(${inFeatures}→${weight.shape[0]}) got input ${formatShape(x.shape)} and weight ${formatShape(weight.shape)}: the input must be [batch, ${inFeatures}]`);
  }
  const y = T.matmul(x.value, weight.value, { transB: true });
  const outFeatures = y.shape[1]!;
  if (bias !== null) {
    if (bias.value.rank !== 1 || bias.shape[0] !== outFeatures) {
      throw new ShapeError(`linear: bias has shape ${formatShape(bias.shape)}, expected [${outFeatures}]`);
    }
    T.addRowVectorInPlace(y, bias.value);
  }
  const parents = bias === null ? [x, weight] : [x, weight, bias];
  return recordFresh('linear', y, parents, (dy, needs) => [
    needs[0] ? T.matmul(dy, weight.value) : null,
    needs[1] ? T.matmul(dy, x.value, { transA: true }) : null,
    needs[2] ? T.sum(dy, 0) : null,
  ]);
}
