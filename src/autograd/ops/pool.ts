import { avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward, type Pool2dOptions } from '../../tensor/pool.ts';
import { record } from '../graph.ts';
import type { Var } from '../var.ts';

/**
 * 2-D max pooling of x [N, C, H, W] over kernelSize windows (stride defaults to the window; padding, at most
 * half the window, never wins). The gradient goes to the element each window took (the first of equal
 * maxima). Throws ShapeError for an input that is not rank 4 or a window that does not fit, ConfigError for
 * bad options.
 */
export function maxPool2d(x: Var, options: Pool2dOptions): Var {
  const { y, argmax } = maxPool2dForward(x.value, options);
  return record('maxPool2d', y, [x], (dy) => [maxPool2dBackward(x.shape, argmax, dy)]);
}

/**
 * 2-D average pooling of x [N, C, H, W] over kernelSize windows (stride defaults to the window); zero padding
 * counts in the mean (PyTorch's count_include_pad = True). The gradient spreads dy/(kh·kw) over each window.
 * Errors as maxPool2d.
 */
export function avgPool2d(x: Var, options: Pool2dOptions): Var {
  const { y, geometry } = avgPool2dForward(x.value, options);
  return record('avgPool2d', y, [x], (dy) => [avgPool2dBackward(geometry, dy)]);
}
