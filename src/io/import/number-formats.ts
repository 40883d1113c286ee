/*
 * Element types other frameworks save weights in, widened to float32: IEEE 754 half precision (F16, PyTorch's
 * .half(), ONNX FLOAT16), bfloat16 (BF16, the top 16 bits of a float32) and float64. F16 and BF16 convert
 * exactly; float64 rounds to nearest, and values beyond float32's range become ±Infinity, which the model
 * checks then refuse as non-finite.
 */

const wordView = new DataView(new ArrayBuffer(4));

/** The float32 value of an IEEE 754 binary16 bit pattern (exact: every half is a float32). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** The float32 value of a bfloat16 bit pattern: those 16 bits followed by 16 zero bits. */
export function bfloat16ToFloat(bits: number): number {
  wordView.setUint32(0, (bits & 0xffff) << 16 >>> 0);
  return wordView.getFloat32(0);
}

/** Float32 values from 16-bit patterns of `kind`. */
export function widenHalves(bits: ArrayLike<number>, kind: 'F16' | 'BF16'): Float32Array {
  const out = new Float32Array(bits.length);
  const convert = kind === 'F16' ? halfToFloat : bfloat16ToFloat;
  for (let i = 0; i < bits.length; i++) out[i] = convert(bits[i]!);
  return out;
}
