/*
 * 4×1 block-sparse (BSR) inference kernels on WebAssembly SIMD: y = act(W·x + bias) for W in 4×1 BSR form
 * (../../bsr-matrix.ts: block row r covers rows 4r..4r+3, block b holds the 4 weights of column indices[b],
 * values[4b + t] for row 4r + t; padding rows of the last block row hold 0). Conventions in kernels.ts.
 *
 *   bsrMatvec(nRows, indptr, offsets, values, bias, relu, x, y)      one vector.
 *       indptr: i32[⌈nRows/4⌉+1]; offsets: i32[nBlocks] = column·4; values: f32[4·nBlocks]. A block times its
 *       input is exactly one f32x4 multiply-add: the 4 weights are one vector load, the input one splat load,
 *       and the 4 lanes are the block row's 4 outputs (one vector store). Four blocks per loop step into two
 *       accumulators. O(nBlocks + nRows).
 *   bsrPanel16(nRows, indptr, offsets, values, bias, relu, x, y)     one 16-sample panel; offsets = column·64.
 *       Each block row in two passes of 2 rows × 16 samples (8 vector accumulators: 4 rows × 16 would need
 *       16 and V8 has 15 vector registers to give): per block, the column's 4 input vectors are loaded once
 *       and feed 2 rows. O(16·4·nBlocks + 16·nRows).
 *
 * Rows past nRows in the last block row are computed (their weights are 0) but never read from bias nor
 * written to y.
 */
import { FunctionBuilder, I32, op, V128 } from '../../../wasm/assembler.ts';
import { element, increment, whileLoop } from '../../../wasm/emit.ts';
import { applyRelu, startAtBias } from './kernel-idioms.ts';

/** Blocks per step of bsrMatvec's main loop. */
const UNROLL = 4;

/** Builds bsrMatvec (see the top of this file). */
export function bsrMatvec(): FunctionBuilder {
  const f = new FunctionBuilder('bsrMatvec', 8);
  const [nRows, indptr, offsets, values, bias, relu, x, y] = [0, 1, 2, 3, 4, 5, 6, 7];
  const r = f.local(I32), fullRows = f.local(I32), p = f.local(I32), end = f.local(I32), stepEnd = f.local(I32), q = f.local(I32), address = f.local(I32);
  const acc = [f.local(V128), f.local(V128)];
  const [first, second] = acc as [number, number];

  /** acc += values[block] · x[column] for the block `u` blocks after p (q: its 4 weights). */
  const block = (u: number): void => {
    const a = acc[u % 2]!;
    f.emit(op.get(a), op.get(q), op.v128Load(16 * u));
    f.emit(op.get(offsets), op.get(p), op.i32Add, op.i32Load(4 * u), op.get(x), op.i32Add, op.v128Load32Splat(0));
    f.emit(op.f32x4Mul, op.f32x4Add, op.set(a));
  };
  /** Lane t of the last, partial block row exists when 4r + t < nRows (lane 0 always, lane 3 never). */
  const ifLaneExists = (t: number, body: () => void): void => {
    f.emit(op.get(r), op.i32(2), op.i32Shl, op.i32(t), op.i32Add, op.get(nRows), op.i32LtU, op.if);
    body();
    f.emit(op.end);
  };
  /** One block row r; `partial`: the last one, with fewer than 4 real rows. */
  const blockRow = (partial: boolean): void => {
    element(f, indptr, r);
    f.emit(op.tee(address), op.i32Load(0), op.i32(2), op.i32Shl, op.tee(p));
    f.emit(op.i32(2), op.i32Shl, op.get(values), op.i32Add, op.set(q));
    f.emit(op.get(address), op.i32Load(4), op.i32(2), op.i32Shl, op.set(end));
    f.emit(op.get(bias), op.get(r), op.i32(4), op.i32Shl, op.i32Add, op.set(address)); // &bias[4r]
    if (!partial) f.emit(op.get(address), op.v128Load(0), op.set(first));
    else {
      f.emit(op.get(address), op.v128Load32Zero(0), op.set(first));
      for (let t = 1; t < 3; t++) ifLaneExists(t, () => f.emit(op.get(address), op.get(first), op.v128Load32Lane(4 * t, t), op.set(first)));
    }
    f.emit(op.v128Zero, op.set(second));
    f.emit(op.get(end), op.i32(4 * (UNROLL - 1)), op.i32Sub, op.set(stepEnd)); // signed: may be negative
    whileLoop(f, () => f.emit(op.get(p), op.get(stepEnd), op.i32GeS), () => {
      for (let u = 0; u < UNROLL; u++) block(u);
      increment(f, p, 4 * UNROLL);
      increment(f, q, 16 * UNROLL);
    });
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      block(0);
      increment(f, p, 4);
      increment(f, q, 16);
    });
    f.emit(op.get(first), op.get(second), op.f32x4Add, op.set(first));
    applyRelu(f, relu, [first], true);
    f.emit(op.get(y), op.get(r), op.i32(4), op.i32Shl, op.i32Add, op.set(address)); // &y[4r]
    if (!partial) f.emit(op.get(address), op.get(first), op.v128Store(0));
    else {
      f.emit(op.get(address), op.get(first), op.v128Store32Lane(0, 0));
      for (let t = 1; t < 3; t++) ifLaneExists(t, () => f.emit(op.get(address), op.get(first), op.v128Store32Lane(4 * t, t)));
    }
  };

  f.emit(op.get(nRows), op.i32(2), op.i32ShrU, op.set(fullRows), op.i32(0), op.set(r));
  whileLoop(f, () => f.emit(op.get(r), op.get(fullRows), op.i32GeU), () => {
    blockRow(false);
    increment(f, r, 1);
  });
  f.emit(op.get(nRows), op.i32(3), op.i32And, op.if);
  blockRow(true);
  f.emit(op.end);
  return f;
}

/** Builds bsrPanel16 (see the top of this file). */
export function bsrPanel16(): FunctionBuilder {
  const f = new FunctionBuilder('bsrPanel16', 8);
  const [nRows, indptr, offsets, values, bias, relu, x, y] = [0, 1, 2, 3, 4, 5, 6, 7];
  const r = f.local(I32), row = f.local(I32), p = f.local(I32), end = f.local(I32), q = f.local(I32), address = f.local(I32);
  const acc = [0, 1].map(() => [f.local(V128), f.local(V128), f.local(V128), f.local(V128)]) as [number[], number[]];
  const xv = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const weights = [f.local(V128), f.local(V128)];

  /** Rows row and row + 1 (= 4r + 2·pass, + 1); the second may lie past nRows in the last block row. */
  const pass = (second: number): void => {
    const secondExists = (): void => f.emit(op.get(row), op.i32(1), op.i32Add, op.get(nRows), op.i32LtU);
    startAtBias(f, bias, row, acc[0]);
    for (const a of acc[1]) f.emit(op.v128Zero, op.set(a));
    secondExists();
    f.emit(op.if, op.get(row), op.i32(1), op.i32Add, op.set(address));
    startAtBias(f, bias, address, acc[1]);
    f.emit(op.end);
    element(f, indptr, r);
    f.emit(op.tee(address), op.i32Load(0), op.i32(2), op.i32Shl, op.tee(p));
    f.emit(op.i32(2), op.i32Shl, op.get(values), op.i32Add, op.i32(8 * second), op.i32Add, op.set(q));
    f.emit(op.get(address), op.i32Load(4), op.i32(2), op.i32Shl, op.set(end));
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      f.emit(op.get(offsets), op.get(p), op.i32Add, op.i32Load(0), op.get(x), op.i32Add, op.set(address));
      xv.forEach((v, k) => f.emit(op.get(address), op.v128Load(16 * k), op.set(v)));
      weights.forEach((w, t) => f.emit(op.get(q), op.v128Load32Splat(4 * t), op.set(w)));
      acc.forEach((rowAcc, t) => rowAcc.forEach((a, k) => f.emit(op.get(a), op.get(weights[t]!), op.get(xv[k]!), op.f32x4Mul, op.f32x4Add, op.set(a))));
      increment(f, p, 4);
      increment(f, q, 16);
    });
    applyRelu(f, relu, [...acc[0], ...acc[1]], true);
    f.emit(op.get(y), op.get(row), op.i32(6), op.i32Shl, op.i32Add, op.set(address));
    acc[0].forEach((a, k) => f.emit(op.get(address), op.get(a), op.v128Store(16 * k)));
    secondExists();
    f.emit(op.if);
    acc[1].forEach((a, k) => f.emit(op.get(address), op.get(a), op.v128Store(64 + 16 * k)));
    f.emit(op.end);
  };

  f.emit(op.i32(0), op.set(r));
  whileLoop(f, () => f.emit(op.get(r), op.i32(2), op.i32Shl, op.get(nRows), op.i32GeU), () => {
    f.emit(op.get(r), op.i32(2), op.i32Shl, op.set(row));
    pass(0);
    f.emit(op.get(row), op.i32(2), op.i32Add, op.tee(row), op.get(nRows), op.i32LtU, op.if);
    pass(1);
    f.emit(op.end);
    increment(f, r, 1);
  });
  return f;
}
