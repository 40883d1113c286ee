/**
 * Linear symmetric int8 quantization with one scale per output row:
 *
 *     scale[r] = max_j |W[r][j]| / 127        (1 for a row of zeros, so every scale is positive)
 *     code     = clamp(round(W[r][j] / scale[r]), −127, 127)
 *     value    = fround(code · scale[r])
 *
 * Symmetric (no zero point), so a pruned zero is code 0 and stays exactly 0, and −128 is never used. Per row
 * because rows of a layer can differ in range by orders of magnitude after pruning. Cost: two passes, O(rows·cols).
 */

import { ShapeError } from '../errors.ts';
import { INT8_MAX_CODE, type Int8Values } from '../io/encodings/quantized-values.ts';

/**
 * Quantizes a row-major [rows × cols] float matrix to int8 codes with per-row scales (see the file comment).
 * Non-finite weights are refused (ShapeError names where), since no scale represents them.
 */
export function quantizeRowsInt8(values: Float32Array, rows: number, cols: number): Int8Values {
  if (values.length !== rows * cols) throw new ShapeError(`quantizeRowsInt8: ${values.length} values for a ${rows}×${cols} matrix`);
  const codes = new Int8Array(values.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const start = r * cols;
    let maxAbs = 0;
    for (let j = 0; j < cols; j++) {
      const v = values[start + j] as number;
      if (!Number.isFinite(v)) throw new ShapeError(`quantizeRowsInt8: weight (row ${r}, column ${j}) is ${v}`);
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    const scale = maxAbs > 0 ? Math.fround(maxAbs / INT8_MAX_CODE) : 1;
    // A tiny maxAbs can round to a scale of 0 (subnormal underflow); such a row is quantized to zeros.
    const usable = scale > 0 ? scale : 1;
    scales[r] = usable;
    for (let j = 0; j < cols; j++) codes[start + j] = roundToCode((values[start + j] as number) / usable);
  }
  return { kind: 'int8', codes, scales };
}

/** Writes fround(code · scale[row]) for every entry of a row-major [rows × cols] matrix into `out`. */
export function dequantizeRowsInt8(q: Int8Values, cols: number, out: Float32Array): Float32Array {
  for (let k = 0; k < out.length; k++) out[k] = Math.fround((q.codes[k] as number) * (q.scales[Math.floor(k / cols)] as number));
  return out;
}

/**
 * Fake quantization for quantization-aware training: `out` = dequantize(quantize(values)) with fresh per-row
 * scales, the forward pass's view of the weights. Returns the codes and scales it used.
 */
export function fakeQuantizeRowsInt8(values: Float32Array, rows: number, cols: number, out: Float32Array): Int8Values {
  const q = quantizeRowsInt8(values, rows, cols);
  dequantizeRowsInt8(q, cols, out);
  return q;
}

/** Round half away from zero, clamped to the symmetric int8 range. */
function roundToCode(x: number): number {
  const rounded = Math.sign(x) * Math.round(Math.abs(x));
  return Math.max(-INT8_MAX_CODE, Math.min(INT8_MAX_CODE, rounded)) | 0;
}
