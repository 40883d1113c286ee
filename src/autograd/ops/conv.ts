import { conv2dBackward, conv2dForward, type Conv2dOptions } from '../../tensor/conv.ts';
import { isGradEnabled, record } from '../graph.ts';
import type { Var } from '../var.ts';

/**
 * 2-D convolution (cross-correlation, as in PyTorch and ONNX): x [N, C, H, W], weight [O, C/groups, kh, kw],
 * optional bias [O] → [N, O, Ho, Wo] with Ho = ⌊(H + 2·padH − kh)/strideH⌋ + 1 (likewise Wo). Computed as
 * im2col and one matrix product per group on the current backend (src/tensor/conv.ts); the backward pass
 * uses the other two orientations of the same products:
 *   dW = dyᵀ·cols (per group),  dx = col2im(Wᵀ·dy),  db = Σ_{n, y, x} dy.
 * Throws ShapeError for shapes that do not fit (naming them), ConfigError for bad options.
 *
 * @example
 * ```ts
 * import { conv2d, gradcheck, randn, Rng, sum } from 'sparsegrad';
 *
 * const rng = new Rng(0);
 * const x = randn([1, 2, 5, 5], rng, { dtype: 'float64' });
 * const w = randn([3, 2, 3, 3], rng, { dtype: 'float64' });
 * console.log(gradcheck((a, b) => sum(conv2d(a!, b!, null, { padding: 1 })), [x, w]).ok); // true
 * ```
 */
export function conv2d(x: Var, weight: Var, bias: Var | null = null, options: Conv2dOptions = {}): Var {
  // Without a graph to record (inference), no patch matrix is kept and large batches run in chunks.
  const recording = isGradEnabled() && (x.requiresGrad || weight.requiresGrad || bias?.requiresGrad === true);
  const forward = conv2dForward(x.value, weight.value, bias === null ? null : bias.value, options, recording);
  const parents = bias === null ? [x, weight] : [x, weight, bias];
  return record('conv2d', forward.y, parents, (dy, needs) => {
    const { dx, dw, db } = conv2dBackward(forward, weight.value, dy, { x: needs[0]!, w: needs[1]!, bias: needs[2] === true });
    return [dx, dw, db];
  });
}
