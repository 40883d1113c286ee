import { gemmNN } from '../../../tensor/kernels/gemm.ts';
import { im2col, type ConvGeometry } from '../../../tensor/kernels/im2col.ts';
import { avgPoolForward, maxPoolForward } from '../../../tensor/kernels/pool.ts';
import { csrToDense } from '../../convert.ts';
import type { InferenceStrategy } from '../../inference/backend.ts';
import type { CheckedConv } from '../../inference/conv-layers.ts';
import { chooseConvKernel, convPositions, type ConvStage } from '../../inference/conv-model.ts';
import type { CheckedLayer } from '../../inference/layers.ts';
import { applyActivationInPlace } from '../../kernels/activation.ts';
import { flagNonFiniteRows } from '../../kernels/non-finite.ts';
import { JS_COST_MODEL } from './cost-model.ts';

/*
 * The TypeScript backend's convolutions (inference/conv-model.ts), image by image, in float64 like its other
 * kernels. Per layer one of two kernels, by the cost model:
 *
 *   dense   im2col (the patch matrix [K × P], K = C·kh·kw, P = Ho·Wo) and gemmNN: W[O × K] · cols → [O × P].
 *           O(K·P + O·K·P).
 *   csr     direct sparse convolution (Park et al. 2017): the image is copied once into a zero-padded buffer,
 *           and each nonzero W[o, (c, i, j)] adds its weight times a shifted, strided window of channel c
 *           into output plane o; the window's offset is precomputed per nonzero. O(C·Hp·Wp + nnz·P).
 *
 * Then bias, activation (ReLU keeps NaN, as the other kernels) and the fused pooling (tensor/kernels/pool.ts).
 */

interface JsConvLayer {
  readonly conv: CheckedConv;
  readonly kernel: 'dense' | 'csr';
  readonly layer: CheckedLayer;
  /** Dense kernel: W [O × K]. */
  readonly dense: Float32Array | null;
  /** CSR kernel: for each nonzero, the offset of its window's origin in the padded image. */
  readonly offsets: Int32Array | null;
  /** The input image [C × H × W] (its own copy, float64). */
  readonly image: Float64Array;
  /** CSR: the zero-padded image [C × (H + 2ph) × (W + 2pw)]; dense: the patch matrix [K × P]. */
  readonly work: Float64Array;
  /** The convolution's output planes [O × P]. */
  readonly planes: Float64Array;
  /** The pooled output (or `planes` when the layer has no pooling). */
  readonly output: Float64Array;
  readonly argmax: Int32Array;
}

function geometry(conv: CheckedConv): ConvGeometry {
  const { inChannels: channels, inHeight: height, inWidth: width, kernelH, kernelW, strideH, strideW, padH, padW, outHeight, outWidth } = conv;
  return { batch: 1, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outHeight, outWidth };
}

function compileConvLayer(layer: CheckedLayer, strategy: InferenceStrategy): JsConvLayer {
  const conv = layer.conv!;
  const { inChannels: C, inHeight: H, inWidth: W, kernelH, kernelW, padH, padW } = conv;
  const kernel = chooseConvKernel(JS_COST_MODEL, strategy, layer);
  const P = convPositions(conv);
  const [Hp, Wp] = [H + 2 * padH, W + 2 * padW];
  let offsets: Int32Array | null = null;
  if (kernel === 'csr') {
    offsets = new Int32Array(layer.csr.nnz);
    layer.csr.indices.forEach((column, p) => {
      const c = Math.floor(column / (kernelH * kernelW));
      const ij = column - c * kernelH * kernelW;
      const i = Math.floor(ij / kernelW);
      offsets![p] = (c * Hp + i) * Wp + (ij - i * kernelW);
    });
  }
  const planes = new Float64Array(conv.outChannels * P);
  const pooled = conv.pool === null ? planes : new Float64Array(conv.outChannels * conv.pool.outHeight * conv.pool.outWidth);
  return {
    conv, kernel, layer, offsets,
    dense: kernel === 'dense' ? csrToDense(layer.csr) : null,
    image: new Float64Array(C * H * W),
    work: new Float64Array(kernel === 'dense' ? layer.csr.nCols * P : C * Hp * Wp),
    planes, output: pooled, argmax: new Int32Array(pooled.length),
  };
}

/** One image through one layer: layer.image → layer.output. */
function runConvLayer(l: JsConvLayer): void {
  const { conv, layer, planes, work } = l;
  const { inChannels: C, inHeight: H, inWidth: W, outChannels: O, strideH, strideW, padH, padW, outHeight: Ho, outWidth: Wo } = conv;
  const P = Ho * Wo;
  if (l.kernel === 'dense') {
    im2col(geometry(conv), l.image, work);
    gemmNN(O, P, layer.csr.nCols, l.dense!, work, planes);
  } else {
    const [Hp, Wp] = [H + 2 * padH, W + 2 * padW];
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < H; y++) {
        const to = (c * Hp + y + padH) * Wp + padW;
        const from = (c * H + y) * W;
        for (let x = 0; x < W; x++) work[to + x] = l.image[from + x]!;
      }
    }
    planes.fill(0);
    const { indptr, values } = layer.csr;
    const offsets = l.offsets!;
    const rowStep = strideH * Wp;
    for (let o = 0; o < O; o++) {
      for (let p = indptr[o]!; p < indptr[o + 1]!; p++) {
        const w = values[p]!;
        let at = offsets[p]!;
        for (let y = 0, out = o * P; y < Ho; y++, at += rowStep) {
          for (let x = 0, src = at; x < Wo; x++, out++, src += strideW) planes[out] = planes[out]! + w * work[src]!;
        }
      }
    }
  }
  const { bias, activation } = layer;
  if (bias !== null || activation === 'relu') {
    for (let o = 0; o < O; o++) {
      const b = bias === null ? 0 : bias[o]!;
      for (let k = o * P; k < (o + 1) * P; k++) {
        const z = planes[k]! + b;
        planes[k] = activation === 'relu' && z < 0 ? 0 : z;
      }
    }
  }
  if (activation === 'sigmoid' || activation === 'tanh') applyActivationInPlace(activation, planes);
  const pool = conv.pool;
  if (pool === null) return;
  const g: ConvGeometry = { batch: 1, channels: O, height: Ho, width: Wo, kernelH: pool.kernelH, kernelW: pool.kernelW, strideH: pool.strideH, strideW: pool.strideW, padH: pool.padH, padW: pool.padW, outHeight: pool.outHeight, outWidth: pool.outWidth };
  if (pool.kind === 'max') maxPoolForward(g, planes, l.output, l.argmax);
  else avgPoolForward(g, planes, l.output);
}

/** The TypeScript backend's ConvStage for the validated convolution layers (network order). */
export function compileJsConvStage(layers: readonly CheckedLayer[], strategy: InferenceStrategy): ConvStage {
  const compiled = layers.map((layer) => compileConvLayer(layer, strategy));
  const inFeatures = layers[0]!.inFeatures;
  const outFeatures = layers[layers.length - 1]!.outFeatures;
  return {
    inFeatures, outFeatures,
    kernels: compiled.map((l) => l.kernel),
    run(x, batch, out, nonFinite) {
      for (let s = 0; s < batch; s++) {
        compiled[0]!.image.set(x.subarray(s * inFeatures, (s + 1) * inFeatures));
        compiled.forEach((l, i) => {
          if (i > 0) l.image.set(compiled[i - 1]!.output);
          runConvLayer(l);
        });
        out.set(compiled[compiled.length - 1]!.output, s * outFeatures);
      }
      return flagNonFiniteRows(batch, inFeatures, x, nonFinite);
    },
  };
}
