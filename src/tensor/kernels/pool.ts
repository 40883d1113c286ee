import type { FloatArray } from '../tensor.ts';
import type { ConvGeometry } from './im2col.ts';

/*
 * 2-D max and average pooling over N·C independent planes (NCHW, row-major), with the window, stride and
 * zero padding of a ConvGeometry (its `channels` counts the planes of one image).
 *
 *   maxPoolForward    y = the largest x in each window (padding never wins: it is −∞ here); argmax = the
 *                     flat index into x of the first largest element (a NaN wins over every number)
 *   maxPoolBackward   dx[argmax[k]] += dy[k]
 *   avgPoolForward    y = Σ window / (kh·kw), padding counted as zeros (PyTorch's count_include_pad = True)
 *   avgPoolBackward   dx[window] += dy / (kh·kw)
 *
 * Each is O(N·C·Ho·Wo·kh·kw). Callers keep padding < the window, so every window holds an input element.
 */

/** y[N, C, Ho, Wo] and argmax (same size) for x[N, C, H, W]; every element of y and argmax is written. */
export function maxPoolForward(g: ConvGeometry, x: FloatArray, y: FloatArray, argmax: Int32Array): void {
  const { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outHeight, outWidth } = g;
  let k = 0;
  for (let plane = 0; plane < batch * channels; plane++) {
    const base = plane * height * width;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = Math.max(0, oy * strideH - padH);
      const y1 = Math.min(height, oy * strideH - padH + kernelH);
      for (let ox = 0; ox < outWidth; ox++, k++) {
        const x0 = Math.max(0, ox * strideW - padW);
        const x1 = Math.min(width, ox * strideW - padW + kernelW);
        let best = -Infinity;
        let at = base + y0 * width + x0;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const i = base + iy * width + ix;
            const v = x[i]!;
            // NaN propagates (as in PyTorch): the first NaN is taken and never replaced.
            if (v > best || (v !== v && best === best)) {
              best = v;
              at = i;
            }
          }
        }
        y[k] = best;
        argmax[k] = at;
      }
    }
  }
}

/** dx[argmax[k]] += dy[k] for k < count (dx zeroed by the caller for dx = the gradient). O(count). */
export function maxPoolBackward(count: number, dy: FloatArray, argmax: Int32Array, dx: FloatArray): void {
  for (let k = 0; k < count; k++) dx[argmax[k]!]! += dy[k]!;
}

/** y[N, C, Ho, Wo] = window means of x[N, C, H, W] (padding counted as zeros); every element of y is written. */
export function avgPoolForward(g: ConvGeometry, x: FloatArray, y: FloatArray): void {
  const { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outHeight, outWidth } = g;
  const scale = 1 / (kernelH * kernelW);
  let k = 0;
  for (let plane = 0; plane < batch * channels; plane++) {
    const base = plane * height * width;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = Math.max(0, oy * strideH - padH);
      const y1 = Math.min(height, oy * strideH - padH + kernelH);
      for (let ox = 0; ox < outWidth; ox++, k++) {
        const x0 = Math.max(0, ox * strideW - padW);
        const x1 = Math.min(width, ox * strideW - padW + kernelW);
        let sum = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) sum += x[base + iy * width + ix]!;
        y[k] = sum * scale;
      }
    }
  }
}

/** dx[N, C, H, W] += the adjoint of avgPoolForward applied to dy (dx zeroed by the caller). */
export function avgPoolBackward(g: ConvGeometry, dy: FloatArray, dx: FloatArray): void {
  const { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outHeight, outWidth } = g;
  const scale = 1 / (kernelH * kernelW);
  let k = 0;
  for (let plane = 0; plane < batch * channels; plane++) {
    const base = plane * height * width;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = Math.max(0, oy * strideH - padH);
      const y1 = Math.min(height, oy * strideH - padH + kernelH);
      for (let ox = 0; ox < outWidth; ox++, k++) {
        const x0 = Math.max(0, ox * strideW - padW);
        const x1 = Math.min(width, ox * strideW - padW + kernelW);
        const g1 = dy[k]! * scale;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) dx[base + iy * width + ix]! += g1;
      }
    }
  }
}
