/*
 * The int8 backend's batch-1 sparse kernel: SELL-4 (../wasm-simd/sell.ts) on integer-valued float32 lanes.
 *
 *   codesToF32(n, q, out)      out[j] = q[j] as float32 for j < 8·ceil(n/8): reads and writes up to 7 past n
 *   sellInt8Matvec(nSlices, slicePtr, rowOffsets, slots, wScales, bias, relu, qf, xScaleAt, y)
 *       slots as sellMatvec reads them (4 × u16 column·4, then 4 × f32), the f32 weights being the int8 codes;
 *       qf: the activation codes as float32 (codesToF32). Per slice: 4 rows in 4 lanes, per slot 4 gathered
 *       codes and one f32x4 multiply-add; then y = sum · (wScale · xScale) + bias, ReLU. O(4·slots + nRows).
 *
 * Why floats give the int8 result exactly: every product is an integer of magnitude ≤ 127² and every partial
 * sum one of magnitude ≤ inFeatures · 127², exact in float32 while that is < 2^24, i.e. for at most
 * SELL_INT8_MAX_INPUTS = 1040 inputs. The sum is then the int32 sum of the other int8 kernels, rescaled in the same
 * order (s · (w · x) + b, ReLU by max with +0), so both kernels give the same bits. A CSR vector product is a
 * scalar gather per entry (~0.85 ns on a 300×784 layer); SELL-4 serves 4 rows per vector multiply-add.
 */
import { F32, FunctionBuilder, I32, op, V128 } from '../../../wasm/assembler.ts';
import { increment, whileLoop } from '../../../wasm/emit.ts';
import { emitSellSlot, emitSellSliceStart, type SellLocals } from '../wasm-simd/kernels-sell.ts';
import { SELL_SLOT_BYTES } from '../wasm-simd/sell.ts';

/** The widest layer whose int8 dot products are exact in float32: 1040 · 127² < 2^24. */
export const SELL_INT8_MAX_INPUTS = Math.floor(2 ** 24 / (127 * 127));

/** Builds codesToF32 (see the top of this file). */
export function codesToF32(): FunctionBuilder {
  const f = new FunctionBuilder('codesToF32', 3);
  const [n, q, out] = [0, 1, 2];
  const k = f.local(I32), wide = f.local(V128);
  f.emit(op.i32(0), op.set(k));
  whileLoop(f, () => f.emit(op.get(k), op.get(n), op.i32GeS), () => {
    f.emit(op.get(q), op.get(k), op.i32Add, op.v128Load8x8S(0), op.set(wide));
    f.emit(op.get(out), op.get(k), op.i32(2), op.i32Shl, op.i32Add, op.get(wide), op.i32x4ExtendLowI16x8S, op.f32x4ConvertI32x4S, op.v128Store(0));
    f.emit(op.get(out), op.get(k), op.i32(2), op.i32Shl, op.i32Add, op.get(wide), op.i32x4ExtendHighI16x8S, op.f32x4ConvertI32x4S, op.v128Store(16));
    increment(f, k, 8);
  });
  return f;
}

/** Gathers the f32 at `base` + rows[t] into lane t of `into`. */
function gatherRows(f: FunctionBuilder, base: number, rows: readonly number[], into: number): void {
  rows.forEach((row, t) => {
    f.emit(op.get(base), op.get(row), op.i32Add);
    if (t === 0) f.emit(op.v128Load32Zero(0), op.set(into));
    else f.emit(op.get(into), op.v128Load32Lane(0, t), op.set(into));
  });
}

/** Builds sellInt8Matvec (see the top of this file). */
export function sellInt8Matvec(): FunctionBuilder {
  const f = new FunctionBuilder('sellInt8Matvec', 10);
  const [nSlices, slicePtr, rowOffsets, slots, wScales, bias, relu, qf, xScaleAt, y] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const s = f.local(I32), p = f.local(I32), end = f.local(I32), address = f.local(I32), pair = f.local(I32);
  const rows = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const acc = [f.local(V128), f.local(V128)], gathered = [f.local(V128), f.local(V128)];
  const scale = f.local(V128), xScale = f.local(F32);
  f.emit(op.get(xScaleAt), op.f32Load(0), op.set(xScale));

  // acc += weights · codes for the slot `u` slots after p (alternating accumulators), as the float kernel does.
  const locals: SellLocals = { slicePtr, rowOffsets, slots, s, p, end, address, pair, rows, gathered, acc };
  const slot = (u: number): void => emitSellSlot(f, locals, qf, u);

  f.emit(op.i32(0), op.set(s));
  whileLoop(f, () => f.emit(op.get(s), op.get(nSlices), op.i32GeU), () => {
    emitSellSliceStart(f, locals);
    f.emit(op.v128Zero, op.set(acc[0]!), op.v128Zero, op.set(acc[1]!));
    // Two slots per step while two remain, then one: the two accumulators hold exact integers, so their order
    // of addition does not matter.
    whileLoop(f, () => f.emit(op.get(p), op.i32(SELL_SLOT_BYTES), op.i32Add, op.get(end), op.i32GeU), () => {
      slot(0);
      slot(1);
      increment(f, p, 2 * SELL_SLOT_BYTES);
    });
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      slot(0);
      increment(f, p, SELL_SLOT_BYTES);
    });
    const [sum, other] = acc as [number, number];
    f.emit(op.get(sum), op.get(other), op.f32x4Add, op.set(sum));
    // sum · (wScale · xScale) + bias, as the other int8 kernels compute it.
    gatherRows(f, wScales, rows, scale);
    f.emit(op.get(sum), op.get(scale), op.get(xScale), op.f32x4Splat, op.f32x4Mul, op.f32x4Mul, op.set(sum));
    gatherRows(f, bias, rows, scale);
    f.emit(op.get(sum), op.get(scale), op.f32x4Add, op.set(sum));
    // ReLU by IEEE max with +0 (−0 → +0, NaN stays NaN), as the scalar f32.max of the other kernels.
    f.emit(op.get(relu), op.if, op.get(sum), op.v128Zero, op.f32x4Max, op.set(sum), op.end);
    rows.forEach((row, t) => f.emit(op.get(y), op.get(row), op.i32Add, op.get(sum), op.v128Store32Lane(0, t)));
    increment(f, s, 1);
  });
  return f;
}
