/**
 * IEEE 754 binary16 ("half", float16): 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. Normal halves
 * are (1 + f/1024)·2^(e−15) for e in 1…30, subnormals f·2^−24, e = 31 is ±Infinity (f = 0) or NaN; the largest
 * finite half is 65504 and the smallest positive one 2^−24. Every half is exactly a float32, so a float32
 * array whose values are all halves can be stored in half the bytes without changing a bit of the model.
 *
 * Shared by the quantizers (rounding biases and codebooks to halves, src/quantize) and the model file (storing
 * such tensors as F16 and widening them back, src/io), which both may import src/tensor.
 */

/** The largest finite float16 value. */
export const FLOAT16_MAX = 65504;

/** Bit pattern of the canonical quiet NaN. */
const HALF_NAN = 0x7e00;
const HALF_INFINITY = 0x7c00;
/**
 * The midpoint between 65504 (fraction 0x3ff, odd) and 2^16, the first value past the format: ties go to the
 * even neighbour, 2^16, which does not exist, so from here on a value rounds to Infinity.
 */
const OVERFLOW_THRESHOLD = 65520;
/** The smallest normal half, 2^−14: below it the spacing is fixed at 2^−24 (subnormals). */
const MIN_NORMAL = 2 ** -14;

/**
 * The binary16 bit pattern nearest to `x`: round to nearest, ties to even, rounding once from the double
 * (no float32 step in between). Subnormals are exact; |x| ≥ 65520 gives ±Infinity; NaN gives 0x7e00; −0 keeps
 * its sign (0x8000). Cost: O(1).
 */
export function floatToHalfBits(x: number): number {
  if (Number.isNaN(x)) return HALF_NAN;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(x);
  if (magnitude >= OVERFLOW_THRESHOLD) return sign | HALF_INFINITY;
  if (magnitude < MIN_NORMAL) {
    // Subnormal: a multiple of 2^−24. Rounding up to 1024·2^−24 = 2^−14 yields 0x400, the smallest normal.
    return sign | roundHalfToEven(magnitude * 2 ** 24);
  }
  let exponent = Math.floor(Math.log2(magnitude));
  // Math.log2 may be off by one next to a power of two; fix it so 2^exponent ≤ magnitude < 2^(exponent+1).
  if (2 ** exponent > magnitude) exponent--;
  else if (2 ** (exponent + 1) <= magnitude) exponent++;
  // Scaling by a power of two and subtracting 1 are exact in doubles, so this is the one rounding step.
  let fraction = roundHalfToEven((magnitude / 2 ** exponent - 1) * 1024);
  if (fraction === 1024) {
    fraction = 0;
    exponent++;
  }
  // magnitude < 65520 keeps exponent ≤ 15: the biased exponent stays ≤ 30, never the Infinity pattern.
  return sign | ((exponent + 15) << 10) | fraction;
}

/** The float value of an IEEE 754 binary16 bit pattern (exact: every half is a float32). Cost: O(1). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * `x` rounded to the nearest float16 value (ties to even), as a number: halfToFloat(floatToHalfBits(x)).
 * ±Infinity when |x| ≥ 65520 (past 65504 by more than half a step), NaN for NaN; −0 stays −0.
 *
 * @example
 * ```ts
 * import { roundToFloat16 } from 'sparsegrad';
 *
 * console.log(roundToFloat16(0.1), roundToFloat16(65519), roundToFloat16(65520)); // 0.0999755859375 65504 Infinity
 * ```
 */
export function roundToFloat16(x: number): number {
  return halfToFloat(floatToHalfBits(x));
}

/**
 * The bit patterns of `values` when every value is a finite float16 (so storing them as halves loses nothing),
 * else null. −0 counts as a half (0x8000). Cost: O(n).
 */
export function exactHalfBits(values: Float32Array): Uint16Array | null {
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    const half = floatToHalfBits(value);
    if (!Number.isFinite(value) || !Object.is(halfToFloat(half), value)) return null;
    bits[i] = half;
  }
  return bits;
}

/** Float32 values of float16 bit patterns (exact). Cost: O(n). */
export function widenHalfBits(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfToFloat(bits[i] as number);
  return out;
}

/** Round half to even for a non-negative number: the integer nearest to q, the even one on a tie. */
function roundHalfToEven(q: number): number {
  const floor = Math.floor(q);
  const rest = q - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
