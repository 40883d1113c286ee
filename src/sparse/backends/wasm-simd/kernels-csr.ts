/*
 * CSR inference kernels on WebAssembly SIMD: y = act(W·x + bias) for a sparse W in compressed sparse rows (or
 * columns), on one 16-sample panel or one vector (layouts and conventions in kernels.ts). The batch-1 gather
 * kernel that the cost model prefers is sellMatvec (kernels-sell.ts); spmv remains for layers too wide for
 * its 16-bit column offsets.
 *
 *   spmmPanel16(nRows, indptr, offsets, values, bias, relu, x, y)   one 16-sample panel.
 *       indptr: i32[nRows+1]; offsets: i32[nnz] = column·64 (byte offset of the column's 16 samples);
 *       values: f32[nnz]. Per nonzero: one splatted weight × 4 vector loads into 4 vector accumulators,
 *       two nonzeros per loop step. O(16·nnz + 16·nRows).
 *   spmv(nRows, indptr, offsets, values, bias, relu, x, y)           one vector.
 *       offsets: i32[nnz] = column·4. Scalar gathers, two accumulators. O(nnz + nRows).
 *   cscMatvecSkipZeros(nRows, nCols, colptr, rowOffsets, values, bias, relu, x, y)   the same product from
 *       W by columns (CSC; rowOffsets = row·4), touching only the columns of non-zero inputs: for ReLU
 *       activations and image background most inputs are zero. O(nRows + nCols + nnz of those columns).
 */
import { F32, FunctionBuilder, I32, op, V128 } from '../../../wasm/assembler.ts';
import { element, increment, whileLoop } from '../../../wasm/emit.ts';
import { applyRelu, startAtBias } from './kernel-idioms.ts';

/** Builds spmmPanel16 (see the top of this file). */
export function spmmPanel16(): FunctionBuilder {
  const f = new FunctionBuilder('spmmPanel16', 8);
  const [nRows, indptr, offsets, values, bias, relu, x, y] = [0, 1, 2, 3, 4, 5, 6, 7];
  const row = f.local(I32), p = f.local(I32), end = f.local(I32), pairEnd = f.local(I32), address = f.local(I32), address2 = f.local(I32);
  const acc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const weight = f.local(V128), weight2 = f.local(V128);
  f.emit(op.i32(0), op.set(row));
  whileLoop(f, () => f.emit(op.get(row), op.get(nRows), op.i32GeU), () => {
    // p, end: byte offsets of the row's nonzeros in `offsets` and `values`
    element(f, indptr, row);
    f.emit(op.tee(address), op.i32Load(0), op.i32(2), op.i32Shl, op.set(p));
    f.emit(op.get(address), op.i32Load(4), op.i32(2), op.i32Shl, op.set(end));
    startAtBias(f, bias, row, acc);
    // Two nonzeros per step while p + 4 < end (measured ~10 % faster than one: half the loop overhead),
    // then the odd last one.
    f.emit(op.get(end), op.i32(4), op.i32Sub, op.set(pairEnd));
    whileLoop(f, () => f.emit(op.get(p), op.get(pairEnd), op.i32GeS), () => {
      f.emit(op.get(values), op.get(p), op.i32Add, op.tee(address), op.v128Load32Splat(0), op.set(weight));
      f.emit(op.get(address), op.v128Load32Splat(4), op.set(weight2));
      f.emit(op.get(offsets), op.get(p), op.i32Add, op.tee(address2), op.i32Load(0), op.get(x), op.i32Add, op.set(address));
      f.emit(op.get(address2), op.i32Load(4), op.get(x), op.i32Add, op.set(address2));
      acc.forEach((a, k) => f.emit(
        op.get(a), op.get(weight), op.get(address), op.v128Load(16 * k), op.f32x4Mul, op.f32x4Add,
        op.get(weight2), op.get(address2), op.v128Load(16 * k), op.f32x4Mul, op.f32x4Add, op.set(a),
      ));
      increment(f, p, 8);
    });
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      f.emit(op.get(values), op.get(p), op.i32Add, op.v128Load32Splat(0), op.set(weight));
      f.emit(op.get(offsets), op.get(p), op.i32Add, op.i32Load(0), op.get(x), op.i32Add, op.set(address));
      acc.forEach((a, k) => f.emit(op.get(a), op.get(weight), op.get(address), op.v128Load(16 * k), op.f32x4Mul, op.f32x4Add, op.set(a)));
      increment(f, p, 4);
    });
    applyRelu(f, relu, acc, true);
    f.emit(op.get(y), op.get(row), op.i32(6), op.i32Shl, op.i32Add, op.set(address));
    acc.forEach((a, k) => f.emit(op.get(address), op.get(a), op.v128Store(16 * k)));
    increment(f, row, 1);
  });
  return f;
}

/** Builds spmv (see the top of this file). */
export function spmv(): FunctionBuilder {
  const f = new FunctionBuilder('spmv', 8);
  const [nRows, indptr, offsets, values, bias, relu, x, y] = [0, 1, 2, 3, 4, 5, 6, 7];
  const row = f.local(I32), p = f.local(I32), end = f.local(I32), pairEnd = f.local(I32), address = f.local(I32);
  const acc0 = f.local(F32), acc1 = f.local(F32);
  /** acc += values[p + k] · x[offsets[p + k]] (k in bytes: 0 or 4). */
  const multiplyAdd = (acc: number, k: number): void => {
    f.emit(op.get(acc), op.get(values), op.get(p), op.i32Add, op.f32Load(k));
    f.emit(op.get(x), op.get(offsets), op.get(p), op.i32Add, op.i32Load(k), op.i32Add, op.f32Load(0));
    f.emit(op.f32Mul, op.f32Add, op.set(acc));
  };
  f.emit(op.i32(0), op.set(row));
  whileLoop(f, () => f.emit(op.get(row), op.get(nRows), op.i32GeU), () => {
    element(f, indptr, row);
    f.emit(op.tee(address), op.i32Load(0), op.i32(2), op.i32Shl, op.set(p));
    f.emit(op.get(address), op.i32Load(4), op.i32(2), op.i32Shl, op.set(end));
    element(f, bias, row);
    f.emit(op.f32Load(0), op.set(acc0), op.f32zero, op.set(acc1));
    // Two nonzeros per step while p + 4 < end (signed: pairEnd is −4 for an empty row), then the odd one.
    f.emit(op.get(end), op.i32(4), op.i32Sub, op.set(pairEnd));
    whileLoop(f, () => f.emit(op.get(p), op.get(pairEnd), op.i32GeS), () => {
      multiplyAdd(acc0, 0);
      multiplyAdd(acc1, 4);
      increment(f, p, 8);
    });
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      multiplyAdd(acc0, 0);
      increment(f, p, 4);
    });
    f.emit(op.get(acc0), op.get(acc1), op.f32Add, op.set(acc0));
    applyRelu(f, relu, [acc0], false);
    element(f, y, row);
    f.emit(op.get(acc0), op.f32Store(0));
    increment(f, row, 1);
  });
  return f;
}

/** Builds cscMatvecSkipZeros (see the top of this file). */
export function cscMatvecSkipZeros(): FunctionBuilder {
  const f = new FunctionBuilder('cscMatvecSkipZeros', 9);
  const [nRows, nCols, colptr, rowOffsets, values, bias, relu, x, y] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const i = f.local(I32), j = f.local(I32), p = f.local(I32), end = f.local(I32), address = f.local(I32);
  const xj = f.local(F32), value = f.local(F32);
  f.emit(op.i32(0), op.set(i));
  whileLoop(f, () => f.emit(op.get(i), op.get(nRows), op.i32GeU), () => { // y = bias
    element(f, y, i);
    element(f, bias, i);
    f.emit(op.f32Load(0), op.f32Store(0));
    increment(f, i, 1);
  });
  f.emit(op.i32(0), op.set(j));
  whileLoop(f, () => f.emit(op.get(j), op.get(nCols), op.i32GeU), () => {
    element(f, x, j);
    f.emit(op.f32Load(0), op.tee(xj), op.f32zero, op.f32Ne, op.if); // only the columns of non-zero inputs
    element(f, colptr, j);
    f.emit(op.tee(address), op.i32Load(0), op.i32(2), op.i32Shl, op.set(p));
    f.emit(op.get(address), op.i32Load(4), op.i32(2), op.i32Shl, op.set(end));
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      f.emit(op.get(values), op.get(p), op.i32Add, op.f32Load(0), op.get(xj), op.f32Mul, op.set(value));
      f.emit(op.get(y), op.get(rowOffsets), op.get(p), op.i32Add, op.i32Load(0), op.i32Add, op.tee(address));
      f.emit(op.get(address), op.f32Load(0), op.get(value), op.f32Add, op.f32Store(0));
      increment(f, p, 4);
    });
    f.emit(op.end);
    increment(f, j, 1);
  });
  f.emit(op.get(relu), op.if, op.i32(0), op.set(i));
  whileLoop(f, () => f.emit(op.get(i), op.get(nRows), op.i32GeU), () => {
    element(f, y, i);
    f.emit(op.tee(address), op.get(address), op.f32Load(0), op.f32zero, op.f32Max, op.f32Store(0));
    increment(f, i, 1);
  });
  f.emit(op.end);
  return f;
}
