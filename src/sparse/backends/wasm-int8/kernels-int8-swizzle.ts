/*
 * The int8 backend's batch-1 sparse kernel on the swizzle form (swizzle.ts): inputs gathered from a register.
 *
 *   swizzleInt8Matvec(nSlices, slicePtr, slots, sliceScales, sliceBias, rows, relu, q, xScaleAt, y)
 *       q: the activation codes (int8, from quantizeVector; a window reads 16 bytes from its first column, so
 *       up to 15 bytes past the last input); sliceScales / sliceBias: f32[8·nSlices], the row scales and
 *       biases in lane order; rows: i32[8·nSlices] = row·4 (byte offset in y). Per slice, two i32x4
 *       accumulators hold its 8 rows. Per slot: its window of 16 codes in one v128.load, one i8x16.swizzle
 *       picks each lane's code from it, and two i32x4.dot_i16x8_s multiply them (widened to int16) by the
 *       slot's int16 weights and add each row's two products. Then, as the other int8 kernels:
 *       y = float(sum) · (wScale · xScale) + bias, ReLU by max with +0, stored lane 7 down to lane 0.
 *       O(16·slots + nRows).
 *
 * The int32 sums are exact, so the result has the bits of denseInt8Matvec and sellInt8Matvec. What it saves
 * is the gather: SELL-4 and the float kernels load each input into its lane with a lane load (two µops on
 * x64, plus its address); here one swizzle (vpaddusb + vpshufb in V8) serves 16 lanes, ≈ 18 instructions a
 * slot. What it pays is padding: on random 300×784 masks 56 % of the lanes hold an entry at 90 % sparsity,
 * 38 % at 95 %, 21 % at 98 % — so below ≈ 2.5 % density SELL-4 wins, and placeVectorCsr (weights.ts) picks
 * by slot count. Measured there (CPU time, with quantizeVector): 3.2 µs against 6.1 for SELL-4 on the codes
 * and 5.8 for the float32 SELL-4 kernel at 90 % (experiments/int8-swizzle-probe.ts).
 */
import { FunctionBuilder, I32, op, V128 } from '../../../wasm/assembler.ts';
import { increment, whileLoop } from '../../../wasm/emit.ts';
import { SWIZZLE_SLOT_BYTES } from './swizzle.ts';

/** Builds swizzleInt8Matvec (see the top of this file). */
export function swizzleInt8Matvec(): FunctionBuilder {
  const f = new FunctionBuilder('swizzleInt8Matvec', 10);
  const [nSlices, slicePtr, slots, sliceScales, sliceBias, rows, relu, q, xScaleAt, y] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const s = f.local(I32), p = f.local(I32), end = f.local(I32), lanes = f.local(I32);
  const codes = f.local(V128), low = f.local(V128), high = f.local(V128), xScale = f.local(V128);
  f.emit(op.get(xScaleAt), op.f32Load(0), op.f32x4Splat, op.set(xScale));
  f.emit(op.get(slots), op.set(p), op.i32(0), op.set(s));
  whileLoop(f, () => f.emit(op.get(s), op.get(nSlices), op.i32GeU), () => {
    f.emit(op.get(slicePtr), op.get(s), op.i32(2), op.i32Shl, op.i32Add, op.i32Load(4), op.get(slots), op.i32Add, op.set(end));
    f.emit(op.v128Zero, op.set(low), op.v128Zero, op.set(high));
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      // the slot's block of 16 codes, its 16 lanes picked by index
      f.emit(op.get(q), op.get(p), op.i32Load(48), op.i32Add, op.v128Load(0), op.get(p), op.v128Load(0), op.i8x16Swizzle, op.set(codes));
      f.emit(op.get(low), op.get(codes), op.i16x8ExtendLowI8x16S, op.get(p), op.v128Load(16), op.i32x4DotI16x8S, op.i32x4Add, op.set(low));
      f.emit(op.get(high), op.get(codes), op.i16x8ExtendHighI8x16S, op.get(p), op.v128Load(32), op.i32x4DotI16x8S, op.i32x4Add, op.set(high));
      increment(f, p, SWIZZLE_SLOT_BYTES);
    });
    // float(sum) · (wScale · xScale) + bias, then ReLU (max with +0: −0 → +0, NaN stays NaN), 4 rows per vector.
    f.emit(op.get(s), op.i32(5), op.i32Shl, op.set(lanes)); // byte offset of the slice's 8 lanes of f32/i32
    [low, high].forEach((sum, half) => {
      f.emit(op.get(sum), op.f32x4ConvertI32x4S, op.get(sliceScales), op.get(lanes), op.i32Add, op.v128Load(16 * half), op.get(xScale), op.f32x4Mul, op.f32x4Mul);
      f.emit(op.get(sliceBias), op.get(lanes), op.i32Add, op.v128Load(16 * half), op.f32x4Add, op.set(sum));
      f.emit(op.get(relu), op.if, op.get(sum), op.v128Zero, op.f32x4Max, op.set(sum), op.end);
    });
    // Lane 7 first: a repeated lane (the last slice's missing rows) never overwrites its real row.
    for (let t = 7; t >= 0; t--) {
      f.emit(op.get(y), op.get(rows), op.get(lanes), op.i32Add, op.i32Load(4 * t), op.i32Add, op.get(t < 4 ? low : high), op.v128Store32Lane(0, t % 4));
    }
    increment(f, s, 1);
  });
  return f;
}
