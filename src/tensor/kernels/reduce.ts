import type { FloatArray } from '../tensor.ts';

/*
 * Reductions over one axis. A tensor is viewed as [outer, len, inner]: the reduced axis has `len`
 * elements, `outer` is the product of the axes before it and `inner` of the axes after it. The result is
 * [outer, inner]. Sums accumulate in a JavaScript double.
 */

export function sumAxisKernel(outer: number, len: number, inner: number, x: FloatArray, out: FloatArray): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let acc = 0;
      const base = o * len;
      for (let i = 0; i < len; i++) acc += x[base + i]!;
      out[o] = acc;
    }
    return;
  }
  out.fill(0, 0, outer * inner);
  for (let o = 0; o < outer; o++) {
    const outBase = o * inner;
    for (let i = 0; i < len; i++) {
      const base = (o * len + i) * inner;
      for (let j = 0; j < inner; j++) out[outBase + j]! += x[base + j]!;
    }
  }
}

/**
 * Maximum over the axis; `argOut[o*inner+j]` receives the position (0..len-1) of the first maximum.
 * A NaN anywhere along the axis makes the maximum NaN (and its position the first NaN).
 */
export function maxAxisKernel(outer: number, len: number, inner: number, x: FloatArray, out: FloatArray, argOut: Int32Array): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * len * inner + j;
      let best = x[base]!;
      let bestAt = 0;
      for (let i = 1; i < len && best === best; i++) {
        const v = x[base + i * inner]!;
        if (v > best || v !== v) {
          best = v;
          bestAt = i;
        }
      }
      out[o * inner + j] = best;
      argOut[o * inner + j] = bestAt;
    }
  }
}

/**
 * Softmax (or log-softmax) over the axis, numerically stable: the maximum is subtracted before exp so no
 * term overflows, and log-softmax is computed as (x - max) - log(sum exp(x - max)) rather than log(softmax).
 */
export function softmaxAxisKernel(outer: number, len: number, inner: number, x: FloatArray, out: FloatArray, log: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * len * inner + j;
      let max = -Infinity;
      for (let i = 0; i < len; i++) {
        const v = x[base + i * inner]!;
        if (v > max || v !== v) max = v;
      }
      if (max === -Infinity) max = 0; // every entry -Infinity (or len 0): keep the arithmetic finite
      let sum = 0;
      for (let i = 0; i < len; i++) sum += Math.exp(x[base + i * inner]! - max);
      if (log) {
        const logSum = Math.log(sum);
        for (let i = 0; i < len; i++) out[base + i * inner] = x[base + i * inner]! - max - logSum;
      } else {
        const inv = 1 / sum;
        for (let i = 0; i < len; i++) out[base + i * inner] = Math.exp(x[base + i * inner]! - max) * inv;
      }
    }
  }
}
