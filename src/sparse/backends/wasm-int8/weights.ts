/*
 * The int8 weights of a compiled layer: every row quantized symmetrically with its own scale (the rule of
 * src/quantize/int8.ts, so a model saved with int8 codes gets exactly those codes back), in the forms the
 * kernels read: CSR entries in int16 pairs for panels (kernels-int8.ts), and on first use a batch-1 sparse
 * form (the swizzle form, kernels-int8-swizzle.ts, or SELL-4 slots of the codes as float32,
 * kernels-int8-sell.ts, whichever its slot count says is cheaper) and dense rows as int16 feature pairs
 * (panels) or zero-padded int8 (vectors).
 */
import { ConfigError } from '../../../errors.ts';
import type { CSRMatrix } from '../../csr-matrix.ts';
import type { CheckedLayer } from '../../inference/layers.ts';
import { placeSell, type PlacedSell, type WasmArena } from '../wasm-simd/arena.ts';
import { sellFromCsr, SELL_MAX_INPUTS, SELL_SLOT_BYTES } from '../wasm-simd/sell.ts';
import { VECTOR_CSR_NS } from './cost-model.ts';
import { MAX_INT8_ROW } from './kernels-int8.ts';
import { SELL_INT8_MAX_INPUTS } from './kernels-int8-sell.ts';
import { SWIZZLE_SLOT_BYTES, swizzleFromCsr } from './swizzle.ts';

/** A layer's CSR weights as int8 codes with one scale per row. */
export interface Int8Csr {
  readonly codes: Int8Array;
  readonly scales: Float32Array;
}

/**
 * Quantizes the stored values of each CSR row: scale = fround(max |w| / 127) (1 for a row of zeros), code =
 * round(w / scale) half away from zero, clamped to ±127 — the same rule as quantizeRowsInt8 in src/quantize.
 */
export function quantizeCsrRows(csr: Pick<CSRMatrix, 'nRows' | 'indptr' | 'values'>): Int8Csr {
  const codes = new Int8Array(csr.values.length);
  const scales = new Float32Array(csr.nRows);
  for (let r = 0; r < csr.nRows; r++) {
    const begin = csr.indptr[r]!, end = csr.indptr[r + 1]!;
    let maxAbs = 0;
    for (let k = begin; k < end; k++) maxAbs = Math.max(maxAbs, Math.abs(csr.values[k]!));
    const rounded = Math.fround(maxAbs / 127);
    const scale = rounded > 0 ? rounded : 1;
    scales[r] = scale;
    for (let k = begin; k < end; k++) {
      const x = csr.values[k]! / scale;
      codes[k] = Math.max(-127, Math.min(127, Math.sign(x) * Math.round(Math.abs(x))));
    }
  }
  return { codes, scales };
}

/** A layer placed in the arena (byte addresses), with its dense forms placed on first use (0 = not yet). */
export interface PlacedInt8Layer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly csr: CSRMatrix;
  readonly int8: Int8Csr;
  readonly relu: number;
  readonly bias: number;
  readonly scales: number;
  /** The CSR entries in pairs for csrPairsPanel16: pairs per row (prefix sums), column·32 twice per pair, weights as int16 pairs. */
  readonly pairPtr: number;
  readonly pairOffsets: number;
  readonly pairWeights: number;
  /** The batch-1 sparse form, placed on first use (placeVectorCsr). */
  vector: VectorCsr | null;
  densePairs: number;
  denseRows: number;
}

/** A layer's batch-1 sparse form in the arena: the arguments of swizzleInt8Matvec, or of sellInt8Matvec. */
export type VectorCsr =
  | { readonly kernel: 'swizzle'; readonly nSlices: number; readonly slicePtr: number; readonly slots: number; readonly sliceScales: number; readonly sliceBias: number; readonly rows: number }
  | { readonly kernel: 'sell'; readonly sell: PlacedSell };

/**
 * Places a validated layer: bias, row scales and the int8 CSR pairs. ConfigError when a row is longer than the
 * int32 sums allow (MAX_INT8_ROW inputs).
 */
export function placeInt8Layer(arena: WasmArena, layer: CheckedLayer, index: number): PlacedInt8Layer {
  if (layer.inFeatures > MAX_INT8_ROW) {
    throw new ConfigError(`compileInference: layer ${index} has ${layer.inFeatures} inputs; the int8 kernels sum at most ${MAX_INT8_ROW} products per output in int32`);
  }
  const { csr } = layer;
  const int8 = quantizeCsrRows(csr);
  return {
    inFeatures: layer.inFeatures,
    outFeatures: layer.outFeatures,
    csr,
    int8,
    relu: layer.activation === 'relu' ? 1 : 0,
    bias: layer.bias === null ? arena.alloc(4 * layer.outFeatures) : arena.allocF32(layer.bias),
    scales: arena.allocF32(int8.scales),
    ...placeCsrPairs(arena, csr, int8.codes),
    vector: null,
    densePairs: 0,
    denseRows: 0,
  };
}

/** The CSR entries two by two (an odd row's last entry pairs with weight 0 on its own column). */
function placeCsrPairs(arena: WasmArena, csr: CSRMatrix, codes: Int8Array): { pairPtr: number; pairOffsets: number; pairWeights: number } {
  const pairPtr = new Int32Array(csr.nRows + 1);
  for (let r = 0; r < csr.nRows; r++) pairPtr[r + 1] = pairPtr[r]! + Math.ceil((csr.indptr[r + 1]! - csr.indptr[r]!) / 2);
  const total = pairPtr[csr.nRows]!;
  const offsets = new Int32Array(2 * total);
  const weights = new Int16Array(2 * total);
  for (let r = 0; r < csr.nRows; r++) {
    const begin = csr.indptr[r]!, end = csr.indptr[r + 1]!;
    for (let k = begin, pair = pairPtr[r]!; k < end; k += 2, pair++) {
      const second = k + 1 < end ? k + 1 : k;
      offsets[2 * pair] = csr.indices[k]! * 32;
      offsets[2 * pair + 1] = csr.indices[second]! * 32;
      weights[2 * pair] = codes[k]!;
      weights[2 * pair + 1] = second === k ? 0 : codes[second]!;
    }
  }
  return { pairPtr: arena.allocI32(pairPtr), pairOffsets: arena.allocI32(offsets), pairWeights: placeBytes(arena, new Uint8Array(weights.buffer)) };
}

/**
 * Places the layer's batch-1 sparse form, the cheaper of the two by their slot counts (VECTOR_CSR_NS): the
 * swizzle form, or SELL-4 of the codes as float32 where its sums are exact (≤ SELL_INT8_MAX_INPUTS inputs).
 * `only` forces one (tests); 'sell' throws ConfigError on a layer too wide for it.
 */
export function placeVectorCsr(arena: WasmArena, layer: PlacedInt8Layer, only?: VectorCsr['kernel']): VectorCsr {
  if (layer.vector !== null && (only === undefined || layer.vector.kernel === only)) return layer.vector;
  const sellFits = layer.inFeatures <= Math.min(SELL_INT8_MAX_INPUTS, SELL_MAX_INPUTS);
  if (only === 'sell' && !sellFits) throw new ConfigError(`placeVectorCsr: SELL-4 sums of ${layer.inFeatures} int8 inputs are not exact in float32`);
  const sell = sellFits && only !== 'swizzle' ? sellFromCsr({ ...layer.csr, values: Float32Array.from(layer.int8.codes) }) : null;
  const swizzle = only === 'sell' ? null : swizzleFromCsr(layer.csr, layer.int8.codes);
  const sellNs = sell === null ? Infinity : VECTOR_CSR_NS.sellSlot * (sell.slots.length / SELL_SLOT_BYTES) + VECTOR_CSR_NS.sellInput * layer.inFeatures;
  const swizzleNs = swizzle === null ? Infinity : VECTOR_CSR_NS.swizzleSlot * (swizzle.slots.length / SWIZZLE_SLOT_BYTES);
  if (swizzle !== null && swizzleNs <= sellNs) {
    // Read the biases before allocating: growing the memory detaches the arena's old views.
    const bias = arena.f32();
    const sliceBias = Float32Array.from(swizzle.rows, (row) => bias[layer.bias / 4 + row]!);
    layer.vector = {
      kernel: 'swizzle',
      nSlices: swizzle.nSlices,
      slicePtr: arena.allocI32(swizzle.slicePtr),
      slots: placeBytes(arena, swizzle.slots),
      sliceScales: arena.allocF32(Float32Array.from(swizzle.rows, (row) => layer.int8.scales[row]!)),
      sliceBias: arena.allocF32(sliceBias),
      rows: arena.allocI32(Int32Array.from(swizzle.rows, (row) => 4 * row)),
    };
  } else {
    layer.vector = { kernel: 'sell', sell: placeSell(arena, sell!) };
  }
  return layer.vector;
}

/** The dense int16-pair form for panels: row r, pair i at byte (r·nPairs + i)·4 (odd widths padded with 0). */
export function placeDensePairs(arena: WasmArena, layer: PlacedInt8Layer): void {
  if (layer.densePairs !== 0) return;
  const pairs = Math.ceil(layer.inFeatures / 2);
  const dense = new Int16Array(layer.outFeatures * pairs * 2);
  scatter(layer, (r, c, code) => (dense[r * pairs * 2 + c] = code));
  layer.densePairs = placeBytes(arena, new Uint8Array(dense.buffer));
}

/** The dense zero-padded int8 form for vectors: rows of 8·ceil(in / 8) bytes. */
export function placeDenseRows(arena: WasmArena, layer: PlacedInt8Layer): void {
  if (layer.denseRows !== 0) return;
  const stride = 8 * Math.ceil(layer.inFeatures / 8);
  const dense = new Int8Array(layer.outFeatures * stride);
  scatter(layer, (r, c, code) => (dense[r * stride + c] = code));
  layer.denseRows = placeBytes(arena, new Uint8Array(dense.buffer));
}

function scatter(layer: PlacedInt8Layer, put: (row: number, column: number, code: number) => void): void {
  const { indptr, indices } = layer.csr;
  for (let r = 0; r < layer.outFeatures; r++) for (let k = indptr[r]!; k < indptr[r + 1]!; k++) put(r, indices[k]!, layer.int8.codes[k]!);
}

function placeBytes(arena: WasmArena, bytes: Uint8Array): number {
  const address = arena.alloc(bytes.length + 16);
  arena.u8().set(bytes, address);
  return address;
}
