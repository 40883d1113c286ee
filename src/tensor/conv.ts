import { ConfigError, ShapeError, StateError } from '../errors.ts';
import { gemmNN, gemmNT, gemmTN } from './kernels/gemm.ts';
import { col2imAdd, convOutputSize, im2col, permuteAddBias, permuteSumBias, type ConvGeometry } from './kernels/im2col.ts';
import { formatShape } from './shape.ts';
import { allocateOverwritten, allocateResult, resultDType, Tensor, type DType, type FloatArray } from './tensor.ts';
import { simdGemmNN, simdGemmNT, simdGemmTN } from './wasm/gemm.ts';
import { activeSimd } from './wasm/instance.ts';

/*
 * 2-D convolution at the tensor level (no gradients recorded; src/autograd/ops/conv.ts adds them): NCHW
 * input x [N, C, H, W], weight w [O, C/groups, kh, kw], optional bias [O], output [N, O, Ho, Wo]. Computed
 * as im2col + one matrix product per group (kernels/im2col.ts), on the current backend's GEMM: the SIMD
 * GEMM (threads included) for float32 on 'wasm-simd', the TypeScript GEMM otherwise.
 *
 *   forward   t_g = W_g · cols_g                 [O/g × N·P]   then y = permute(t) + bias
 *   backward  dyT = permute(dy), db = Σ dy
 *             dW_g = dyT_g · cols_gᵀ             [O/g × K/g]   (gemmNT)
 *             dcols_g = W_gᵀ · dyT_g             [K/g × N·P]   (gemmTN), then dx = col2im(dcols)
 *
 * Group g owns input channels [g·C/g, (g+1)·C/g) and output channels [g·O/g, (g+1)·O/g); its rows of cols,
 * of W (as [O, K/g]) and of t are contiguous blocks, so each group is one product on subarrays.
 */

/** Stride, zero padding and groups of `conv2d`; a number means the same along height and width. */
export interface Conv2dOptions {
  /** Step between windows (default 1). */
  readonly stride?: number | readonly [number, number];
  /** Zeros added on every side of the input (default 0). */
  readonly padding?: number | readonly [number, number];
  /** Channel groups (default 1); both channel counts must be multiples of it. */
  readonly groups?: number;
}

/** The checked sizes of one convolution: the geometry of its windows, its channels and groups. */
export interface Conv2dGeometry extends ConvGeometry {
  readonly outChannels: number;
  readonly groups: number;
}

/** A [height, width] pair from a number or a pair, each a safe integer ≥ `min`; ConfigError otherwise. */
export function pairOf(value: number | readonly [number, number], name: string, min: number): [number, number] {
  const pair: readonly unknown[] = typeof value === 'number' ? [value, value] : Array.isArray(value) ? value : [];
  if (pair.length !== 2 || !pair.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min)) {
    throw new ConfigError(`${name} must be an integer ≥ ${min} or a [height, width] pair of them, got ${JSON.stringify(value)}`);
  }
  return [pair[0] as number, pair[1] as number];
}

/**
 * The geometry of conv2d(x, w) with `options`, checked: x rank 4, w rank 4, channels that match the groups, a
 * kernel that fits the padded input. Throws ShapeError (shapes) or ConfigError (options), naming both shapes.
 */
export function conv2dGeometry(xShape: readonly number[], wShape: readonly number[], options: Conv2dOptions = {}): Conv2dGeometry {
  const shapes = `input ${formatShape(xShape)}, weight ${formatShape(wShape)}`;
  if (xShape.length !== 4) throw new ShapeError(`conv2d needs an input [batch, channels, height, width], got ${shapes}`);
  if (wShape.length !== 4) throw new ShapeError(`conv2d needs a weight [outChannels, inChannels/groups, kh, kw], got ${shapes}`);
  const [strideH, strideW] = pairOf(options.stride ?? 1, 'conv2d stride', 1);
  const [padH, padW] = pairOf(options.padding ?? 0, 'conv2d padding', 0);
  const groups = options.groups ?? 1;
  if (!Number.isSafeInteger(groups) || groups < 1) throw new ConfigError(`conv2d groups must be a positive integer, got ${groups}`);
  const [batch, channels, height, width] = xShape as [number, number, number, number];
  const [outChannels, groupChannels, kernelH, kernelW] = wShape as [number, number, number, number];
  if (channels % groups !== 0 || outChannels % groups !== 0) {
    throw new ShapeError(`conv2d: ${groups} groups must divide the input channels (${channels}) and the output channels (${outChannels}); ${shapes}`);
  }
  if (groupChannels * groups !== channels) throw new ShapeError(`conv2d: the weight takes ${groupChannels * groups} input channels (${groupChannels} per group × ${groups}) but the input has ${channels}; ${shapes}`);
  if (kernelH < 1 || kernelW < 1 || outChannels < 1) throw new ShapeError(`conv2d: the weight must have at least one output channel and a kernel of at least 1×1; ${shapes}`);
  const outHeight = convOutputSize(height, kernelH, strideH, padH);
  const outWidth = convOutputSize(width, kernelW, strideW, padW);
  if (outHeight < 1 || outWidth < 1) {
    throw new ShapeError(`conv2d: a ${kernelH}×${kernelW} kernel does not fit the ${height}×${width} input padded by ${padH}×${padW}; ${shapes}`);
  }
  return { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outHeight, outWidth, outChannels, groups };
}

type Form = 'NN' | 'NT' | 'TN';

/** C (+)= op(A)·op(B) on the current backend (the SIMD GEMM for float32 on 'wasm-simd'). */
function gemm(form: Form, m: number, n: number, k: number, a: FloatArray, b: FloatArray, c: FloatArray, accumulate = false): void {
  const simd = a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array ? activeSimd() : null;
  if (simd !== null) {
    const [a32, b32, c32] = [a as Float32Array, b as Float32Array, c as Float32Array];
    if (form === 'NN') simdGemmNN(m, n, k, a32, b32, c32, accumulate);
    else if (form === 'NT') simdGemmNT(m, n, k, a32, b32, c32, accumulate);
    else simdGemmTN(m, n, k, a32, b32, c32, accumulate);
  } else if (form === 'NN') gemmNN(m, n, k, a, b, c, accumulate);
  else if (form === 'NT') gemmNT(m, n, k, a, b, c, accumulate);
  else gemmTN(m, n, k, a, b, c, accumulate);
}

/** What conv2dForward returns: the output, and the patch matrix the weight gradient needs. */
export interface Conv2dForward {
  readonly y: Tensor;
  /** cols [C·kh·kw, N·Ho·Wo] (see kernels/im2col.ts); null when the forward was asked not to keep it. */
  readonly cols: FloatArray | null;
  readonly geometry: Conv2dGeometry;
}

/**
 * The largest patch matrix (elements) a forward that keeps no patch matrix builds at once: 4 Mi floats, 16 MiB.
 * Inference on a large batch (evaluate's 1000 samples: LeNet-5's conv2 would need 128 MiB) runs in chunks.
 */
export const MAX_TRANSIENT_PATCH_ELEMENTS = 2 ** 22;

/**
 * y = conv2d(x, w) + bias (see the header). float64 if any operand is. With `keepCols` false (inference: no
 * gradient will be asked for) the patch matrix is not returned and a large batch runs in chunks of samples,
 * so memory stays bounded. Throws what conv2dGeometry throws, and ShapeError for a bias that is not [outChannels].
 */
export function conv2dForward(x: Tensor, w: Tensor, bias: Tensor | null, options: Conv2dOptions = {}, keepCols = true): Conv2dForward {
  const g = conv2dGeometry(x.shape, w.shape, options);
  if (bias !== null && (bias.rank !== 1 || bias.shape[0] !== g.outChannels)) {
    throw new ShapeError(`conv2d: bias has shape ${formatShape(bias.shape)}, expected [${g.outChannels}]`);
  }
  const dtype: DType = bias !== null && bias.dtype === 'float64' ? 'float64' : resultDType(x, w);
  const xd = x.as(dtype).data;
  const wd = w.as(dtype).data;
  const b = bias === null ? null : bias.as(dtype).data;
  const plane = g.outHeight * g.outWidth;
  const K = g.channels * g.kernelH * g.kernelW;
  const y = new Tensor(allocateOverwritten(g.batch * g.outChannels * plane, dtype), [g.batch, g.outChannels, g.outHeight, g.outWidth]);
  const perSample = K * plane;
  const chunk = keepCols ? g.batch : Math.max(1, Math.min(g.batch, Math.floor(MAX_TRANSIENT_PATCH_ELEMENTS / Math.max(perSample, 1))));
  let cols: FloatArray | null = null;
  for (let n0 = 0; n0 < g.batch; n0 += chunk) {
    const part = { ...g, batch: Math.min(chunk, g.batch - n0) };
    const xPart = xd.subarray(n0 * g.channels * g.height * g.width);
    cols = forwardPart(part, xPart, wd, b, y.data.subarray(n0 * g.outChannels * plane), dtype);
  }
  return { y, cols: keepCols ? cols : null, geometry: g };
}

/** conv2dForward on one chunk of samples: y (that chunk's output) from x (its input); returns its patch matrix. */
function forwardPart(g: Conv2dGeometry, x: FloatArray, w: FloatArray, b: FloatArray | null, y: FloatArray, dtype: DType): FloatArray {
  const plane = g.outHeight * g.outWidth;
  const columns = g.batch * plane;
  const K = g.channels * g.kernelH * g.kernelW;
  const cols = allocateOverwritten(K * columns, dtype);
  im2col(g, x, cols);
  // With one image the product's [O, N·P] is already NCHW: multiply straight into y.
  const t = g.batch === 1 ? y : allocateOverwritten(g.outChannels * columns, dtype);
  const [og, kg] = [g.outChannels / g.groups, K / g.groups];
  for (let group = 0; group < g.groups; group++) {
    gemm('NN', og, columns, kg, w.subarray(group * og * kg), cols.subarray(group * kg * columns), t.subarray(group * og * columns));
  }
  if (g.batch !== 1 || b !== null) permuteAddBias(g.outChannels, g.batch, plane, t, b, y);
  return cols;
}

/** Which gradients conv2dBackward computes. */
export interface Conv2dNeeds {
  readonly x: boolean;
  readonly w: boolean;
  readonly bias: boolean;
}

/**
 * The gradients of conv2dForward for the upstream gradient dy [N, O, Ho, Wo]: dx [N, C, H, W] (from w), dw
 * (from cols) and db [O], each only when `needs` asks (else null). The inputs are the forward's.
 */
export function conv2dBackward(forward: Conv2dForward, w: Tensor, dy: Tensor, needs: Conv2dNeeds): { dx: Tensor | null; dw: Tensor | null; db: Tensor | null } {
  const { geometry: g } = forward;
  if (forward.cols === null) throw new StateError('conv2dBackward: the forward pass kept no patch matrix (it ran with keepCols = false)');
  const cols = forward.cols;
  const dtype: DType = cols instanceof Float64Array || dy.dtype === 'float64' ? 'float64' : 'float32';
  const dyd = dy.as(dtype).data;
  const wd = w.as(dtype).data;
  const plane = g.outHeight * g.outWidth;
  const columns = g.batch * plane;
  const K = g.channels * g.kernelH * g.kernelW;
  const [og, kg] = [g.outChannels / g.groups, K / g.groups];
  const db = needs.bias ? new Tensor(allocateOverwritten(g.outChannels, dtype), [g.outChannels]) : null;
  const wantsProducts = needs.x || needs.w;
  let dyT: FloatArray | null = null;
  if (wantsProducts && g.batch === 1) {
    dyT = dyd;
    if (db !== null) permuteSumBias(1, g.outChannels, plane, dyd, null, db.data);
  } else if (wantsProducts || db !== null) {
    dyT = wantsProducts ? allocateOverwritten(g.outChannels * columns, dtype) : null;
    permuteSumBias(g.batch, g.outChannels, plane, dyd, dyT, db === null ? null : db.data);
  }
  let dw: Tensor | null = null;
  if (needs.w) {
    dw = new Tensor(allocateOverwritten(w.size, dtype), w.shape);
    for (let group = 0; group < g.groups; group++) {
      gemm('NT', og, kg, columns, dyT!.subarray(group * og * columns), cols.subarray(group * kg * columns), dw.data.subarray(group * og * kg));
    }
  }
  let dx: Tensor | null = null;
  if (needs.x) {
    const dcols = allocateOverwritten(K * columns, dtype);
    for (let group = 0; group < g.groups; group++) {
      gemm('TN', kg, columns, og, wd.subarray(group * og * kg), dyT!.subarray(group * og * columns), dcols.subarray(group * kg * columns));
    }
    dx = new Tensor(allocateResult(g.batch * g.channels * g.height * g.width, dtype), [g.batch, g.channels, g.height, g.width]);
    col2imAdd(g, dcols, dx.data);
  }
  return { dx, dw, db };
}
