/*
 * Element types other frameworks save weights in, widened to float32: IEEE 754 half precision (F16, PyTorch's
 * .half(), ONNX FLOAT16), bfloat16 (BF16, the top 16 bits of a float32) and float64. F16 and BF16 convert
 * exactly; float64 rounds to nearest, and values beyond float32's range become ±Infinity, which the model
 * checks then refuse as non-finite.
 */

// Half floats are converted by src/tensor/float16.ts, which the model file's F16 tensors share.
import { halfToFloat } from '../../tensor/float16.ts';

const wordView = new DataView(new ArrayBuffer(4));

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
