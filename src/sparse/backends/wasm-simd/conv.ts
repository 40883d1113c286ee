import { avgPoolForward, maxPoolForward } from '../../../tensor/kernels/pool.ts';
import { csrToDense } from '../../convert.ts';
import type { InferenceStrategy } from '../../inference/backend.ts';
import type { CheckedConv } from '../../inference/conv-layers.ts';
import { chooseConvKernel, type ConvStage } from '../../inference/conv-model.ts';
import type { CheckedLayer } from '../../inference/layers.ts';
import { applyActivationInPlace } from '../../kernels/activation.ts';
import type { WasmArena } from './arena.ts';
import { WASM_COST_MODEL } from './cost-model.ts';
import type { WasmKernels } from './kernels.ts';

/*
 * The WebAssembly SIMD backend's convolutions (inference/conv-model.ts), image by image, with the output's
 * spatial positions as the vector dimension, so the kernels vectorise at batch 1 (kernels-conv.ts).
 *
 * The prepared input X: the image zero-padded and split by column phase, X[c][q][r][u] = padded[c][r][u·sw + q]
 * (q < sw, r < H + 2ph, u < Wq = ⌈(W + 2pw)/sw⌉). Patch row k = (c, i, j) of output (y, x) then sits at
 * X[c][j mod sw][y·sh + i][x + ⌊j/sw⌋]: 4 consecutive output columns read 4 consecutive floats, at the
 * position's origin (y·sh·Wq + x) plus the row's offset ((c·sw + j mod sw)·Hp + i)·Wq + ⌊j/sw⌋.
 * The output planes have rows of Wo rounded up to 4 (the lanes past Wo are computed and never read).
 *
 * Per layer one of two kernels, by the cost model:
 *   csr     convCsrTiles: each nonzero adds its weight times a shifted window of X (4 vectors of 4 positions).
 *   dense   im2colTile16 + densePanel16 + scatterTile16 per tile of 16 positions (im2col + GEMM, tiled).
 * Then sigmoid/tanh (not a kernel), and pool2d (max/avg without padding; a 1×1 window compacts the planes).
 * A pooling window with padding runs the TypeScript pooling on the compacted planes.
 */

interface WasmConvLayer {
  readonly conv: CheckedConv;
  readonly layer: CheckedLayer;
  readonly kernel: 'dense' | 'csr';
  /** Byte addresses of the arena. */
  readonly x: number; readonly rowOffsets: number; readonly tiles: number; readonly nTiles: number;
  readonly bias: number; readonly indptr: number; readonly offsets: number; readonly values: number; readonly dense: number;
  readonly panelIn: number; readonly panelOut: number; readonly planes: number; readonly compact: number; readonly output: number;
  readonly rowFloats: number; readonly phaseCols: number;
  /** Max pooling with padding (TypeScript): the winners' indices. */
  readonly argmax: Int32Array;
}

function placeConvLayer(arena: WasmArena, layer: CheckedLayer, strategy: InferenceStrategy): WasmConvLayer {
  const conv = layer.conv!;
  const { inChannels: C, inHeight: H, inWidth: W, outChannels: O, kernelH, kernelW, strideH, strideW, padH, padW, outHeight: Ho, outWidth: Wo } = conv;
  const kernel = chooseConvKernel(WASM_COST_MODEL, strategy, layer);
  const Hp = H + 2 * padH;
  const phaseCols = Math.ceil((W + 2 * padW) / strideW);
  // Slack past the last row: the garbage lanes of the last positions read up to 3 + ⌊(kw−1)/sw⌋ floats beyond.
  const x = arena.alloc(4 * (C * strideW * Hp * phaseCols + phaseCols + kernelW + 8));
  const K = layer.csr.nCols;
  const rowOffsetFloats = new Int32Array(K);
  for (let c = 0, k = 0; c < C; c++) {
    for (let i = 0; i < kernelH; i++) {
      for (let j = 0; j < kernelW; j++, k++) rowOffsetFloats[k] = ((c * strideW + (j % strideW)) * Hp + i) * phaseCols + Math.floor(j / strideW);
    }
  }
  const rowFloats = 4 * Math.ceil(Wo / 4);
  const vectors: [number, number][] = [];
  for (let y = 0; y < Ho; y++) for (let x0 = 0; x0 < Wo; x0 += 4) vectors.push([4 * (y * strideH * phaseCols + x0), 4 * (y * rowFloats + x0)]);
  const V = 4; // vectors per tile (16 positions)
  const nTiles = Math.ceil(vectors.length / V);
  const tileData = new Int32Array(2 * V * nTiles);
  for (let t = 0; t < nTiles; t++) {
    for (let v = 0; v < V; v++) {
      const [inAt, outAt] = vectors[Math.min(V * t + v, vectors.length - 1)]!; // a short last tile repeats its last vector
      tileData[2 * V * t + v] = inAt;
      tileData[2 * V * t + V + v] = outAt;
    }
  }
  const { csr } = layer;
  const pool = conv.pool;
  return {
    conv, layer, kernel, x, nTiles, rowFloats, phaseCols,
    rowOffsets: arena.allocI32(rowOffsetFloats.map((f) => 4 * f)),
    tiles: arena.allocI32(tileData),
    bias: layer.bias === null ? arena.alloc(4 * O) : arena.allocF32(layer.bias),
    indptr: kernel === 'csr' ? arena.allocI32(csr.indptr) : 0,
    offsets: kernel === 'csr' ? arena.allocI32(Array.from(csr.indices, (column) => 4 * rowOffsetFloats[column]!)) : 0,
    values: kernel === 'csr' ? arena.allocF32(csr.values) : 0,
    dense: kernel === 'dense' ? arena.allocF32(csrToDense(csr)) : 0,
    panelIn: kernel === 'dense' ? arena.alloc(64 * K) : 0,
    panelOut: kernel === 'dense' ? arena.alloc(64 * O) : 0,
    // Slack for pool2x2, which reads up to 8·⌈outW/4⌉ columns of a row and writes 4·⌈outW/4⌉ outputs of one.
    planes: arena.alloc(4 * O * Ho * rowFloats + 64),
    // Planes whose rows need no padding (Wo a multiple of 4) are their own compact form.
    compact: (pool === null && rowFloats !== Wo) || (pool !== null && (pool.padH > 0 || pool.padW > 0)) ? arena.alloc(4 * O * Ho * Wo) : 0,
    output: pool === null ? 0 : arena.alloc(4 * layer.outFeatures + 16),
    argmax: new Int32Array(pool === null ? 0 : layer.outFeatures),
  };
}

/**
 * Copies one image [C × H × W] (at `from` in `image`: the arena's f32 view or the caller's array) into the
 * layer's prepared input X. Without padding and column stride X is the image itself: one block copy.
 */
function prepareInput(l: WasmConvLayer, f32: Float32Array, image: Float32Array | Float64Array, from: number): void {
  const { inChannels: C, inHeight: H, inWidth: W, strideW, padH, padW } = l.conv;
  const base = l.x / 4;
  if (padH === 0 && padW === 0 && strideW === 1) {
    if (image === f32) f32.copyWithin(base, from, from + C * H * W);
    else f32.set(image.subarray(from, from + C * H * W), base);
    return;
  }
  const Hp = H + 2 * padH;
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      const src = from + (c * H + y) * W;
      if (strideW === 1) {
        const to = base + (c * Hp + y + padH) * l.phaseCols + padW;
        for (let ix = 0; ix < W; ix++) f32[to + ix] = image[src + ix]!;
        continue;
      }
      for (let ix = 0; ix < W; ix++) {
        const px = ix + padW;
        const q = px % strideW;
        f32[base + ((c * strideW + q) * Hp + y + padH) * l.phaseCols + (px - q) / strideW] = image[src + ix]!;
      }
    }
  }
}

/** One prepared image through one layer; returns the f32 index of its output [outFeatures]. */
function runConvLayer(k: WasmKernels, arena: WasmArena, l: WasmConvLayer): number {
  const { conv, layer } = l;
  const { outChannels: O, outHeight: Ho, outWidth: Wo } = conv;
  const relu = layer.activation === 'relu' ? 1 : 0;
  const planeBytes = 4 * Ho * l.rowFloats;
  if (l.kernel === 'csr') k.convCsrTiles(O, l.indptr, l.offsets, l.values, l.bias, relu, l.nTiles, l.tiles, l.x, l.planes, planeBytes);
  else {
    const K = layer.csr.nCols;
    for (let t = 0, tile = l.tiles; t < l.nTiles; t++, tile += 32) {
      k.im2colTile16(K, l.rowOffsets, tile, l.x, l.panelIn);
      k.densePanel16(O, K, l.dense, l.bias, relu, l.panelIn, l.panelOut);
      k.scatterTile16(O, tile, l.panelOut, l.planes, planeBytes);
    }
  }
  if (layer.activation === 'sigmoid' || layer.activation === 'tanh') applyActivationInPlace(layer.activation, arena.f32(), l.planes / 4, l.planes / 4 + O * Ho * l.rowFloats);
  const pool = conv.pool;
  if (pool !== null && pool.kernelH === 2 && pool.kernelW === 2 && pool.strideH === 2 && pool.strideW === 2 && pool.padH === 0 && pool.padW === 0) {
    k.pool2x2(pool.kind === 'max' ? 1 : 0, O, pool.outHeight, pool.outWidth, 4 * l.rowFloats, planeBytes, l.planes, l.output);
    return l.output / 4;
  }
  if (pool !== null && pool.padH === 0 && pool.padW === 0) {
    const scale = 1 / (pool.kernelH * pool.kernelW);
    k.pool2d(pool.kind === 'max' ? 1 : 0, O, pool.kernelH, pool.kernelW, pool.strideH, pool.strideW, pool.outHeight, pool.outWidth, 4 * l.rowFloats, planeBytes, l.planes, l.output, scale);
    return l.output / 4;
  }
  if (pool === null && l.compact === 0) return l.planes / 4;
  k.pool2d(1, O, 1, 1, 1, 1, Ho, Wo, 4 * l.rowFloats, planeBytes, l.planes, l.compact, 1);
  if (pool === null) return l.compact / 4;
  const f32 = arena.f32();
  const g = { batch: 1, channels: O, height: Ho, width: Wo, kernelH: pool.kernelH, kernelW: pool.kernelW, strideH: pool.strideH, strideW: pool.strideW, padH: pool.padH, padW: pool.padW, outHeight: pool.outHeight, outWidth: pool.outWidth };
  const input = f32.subarray(l.compact / 4, l.compact / 4 + O * Ho * Wo);
  const output = f32.subarray(l.output / 4, l.output / 4 + layer.outFeatures);
  if (pool.kind === 'max') maxPoolForward(g, input, output, l.argmax);
  else avgPoolForward(g, input, output);
  return l.output / 4;
}

/** The WebAssembly SIMD backend's ConvStage: the layers placed in `arena`, run by `k` (network order). */
export function compileWasmConvStage(layers: readonly CheckedLayer[], strategy: InferenceStrategy, arena: WasmArena, k: WasmKernels): ConvStage {
  const placed = layers.map((layer) => placeConvLayer(arena, layer, strategy));
  const first = placed[0]!;
  // The first layer's X holds the image and zeros: its non-finite probe is the image's (kernels-layout.ts).
  const firstFloats = first.conv.inChannels * first.conv.strideW * (first.conv.inHeight + 2 * first.conv.padH) * first.phaseCols;
  const probeAt = arena.alloc(4);
  const inFeatures = layers[0]!.inFeatures;
  const outFeatures = layers[layers.length - 1]!.outFeatures;
  return {
    inFeatures, outFeatures,
    kernels: placed.map((l) => l.kernel),
    run(x, batch, out, nonFinite) {
      let flagged = 0;
      for (let s = 0; s < batch; s++) {
        let f32 = arena.f32();
        prepareInput(first, f32, x, s * inFeatures);
        k.nonFiniteProbe(1, firstFloats, first.x, probeAt);
        nonFinite[s] = f32[probeAt / 4] === 0 ? 0 : 1; // ±0 for a finite image, NaN otherwise
        flagged += nonFinite[s]!;
        let result = 0;
        placed.forEach((l, i) => {
          if (i > 0) prepareInput(l, f32, f32, result);
          result = runConvLayer(k, arena, l);
          f32 = arena.f32();
        });
        out.set(f32.subarray(result, result + outFeatures), s * outFeatures);
      }
      return flagged;
    },
  };
}
