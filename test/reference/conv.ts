/**
 * Deliberately naive float64 convolution and pooling: the oracle for src/tensor/conv.ts, pool.ts and the
 * sparse convolution kernels. One loop nest per definition, summed in JS doubles, no im2col.
 */

export interface RefConv {
  batch: number;
  channels: number;
  height: number;
  width: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  groups: number;
}

export function refOutSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** y[n, o, oy, ox] = b[o] + Σ_{c in o's group, i, j} w[o, c', i, j] · x[n, c, oy·sh + i − ph, ox·sw + j − pw]. */
export function referenceConv2d(s: RefConv, x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null): Float64Array {
  const ho = refOutSize(s.height, s.kernelH, s.strideH, s.padH);
  const wo = refOutSize(s.width, s.kernelW, s.strideW, s.padW);
  const cg = s.channels / s.groups;
  const og = s.outChannels / s.groups;
  const y = new Float64Array(s.batch * s.outChannels * ho * wo);
  for (let n = 0; n < s.batch; n++) {
    for (let o = 0; o < s.outChannels; o++) {
      const group = Math.floor(o / og);
      for (let oy = 0; oy < ho; oy++) {
        for (let ox = 0; ox < wo; ox++) {
          let acc = b === null ? 0 : b[o]!;
          for (let cc = 0; cc < cg; cc++) {
            const c = group * cg + cc;
            for (let i = 0; i < s.kernelH; i++) {
              for (let j = 0; j < s.kernelW; j++) {
                const iy = oy * s.strideH + i - s.padH;
                const ix = ox * s.strideW + j - s.padW;
                if (iy < 0 || iy >= s.height || ix < 0 || ix >= s.width) continue;
                acc += w[((o * cg + cc) * s.kernelH + i) * s.kernelW + j]! * x[((n * s.channels + c) * s.height + iy) * s.width + ix]!;
              }
            }
          }
          y[((n * s.outChannels + o) * ho + oy) * wo + ox] = acc;
        }
      }
    }
  }
  return y;
}

/** The gradients of referenceConv2d for upstream dy: dx, dw, db by the same loops, transposed. */
export function referenceConv2dGrads(s: RefConv, x: ArrayLike<number>, w: ArrayLike<number>, dy: ArrayLike<number>): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const ho = refOutSize(s.height, s.kernelH, s.strideH, s.padH);
  const wo = refOutSize(s.width, s.kernelW, s.strideW, s.padW);
  const cg = s.channels / s.groups;
  const og = s.outChannels / s.groups;
  const dx = new Float64Array(s.batch * s.channels * s.height * s.width);
  const dw = new Float64Array(s.outChannels * cg * s.kernelH * s.kernelW);
  const db = new Float64Array(s.outChannels);
  for (let n = 0; n < s.batch; n++) {
    for (let o = 0; o < s.outChannels; o++) {
      const group = Math.floor(o / og);
      for (let oy = 0; oy < ho; oy++) {
        for (let ox = 0; ox < wo; ox++) {
          const g = dy[((n * s.outChannels + o) * ho + oy) * wo + ox]!;
          db[o]! += g;
          for (let cc = 0; cc < cg; cc++) {
            const c = group * cg + cc;
            for (let i = 0; i < s.kernelH; i++) {
              for (let j = 0; j < s.kernelW; j++) {
                const iy = oy * s.strideH + i - s.padH;
                const ix = ox * s.strideW + j - s.padW;
                if (iy < 0 || iy >= s.height || ix < 0 || ix >= s.width) continue;
                const xi = ((n * s.channels + c) * s.height + iy) * s.width + ix;
                const wi = ((o * cg + cc) * s.kernelH + i) * s.kernelW + j;
                dx[xi]! += w[wi]! * g;
                dw[wi]! += x[xi]! * g;
              }
            }
          }
        }
      }
    }
  }
  return { dx, dw, db };
}

/** Max (first maximum) or average (padding counted as zero) pooling of planes [N·C, H, W]. */
export function referencePool2d(
  kind: 'max' | 'avg', planes: number, height: number, width: number,
  k: [number, number], stride: [number, number], pad: [number, number], x: ArrayLike<number>,
): Float64Array {
  const ho = refOutSize(height, k[0], stride[0], pad[0]);
  const wo = refOutSize(width, k[1], stride[1], pad[1]);
  const y = new Float64Array(planes * ho * wo);
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        let acc = kind === 'max' ? -Infinity : 0;
        for (let i = 0; i < k[0]; i++) {
          for (let j = 0; j < k[1]; j++) {
            const iy = oy * stride[0] + i - pad[0];
            const ix = ox * stride[1] + j - pad[1];
            if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
            const v = x[(p * height + iy) * width + ix]!;
            acc = kind === 'max' ? Math.max(acc, v) : acc + v;
          }
        }
        y[(p * ho + oy) * wo + ox] = kind === 'max' ? acc : acc / (k[0] * k[1]);
      }
    }
  }
  return y;
}
