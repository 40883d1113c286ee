import { ConfigError } from '../../errors.ts';
import { convOutputSize } from '../../tensor/kernels/im2col.ts';
import type { CSRMatrix } from '../csr-matrix.ts';
import type { ConvInferenceLayer, ConvPool } from './conv-layers.ts';
import type { Activation, CsrInferenceLayer, InferenceLayer } from './layers.ts';

/*
 * From a model's layer list (a Sequential's spec, a model file's record) to compiled convolution layers: a
 * conv2d takes the activation and the pooling window after it, reshape and flatten vanish (a sample is one
 * channel-major row of features either way), and the image shape is followed along the way. Shared by
 * compileModel (src/compile) and the model-file path (src/infer), which only differ in where weights come from.
 */

/** The fields of a conv2d or pooling layer spec that compiled inference reads (nn/spec.ts has the full types). */
export interface WindowSpecLike {
  readonly type: string;
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly inChannels?: number;
  readonly outChannels?: number;
  readonly groups?: number;
}

/** A conv2d weight as a model holds it: dense [O, C/groups, kh, kw] (with an optional mask) or CSR [O, C/groups·kh·kw]. */
export interface ConvWeightLike {
  readonly dense?: Float32Array;
  readonly mask?: Uint8Array;
  readonly csr?: Pick<CSRMatrix, 'nRows' | 'nCols' | 'indptr' | 'indices' | 'values'>;
}

type AnyLayer = InferenceLayer | CsrInferenceLayer | ConvInferenceLayer;

/**
 * The image shape [C, H, W] after a layer, from the one before it (null: not an image, e.g. after a linear
 * layer or before the first reshape). Reshape to rank 3 starts an image; flatten and linear end it.
 */
export function imageAfter(image: [number, number, number] | null, layer: { readonly type: string; readonly shape?: readonly number[] } & Partial<WindowSpecLike>): [number, number, number] | null {
  switch (layer.type) {
    case 'reshape':
      return layer.shape!.length === 3 ? [layer.shape![0]!, layer.shape![1]!, layer.shape![2]!] : null;
    case 'conv2d':
    case 'maxpool2d':
    case 'avgpool2d': {
      if (image === null) return null;
      const [c, h, w] = image;
      const [k, s, p] = [layer.kernelSize!, layer.stride!, layer.padding!];
      return [layer.type === 'conv2d' ? layer.outChannels! : c, convOutputSize(h, k[0], s[0], p[0]), convOutputSize(w, k[1], s[1], p[1])];
    }
    case 'flatten':
    case 'linear':
      return null;
    default:
      return image;
  }
}

/**
 * A conv2d layer for compileInference on the image [C, H, W]; a grouped convolution's weight is expanded to
 * all input channels (zeros outside each group). Activation 'none' and no pooling yet: the layers after it
 * fuse in. ConfigError when the image shape is unknown (no reshape before it).
 */
export function convLayerFrom(spec: WindowSpecLike, image: readonly [number, number, number] | null, weight: ConvWeightLike, bias: Float32Array | null, where: string): ConvInferenceLayer {
  if (image === null) throw new ConfigError(`${where}: the input image shape is unknown (a reshape to [channels, height, width] must come first)`);
  const [C, H, W] = image;
  const O = spec.outChannels!;
  const groups = spec.groups ?? 1;
  const [kh, kw] = spec.kernelSize;
  const base = { kind: 'conv2d', inChannels: C, inHeight: H, inWidth: W, outChannels: O, kernelSize: spec.kernelSize, stride: spec.stride, padding: spec.padding, bias, activation: 'none' } as const;
  const groupCols = (C / groups) * kh * kw;
  // Column k of group g's filter (its own channels) is column g·groupCols + k of the expanded matrix.
  const shift = (row: number): number => Math.floor(row / (O / groups)) * groupCols;
  if (weight.csr !== undefined) {
    const { indptr, indices, values } = weight.csr;
    if (groups === 1) return { ...base, csr: weight.csr };
    const expanded = Int32Array.from(indices);
    for (let r = 0; r < O; r++) for (let p = indptr[r]!; p < indptr[r + 1]!; p++) expanded[p] = indices[p]! + shift(r);
    return { ...base, csr: { nRows: O, nCols: C * kh * kw, indptr, indices: expanded, values } };
  }
  const dense = weight.dense!;
  if (groups === 1) return { ...base, weight: dense, ...(weight.mask === undefined ? {} : { mask: weight.mask }) };
  const full = new Float32Array(O * C * kh * kw);
  const mask = weight.mask === undefined ? undefined : new Uint8Array(full.length);
  for (let r = 0; r < O; r++) {
    const to = r * C * kh * kw + shift(r);
    full.set(dense.subarray(r * groupCols, (r + 1) * groupCols), to);
    mask?.set(weight.mask!.subarray(r * groupCols, (r + 1) * groupCols), to);
  }
  return { ...base, weight: full, ...(mask === undefined ? {} : { mask }) };
}

/** Fuses a pooling layer into the convolution just before it (ConfigError when there is none). */
export function fusePool(layers: AnyLayer[], spec: WindowSpecLike, where: string): void {
  const previous = layers[layers.length - 1];
  if (previous === undefined || !('kind' in previous) || (previous.pool ?? null) !== null) {
    throw new ConfigError(`${where}: compiled inference fuses a pooling layer into the convolution right before it (with its activation), and there is none`);
  }
  const pool: ConvPool = { kind: spec.type === 'maxpool2d' ? 'max' : 'avg', kernelSize: spec.kernelSize, stride: spec.stride, padding: spec.padding };
  layers[layers.length - 1] = { ...previous, pool };
}

/**
 * Fuses an activation into the convolution before it. After its pooling only for max pooling (a monotone
 * activation commutes with the maximum, not with the average). ConfigError otherwise.
 */
export function fuseConvActivation(layers: AnyLayer[], activation: Activation, where: string): void {
  const previous = layers[layers.length - 1] as ConvInferenceLayer;
  if (previous.activation !== 'none') throw new ConfigError(`${where}: ${activation} right after ${previous.activation} cannot be fused into one layer for compiled inference`);
  if (previous.pool != null && previous.pool.kind !== 'max') throw new ConfigError(`${where}: ${activation} after average pooling cannot be fused into the convolution for compiled inference`);
  layers[layers.length - 1] = { ...previous, activation };
}
