import type { FloatArray } from '../tensor.ts';

/*
 * The data movement of a 2-D convolution computed as a matrix product (im2col; Chellapilla et al. 2006): the
 * receptive field of every output position becomes one column of a "patch matrix", so the convolution is
 * W[O × K] · cols[K × N·P] with K = C·kh·kw (the weight [O, C, kh, kw] read as [O, K], row-major as stored)
 * and P = Ho·Wo output positions per image. Everything is NCHW and row-major.
 *
 *   im2col          cols[(c·kh + i)·kw + j, n·P + y·Wo + x] = x[n, c, y·sh + i − ph, x·sw + j − pw]   (0 outside)
 *   col2imAdd       dx[n, c, iy, ix] += every cols entry im2col copied from there (the adjoint of im2col)
 *   permuteAddBias  y[n, o, p] = t[o, n, p] + bias[o]          (the product's [O, N·P] → NCHW)
 *   permuteSumBias  dyT[o, n, p] = dy[n, o, p];  db[o] = Σ_{n,p} dy[n, o, p]   (the way back, in one pass)
 *
 * im2col and col2imAdd cost O(K·N·P) element moves (the patch matrix is kh·kw/(sh·sw) times the input);
 * the permutes O(N·O·P). With N = 1 the permutes are the identity on the data and callers skip them.
 */

/** The sizes of one convolution (or pooling window pass): input N×C×H×W, window kh×kw, output Ho×Wo. */
export interface ConvGeometry {
  readonly batch: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly outHeight: number;
  readonly outWidth: number;
}

/** Output positions along one axis: ⌊(size + 2·pad − kernel) / stride⌋ + 1 (≤ 0 when the window does not fit). */
export function convOutputSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** The first and one-past-last output x whose input column x·stride + j − pad lies inside [0, width). */
function validRange(j: number, stride: number, pad: number, width: number, outWidth: number): [number, number] {
  const first = Math.max(0, Math.ceil((pad - j) / stride));
  const end = Math.min(outWidth, Math.floor((width - 1 + pad - j) / stride) + 1);
  return [first, Math.max(first, end)];
}

/**
 * cols[K × N·P] = the patch matrix of x[N, C, H, W] (see the header); every element of cols is written.
 * Sizes: x.length ≥ N·C·H·W, cols.length ≥ C·kh·kw·N·Ho·Wo. O(K·N·P).
 */
export function im2col(g: ConvGeometry, x: FloatArray, cols: FloatArray): void {
  const { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outHeight, outWidth } = g;
  const plane = outHeight * outWidth;
  const rowLength = batch * plane;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < kernelH; i++) {
      for (let j = 0; j < kernelW; j++) {
        const rowBase = ((c * kernelH + i) * kernelW + j) * rowLength;
        const [x0, x1] = validRange(j, strideW, padW, width, outWidth);
        const shift = j - padW;
        for (let n = 0; n < batch; n++) {
          const image = (n * channels + c) * height * width;
          for (let y = 0; y < outHeight; y++) {
            const dst = rowBase + n * plane + y * outWidth;
            const iy = y * strideH + i - padH;
            if (iy < 0 || iy >= height) {
              cols.fill(0, dst, dst + outWidth);
              continue;
            }
            const src = image + iy * width + shift;
            for (let ox = 0; ox < x0; ox++) cols[dst + ox] = 0;
            if (strideW === 1) for (let ox = x0; ox < x1; ox++) cols[dst + ox] = x[src + ox]!;
            else for (let ox = x0; ox < x1; ox++) cols[dst + ox] = x[src + ox * strideW]!;
            for (let ox = x1; ox < outWidth; ox++) cols[dst + ox] = 0;
          }
        }
      }
    }
  }
}

/**
 * dx[N, C, H, W] += the adjoint of im2col applied to cols[K × N·P]: each patch entry is added back to the
 * input element it was copied from (entries that came from padding are dropped). Callers zero dx first for
 * dx = col2im(cols). O(K·N·P).
 */
export function col2imAdd(g: ConvGeometry, cols: FloatArray, dx: FloatArray): void {
  const { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outHeight, outWidth } = g;
  const plane = outHeight * outWidth;
  const rowLength = batch * plane;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < kernelH; i++) {
      for (let j = 0; j < kernelW; j++) {
        const rowBase = ((c * kernelH + i) * kernelW + j) * rowLength;
        const [x0, x1] = validRange(j, strideW, padW, width, outWidth);
        const shift = j - padW;
        for (let n = 0; n < batch; n++) {
          const image = (n * channels + c) * height * width;
          for (let y = 0; y < outHeight; y++) {
            const iy = y * strideH + i - padH;
            if (iy < 0 || iy >= height) continue;
            const src = rowBase + n * plane + y * outWidth;
            const dst = image + iy * width + shift;
            if (strideW === 1) for (let ox = x0; ox < x1; ox++) dx[dst + ox]! += cols[src + ox]!;
            else for (let ox = x0; ox < x1; ox++) dx[dst + ox * strideW]! += cols[src + ox]!;
          }
        }
      }
    }
  }
}

/**
 * y[n, o, p] = t[o, n, p] + bias[o] (bias null: + 0) for t [O × N × P] (the product W·cols) and y [N × O × P].
 * Every element of y is written. O(N·O·P).
 */
export function permuteAddBias(outChannels: number, batch: number, plane: number, t: FloatArray, bias: FloatArray | null, y: FloatArray): void {
  for (let o = 0; o < outChannels; o++) {
    const b = bias === null ? 0 : bias[o]!;
    for (let n = 0; n < batch; n++) {
      const src = (o * batch + n) * plane;
      const dst = (n * outChannels + o) * plane;
      for (let p = 0; p < plane; p++) y[dst + p] = t[src + p]! + b;
    }
  }
}

/**
 * dyT[o, n, p] = dy[n, o, p] (dyT may be null: not wanted) and db[o] = Σ_{n,p} dy[n, o, p] (db may be null),
 * in one pass over dy [N × O × P]. O(N·O·P).
 */
export function permuteSumBias(batch: number, outChannels: number, plane: number, dy: FloatArray, dyT: FloatArray | null, db: FloatArray | null): void {
  for (let o = 0; o < outChannels; o++) {
    let sum = 0;
    for (let n = 0; n < batch; n++) {
      const src = (n * outChannels + o) * plane;
      const dst = (o * batch + n) * plane;
      if (dyT !== null) {
        for (let p = 0; p < plane; p++) {
          const v = dy[src + p]!;
          dyT[dst + p] = v;
          sum += v;
        }
      } else {
        for (let p = 0; p < plane; p++) sum += dy[src + p]!;
      }
    }
    if (db !== null) db[o] = sum;
  }
}
