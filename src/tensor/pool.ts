import { ConfigError, ShapeError } from '../errors.ts';
import { pairOf } from './conv.ts';
import { convOutputSize, type ConvGeometry } from './kernels/im2col.ts';
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward } from './kernels/pool.ts';
import { formatShape } from './shape.ts';
import { allocateOverwritten, allocateResult, Tensor } from './tensor.ts';

/*
 * 2-D max and average pooling at the tensor level (no gradients recorded; src/autograd/ops/pool.ts adds them),
 * over NCHW input [N, C, H, W] → [N, C, Ho, Wo] with the kernels of kernels/pool.ts.
 */

/** Window, stride and zero padding of a pooling op; a number means the same along height and width. */
export interface Pool2dOptions {
  /** The window (required). */
  readonly kernelSize: number | readonly [number, number];
  /** Step between windows (default: the window, i.e. non-overlapping windows). */
  readonly stride?: number | readonly [number, number];
  /** Padding on every side (default 0), at most half the window (as PyTorch requires). */
  readonly padding?: number | readonly [number, number];
}

/**
 * The checked geometry of a pooling op on an input of `xShape`: rank 4, padding ≤ half the window, a window
 * that fits. Throws ShapeError or ConfigError naming the shape and the window.
 */
export function pool2dGeometry(op: string, xShape: readonly number[], options: Pool2dOptions): ConvGeometry {
  if (xShape.length !== 4) throw new ShapeError(`${op} needs an input [batch, channels, height, width], got ${formatShape(xShape)}`);
  if (options === null || typeof options !== 'object') throw new ConfigError(`${op} needs options with a kernelSize`);
  const [kernelH, kernelW] = pairOf(options.kernelSize, `${op} kernelSize`, 1);
  const [strideH, strideW] = pairOf(options.stride ?? [kernelH, kernelW], `${op} stride`, 1);
  const [padH, padW] = pairOf(options.padding ?? 0, `${op} padding`, 0);
  if (2 * padH > kernelH || 2 * padW > kernelW) {
    throw new ConfigError(`${op}: padding ${padH}×${padW} must be at most half the ${kernelH}×${kernelW} window`);
  }
  const [batch, channels, height, width] = xShape as [number, number, number, number];
  const outHeight = convOutputSize(height, kernelH, strideH, padH);
  const outWidth = convOutputSize(width, kernelW, strideW, padW);
  if (outHeight < 1 || outWidth < 1) {
    throw new ShapeError(`${op}: a ${kernelH}×${kernelW} window does not fit the input ${formatShape(xShape)} padded by ${padH}×${padW}`);
  }
  return { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outHeight, outWidth };
}

function outputOf(g: ConvGeometry, x: Tensor): Tensor {
  return new Tensor(allocateOverwritten(g.batch * g.channels * g.outHeight * g.outWidth, x.dtype), [g.batch, g.channels, g.outHeight, g.outWidth]);
}

/** Max pooling: the output, and for each output element the flat index of the input element it came from. */
export function maxPool2dForward(x: Tensor, options: Pool2dOptions): { y: Tensor; argmax: Int32Array; geometry: ConvGeometry } {
  const g = pool2dGeometry('maxPool2d', x.shape, options);
  const y = outputOf(g, x);
  const argmax = new Int32Array(y.size);
  maxPoolForward(g, x.data, y.data, argmax);
  return { y, argmax, geometry: g };
}

/** The input gradient of max pooling: dy routed to the element each window took. */
export function maxPool2dBackward(xShape: readonly number[], argmax: Int32Array, dy: Tensor): Tensor {
  const dx = new Tensor(allocateResult(xShape.reduce((a, b) => a * b, 1), dy.dtype), xShape);
  maxPoolBackward(dy.size, dy.data, argmax, dx.data);
  return dx;
}

/** Average pooling (padding counted as zeros: PyTorch's count_include_pad = True). */
export function avgPool2dForward(x: Tensor, options: Pool2dOptions): { y: Tensor; geometry: ConvGeometry } {
  const g = pool2dGeometry('avgPool2d', x.shape, options);
  const y = outputOf(g, x);
  avgPoolForward(g, x.data, y.data);
  return { y, geometry: g };
}

/** The input gradient of average pooling: dy / (kh·kw) spread over each window. */
export function avgPool2dBackward(g: ConvGeometry, dy: Tensor): Tensor {
  const dx = new Tensor(allocateResult(g.batch * g.channels * g.height * g.width, dy.dtype), [g.batch, g.channels, g.height, g.width]);
  avgPoolBackward(g, dy.data, dx.data);
  return dx;
}
