import { ConfigError, NonFiniteError, ShapeError } from '../../errors.ts';
import { convOutputSize } from '../../tensor/kernels/im2col.ts';
import { isFloat32Array, isUint8Array } from '../../tensor/typed-array.ts';
import { csrFromDense, csrToDense } from '../convert.ts';
import { CSRMatrix } from '../csr-matrix.ts';
import type { Activation, CheckedLayer } from './layers.ts';

/*
 * The convolution layer kind of compiled inference: y = pool(act(conv2d(x, W) + b)) on one image [C, H, W]
 * stored as a row of C·H·W features (channel-major, as a flatten gives it), out [O, Hp, Wp] likewise. A
 * network may start with convolution layers and continue with fully connected ones: a layer's inFeatures is
 * the previous layer's outFeatures, whatever their kinds.
 *
 * The weight is the matrix [O, C·kh·kw] (a filter per row, as stored in model files), dense or CSR: sparse
 * convolution multiplies it with the image's patches (the columns of im2col) with the output's spatial
 * positions as the vector dimension (see the backends' conv files).
 */

/** Pooling fused after a convolution's activation. */
export interface ConvPool {
  readonly kind: 'max' | 'avg';
  readonly kernelSize: readonly [number, number];
  /** Default: the window. */
  readonly stride?: readonly [number, number];
  /** Default 0; at most half the window. Average pooling counts padding as zeros (count_include_pad). */
  readonly padding?: readonly [number, number];
}

/**
 * One convolution layer, y = pool(act(conv2d(x, W) + b)), as plain data: `weight` [outChannels, inChannels,
 * kh, kw] row-major (zeros are pruned weights) or `csr` [outChannels, inChannels·kh·kw], and the image size.
 * Grouped convolutions are given with their weight expanded to all input channels (zeros outside the group).
 */
export interface ConvInferenceLayer {
  readonly kind: 'conv2d';
  readonly inChannels: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly outChannels: number;
  readonly kernelSize: readonly [number, number];
  /** Default [1, 1]. */
  readonly stride?: readonly [number, number];
  /** Zero padding on every side, default [0, 0]. */
  readonly padding?: readonly [number, number];
  /** [outChannels, inChannels, kh, kw] row-major; exactly one of weight and csr. */
  readonly weight?: Float32Array;
  /** Optional keep-mask (1 = keep) of weight's length. */
  readonly mask?: Uint8Array;
  /** The weight as CSR [outChannels, inChannels·kh·kw] (canonical); exactly one of weight and csr. */
  readonly csr?: Pick<CSRMatrix, 'nRows' | 'nCols' | 'indptr' | 'indices' | 'values'>;
  readonly bias: Float32Array | null;
  /** Applied before pooling. */
  readonly activation: Activation;
  readonly pool?: ConvPool | null;
}

/** The checked geometry of a convolution layer (CheckedLayer.conv). */
export interface CheckedConv {
  readonly inChannels: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly outChannels: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  /** The convolution's output plane (before pooling). */
  readonly outHeight: number;
  readonly outWidth: number;
  readonly pool: {
    readonly kind: 'max' | 'avg';
    readonly kernelH: number; readonly kernelW: number; readonly strideH: number; readonly strideW: number; readonly padH: number; readonly padW: number;
    readonly outHeight: number; readonly outWidth: number;
  } | null;
}

/** True for a conv2d layer object (`kind: 'conv2d'`). */
export function isConvLayer(layer: unknown): layer is ConvInferenceLayer {
  return typeof layer === 'object' && layer !== null && (layer as { kind?: unknown }).kind === 'conv2d';
}

function pair(value: readonly number[] | undefined, fallback: readonly [number, number], min: number, what: string, where: string): [number, number] {
  const p = value ?? fallback;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => Number.isSafeInteger(v) && v >= min)) {
    throw new ShapeError(`${where}: ${what} must be a [height, width] pair of integers ≥ ${min}, got ${JSON.stringify(value)}`);
  }
  return [p[0]!, p[1]!];
}

/**
 * A conv layer checked and copied: positive sizes, a kernel that fits, a pool window that fits (padding at most
 * half of it), one weight of the right size (dense with an optional mask, or a valid CSR), finite weights and
 * bias. Throws ShapeError, ConfigError, NonFiniteError or SparseFormatError naming the layer (`where`).
 */
export function checkConvLayer(layer: ConvInferenceLayer, where: string, checkBias: (bias: Float32Array | null, rows: number, activation: Activation) => void): CheckedLayer {
  const { inChannels, inHeight, inWidth, outChannels, bias, activation } = layer;
  for (const [name, n] of [['inChannels', inChannels], ['inHeight', inHeight], ['inWidth', inWidth], ['outChannels', outChannels]] as const) {
    if (!Number.isSafeInteger(n) || n <= 0) throw new ShapeError(`${where}: ${name} must be a positive integer, got ${n}`);
  }
  const [kernelH, kernelW] = pair(layer.kernelSize, [0, 0], 1, 'kernelSize', where);
  const [strideH, strideW] = pair(layer.stride, [1, 1], 1, 'stride', where);
  const [padH, padW] = pair(layer.padding, [0, 0], 0, 'padding', where);
  const outHeight = convOutputSize(inHeight, kernelH, strideH, padH);
  const outWidth = convOutputSize(inWidth, kernelW, strideW, padW);
  if (outHeight < 1 || outWidth < 1) throw new ShapeError(`${where}: the ${kernelH}×${kernelW} kernel does not fit the ${inHeight}×${inWidth} input padded by ${padH}×${padW}`);
  let pool: CheckedConv['pool'] = null;
  if (layer.pool !== undefined && layer.pool !== null) {
    const { kind } = layer.pool;
    if (kind !== 'max' && kind !== 'avg') throw new ConfigError(`${where}: pool.kind must be 'max' or 'avg', got ${JSON.stringify(kind)}`);
    const [pkh, pkw] = pair(layer.pool.kernelSize, [0, 0], 1, 'pool.kernelSize', where);
    const [psh, psw] = pair(layer.pool.stride, [pkh, pkw], 1, 'pool.stride', where);
    const [pph, ppw] = pair(layer.pool.padding, [0, 0], 0, 'pool.padding', where);
    if (2 * pph > pkh || 2 * ppw > pkw) throw new ShapeError(`${where}: pool padding ${pph}×${ppw} is more than half the ${pkh}×${pkw} window`);
    const ph = convOutputSize(outHeight, pkh, psh, pph);
    const pw = convOutputSize(outWidth, pkw, psw, ppw);
    if (ph < 1 || pw < 1) throw new ShapeError(`${where}: the ${pkh}×${pkw} pool window does not fit the ${outHeight}×${outWidth} convolution output`);
    pool = { kind, kernelH: pkh, kernelW: pkw, strideH: psh, strideW: psw, padH: pph, padW: ppw, outHeight: ph, outWidth: pw };
  }
  checkBias(bias, outChannels, activation);
  const cols = inChannels * kernelH * kernelW;
  if ((layer.weight === undefined) === (layer.csr === undefined)) throw new ConfigError(`${where}: a conv layer needs exactly one of weight and csr`);
  let csr: CSRMatrix;
  let masked: Float32Array | null = null;
  if (layer.weight !== undefined) {
    const { weight, mask } = layer;
    if (!isFloat32Array(weight) || weight.length !== outChannels * cols) {
      throw new ShapeError(`${where}: weight must be a Float32Array of [${outChannels}, ${inChannels}, ${kernelH}, ${kernelW}] = ${outChannels * cols} values, got ${weight.length}`);
    }
    if (mask !== undefined && (!isUint8Array(mask) || mask.length !== weight.length)) throw new ShapeError(`${where}: mask has ${mask.length} elements, expected ${weight.length}`);
    masked = weight.slice();
    if (mask !== undefined) for (let i = 0; i < masked.length; i++) if (mask[i] === 0) masked[i] = 0;
    csr = csrFromDense(masked, outChannels, cols);
  } else {
    const given = layer.csr!;
    if (given.nRows !== outChannels || given.nCols !== cols) {
      throw new ShapeError(`${where}: csr is ${given.nRows}×${given.nCols}, expected [outChannels, inChannels·kh·kw] = ${outChannels}×${cols}`);
    }
    const checked = new CSRMatrix(outChannels, cols, given.indptr, given.indices, given.values);
    csr = new CSRMatrix(outChannels, cols, checked.indptr.slice(), checked.indices.slice(), checked.values.slice());
  }
  for (let k = 0; k < csr.values.length; k++) {
    if (!Number.isFinite(csr.values[k]!)) throw new NonFiniteError(`${where}: a weight is ${csr.values[k]}; compiled inference needs finite weights`);
  }
  const conv: CheckedConv = { inChannels, inHeight, inWidth, outChannels, kernelH, kernelW, strideH, strideW, padH, padW, outHeight, outWidth, pool };
  const denseOnce = masked;
  return {
    inFeatures: inChannels * inHeight * inWidth,
    outFeatures: outChannels * (pool === null ? outHeight * outWidth : pool.outHeight * pool.outWidth),
    activation, bias: bias === null ? null : bias.slice(), csr, conv,
    get masked() {
      return denseOnce ?? csrToDense(csr);
    },
  };
}
