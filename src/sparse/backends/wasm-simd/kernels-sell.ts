/*
 * The batch-1 sparse kernel on WebAssembly SIMD: y = act(W·x + bias) for one vector x, with W in SELL-4 form
 * (sell.ts: slices of 4 rows, one slot = one nonzero of each of the 4 rows). Conventions in kernels.ts.
 *
 *   sellMatvec(nSlices, slicePtr, rowOffsets, slots, bias, relu, x, y)
 *       slicePtr: i32[nSlices+1] byte offsets into `slots`; rowOffsets: i32[4·nSlices] = row·4 per lane;
 *       slots: 24 bytes each, 4 × u16 column·4 then 4 × f32. The accumulator's 4 lanes are the 4 rows of a
 *       slice: per slot, 4 inputs gathered into lanes (v128.load32_zero + 3 × v128.load32_lane), one vector
 *       multiply-add; the lanes start at their rows' biases and end with 4 lane stores. Four slots per loop
 *       step into two accumulators. O(4·slots + nRows) — about O(nnz + nRows) on sorted rows.
 *
 * Measured alternatives (experiments/simd-spmv-probe.ts, 300×784, 90 % sparse, CPU time, same process): i32
 * column offsets 6.8 µs, u16 pairs (two offsets per 32-bit load: fewer loads, which bind here) 6.2, four
 * slots per step 5.9; against 10.6 µs for spmv's scalar gathers and 17 µs for denseMatvec. Copying x to a
 * fixed address so that the gathers need no address add was another ~10 % faster but makes the kernel unsafe
 * to run on two threads over one memory, so it is not used.
 */
import { FunctionBuilder, I32, op, V128 } from '../../../wasm/assembler.ts';
import { increment, whileLoop } from '../../../wasm/emit.ts';
import { applyRelu } from './kernel-idioms.ts';
import { SELL_SLOT_BYTES } from './sell.ts';

/** Slots per step of the main loop. */
const UNROLL = 4;

/** Builds sellMatvec (see the top of this file). */
export function sellMatvec(): FunctionBuilder {
  const f = new FunctionBuilder('sellMatvec', 8);
  const [nSlices, slicePtr, rowOffsets, slots, bias, relu, x, y] = [0, 1, 2, 3, 4, 5, 6, 7];
  const s = f.local(I32), p = f.local(I32), end = f.local(I32), stepEnd = f.local(I32), address = f.local(I32), pair = f.local(I32);
  const rows = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const acc = [f.local(V128), f.local(V128)], gathered = [f.local(V128), f.local(V128)];

  const locals: SellLocals = { slicePtr, rowOffsets, slots, s, p, end, address, pair, rows, gathered, acc };
  const slot = (u: number): void => emitSellSlot(f, locals, x, u);

  f.emit(op.i32(0), op.set(s));
  whileLoop(f, () => f.emit(op.get(s), op.get(nSlices), op.i32GeU), () => {
    emitSellSliceStart(f, locals);
    const [first, second] = acc as [number, number];
    rows.forEach((row, t) => { // first = the 4 rows' biases
      f.emit(op.get(bias), op.get(row), op.i32Add);
      if (t === 0) f.emit(op.v128Load32Zero(0), op.set(first));
      else f.emit(op.get(first), op.v128Load32Lane(0, t), op.set(first));
    });
    f.emit(op.v128Zero, op.set(second));
    // UNROLL slots per step while p + (UNROLL − 1) slots < end (signed: stepEnd may be negative near address
    // 0), then one at a time.
    f.emit(op.get(end), op.i32(SELL_SLOT_BYTES * (UNROLL - 1)), op.i32Sub, op.set(stepEnd));
    whileLoop(f, () => f.emit(op.get(p), op.get(stepEnd), op.i32GeS), () => {
      for (let u = 0; u < UNROLL; u++) slot(u);
      increment(f, p, SELL_SLOT_BYTES * UNROLL);
    });
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      slot(0);
      increment(f, p, SELL_SLOT_BYTES);
    });
    f.emit(op.get(first), op.get(second), op.f32x4Add, op.set(first));
    applyRelu(f, relu, [first], true);
    rows.forEach((row, t) => f.emit(op.get(y), op.get(row), op.i32Add, op.get(first), op.v128Store32Lane(0, t)));
    increment(f, s, 1);
  });
  return f;
}

/** The locals the SELL-4 emitters below read and write (all i32 but `gathered` and `acc`, which are v128). */
export interface SellLocals {
  readonly slicePtr: number; readonly rowOffsets: number; readonly slots: number; readonly s: number;
  readonly p: number; readonly end: number; readonly address: number; readonly pair: number;
  readonly rows: readonly number[]; readonly gathered: readonly number[]; readonly acc: readonly number[];
}

/** Emits the start of slice `s`: p and end (its slots' byte range) and the byte offsets of its 4 output rows. */
export function emitSellSliceStart(f: FunctionBuilder, l: SellLocals): void {
  f.emit(op.get(l.slicePtr), op.get(l.s), op.i32(2), op.i32Shl, op.i32Add, op.tee(l.address));
  f.emit(op.i32Load(0), op.get(l.slots), op.i32Add, op.set(l.p));
  f.emit(op.get(l.address), op.i32Load(4), op.get(l.slots), op.i32Add, op.set(l.end));
  f.emit(op.get(l.rowOffsets), op.get(l.s), op.i32(4), op.i32Shl, op.i32Add, op.set(l.address));
  l.rows.forEach((row, t) => f.emit(op.get(l.address), op.i32Load(4 * t), op.set(row)));
}

/**
 * Emits acc += weights · inputs for the slot `u` slots after p (alternating accumulators): the 4 f32 inputs
 * at `inputs` + each lane's u16 byte offset gathered into lanes, then one f32x4 multiply-add.
 */
export function emitSellSlot(f: FunctionBuilder, l: SellLocals, inputs: number, u: number): void {
  const at = SELL_SLOT_BYTES * u;
  const into = l.gathered[u % 2]!, a = l.acc[u % 2]!;
  for (let lane = 0; lane < 4; lane++) {
    // Lanes 0, 2 are the low and lanes 1, 3 the high halves of one 32-bit load (little-endian u16 pairs).
    if (lane % 2 === 0) f.emit(op.get(l.p), op.i32Load(at + 2 * lane), op.tee(l.pair), op.i32(0xffff), op.i32And);
    else f.emit(op.get(l.pair), op.i32(16), op.i32ShrU);
    f.emit(op.get(inputs), op.i32Add);
    if (lane === 0) f.emit(op.v128Load32Zero(0), op.set(into));
    else f.emit(op.get(into), op.v128Load32Lane(0, lane), op.set(into));
  }
  f.emit(op.get(a), op.get(l.p), op.v128Load(at + 8), op.get(into), op.f32x4Mul, op.f32x4Add, op.set(a));
}
