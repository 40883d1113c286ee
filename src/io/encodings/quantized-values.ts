/**
 * Quantized weight values as a model record holds them: the codes a quantizer chose and what they stand for.
 * Shared by the quantizers (src/quantize), the file encodings (this folder) and the int8 inference backend.
 *
 *     int8       value = fround(code · scales[row])     code ∈ [−127, 127], one positive finite scale per row
 *     codebook   value = codebook[code]                  code < codebook.length ≤ 2^bits, bits ∈ [1, 8]
 *
 * The codes run over the stored entries in the order the values do: every entry of a dense weight (row-major),
 * or the CSR values of a sparse one. A pruned entry of a dense weight (mask 0) is 0 whatever its code; writers
 * give it code 0 so equal models give equal bytes.
 */

import { ModelFormatError } from '../../errors.ts';

/** Symmetric int8 codes with one scale per output row (post-training or quantization-aware). */
export interface Int8Values {
  readonly kind: 'int8';
  /** One code per stored entry, in [−127, 127] (−128 is never written, so the range stays symmetric). */
  readonly codes: Int8Array;
  /** One scale per row of the weight: positive and finite. */
  readonly scales: Float32Array;
}

/** Weight sharing: each stored entry is an index into a small table of shared values (Deep Compression). */
export interface CodebookValues {
  readonly kind: 'codebook';
  /** Bits per code in the file, 1…8; the codebook holds at most 2^bits values. */
  readonly bits: number;
  /** The shared values (finite float32), at most 2^bits of them. */
  readonly codebook: Float32Array;
  /** One index per stored entry, each below codebook.length. */
  readonly codes: Uint8Array;
}

/** A weight's quantized values: int8 with per-row scales, or a codebook and indices. */
export type QuantizedValues = Int8Values | CodebookValues;

/** The largest magnitude of an int8 code: symmetric quantization uses [−127, 127]. */
export const INT8_MAX_CODE = 127;
/** Fewest and most bits of a codebook index. */
export const MIN_CODEBOOK_BITS = 1;
export const MAX_CODEBOOK_BITS = 8;

/**
 * The float32 value of stored entry `k` in row `row`. Callers have checked the codes (checkQuantizedValues).
 */
export function dequantizedValue(q: QuantizedValues, k: number, row: number): number {
  return q.kind === 'int8' ? Math.fround((q.codes[k] as number) * (q.scales[row] as number)) : (q.codebook[q.codes[k] as number] as number);
}

/**
 * Checks quantized values for a weight of `rows` rows and `count` stored entries: array types and lengths,
 * the code ranges, and finite positive scales / finite codebook values. Throws ModelFormatError naming `name`
 * (E_BAD_QUANT for values, E_BAD_DTYPE / E_BAD_SHAPE for arrays).
 */
export function checkQuantizedValues(name: string, q: QuantizedValues, rows: number, count: number): void {
  if (q.kind === 'int8') {
    if (!(q.codes instanceof Int8Array) || !(q.scales instanceof Float32Array)) {
      throw new ModelFormatError('E_BAD_DTYPE', `the int8 values of "${name}" must be an Int8Array of codes and a Float32Array of scales`);
    }
    if (q.codes.length !== count) throw new ModelFormatError('E_BAD_SHAPE', `"${name}" has ${q.codes.length} int8 codes for ${count} stored entries`);
    if (q.scales.length !== rows) throw new ModelFormatError('E_BAD_SHAPE', `"${name}" has ${q.scales.length} int8 scales for ${rows} rows`);
    for (let r = 0; r < rows; r++) {
      const scale = q.scales[r] as number;
      if (!(scale > 0 && Number.isFinite(scale))) throw new ModelFormatError('E_BAD_QUANT', `the int8 scale of row ${r} of "${name}" is ${scale}; scales must be positive and finite`);
    }
    for (let k = 0; k < count; k++) {
      if ((q.codes[k] as number) < -INT8_MAX_CODE) throw new ModelFormatError('E_BAD_QUANT', `int8 code ${k} of "${name}" is −128; codes are in [−127, 127]`);
    }
    return;
  }
  if (q.kind !== 'codebook') throw new ModelFormatError('E_BAD_QUANT', `"${name}" has unknown quantization kind ${JSON.stringify((q as { kind?: unknown }).kind)}`);
  if (!(q.codes instanceof Uint8Array) || !(q.codebook instanceof Float32Array)) {
    throw new ModelFormatError('E_BAD_DTYPE', `the codebook values of "${name}" must be a Float32Array codebook and a Uint8Array of codes`);
  }
  if (!Number.isInteger(q.bits) || q.bits < MIN_CODEBOOK_BITS || q.bits > MAX_CODEBOOK_BITS) {
    throw new ModelFormatError('E_BAD_QUANT', `"${name}" has codebook bits ${q.bits}; bits are ${MIN_CODEBOOK_BITS}…${MAX_CODEBOOK_BITS}`);
  }
  const size = q.codebook.length;
  if (size === 0 || size > 2 ** q.bits) throw new ModelFormatError('E_BAD_QUANT', `"${name}" has a codebook of ${size} values; ${q.bits} bits allow 1…${2 ** q.bits}`);
  for (let c = 0; c < size; c++) {
    if (!Number.isFinite(q.codebook[c] as number)) throw new ModelFormatError('E_BAD_QUANT', `codebook value ${c} of "${name}" is ${q.codebook[c]}`);
  }
  if (q.codes.length !== count) throw new ModelFormatError('E_BAD_SHAPE', `"${name}" has ${q.codes.length} codebook indices for ${count} stored entries`);
  for (let k = 0; k < count; k++) {
    if ((q.codes[k] as number) >= size) throw new ModelFormatError('E_BAD_QUANT', `codebook index ${k} of "${name}" is ${q.codes[k]}, but the codebook has ${size} values`);
  }
}
