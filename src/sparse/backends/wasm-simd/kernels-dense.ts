/*
 * Dense inference kernels on WebAssembly SIMD: y = act(W·x + bias) for a dense row-major W [nRows × nCols], on
 * one 16-sample panel or one vector (layouts and conventions in kernels.ts).
 *
 *   densePanel16(nRows, nCols, w, bias, relu, x, y)   one panel: 2 rows × 16 samples of accumulators, so each
 *       loaded input vector feeds two rows; a last odd row runs alone. O(16·nRows·nCols).
 *   denseMatvec(nRows, nCols, w, bias, relu, x, y)    one vector: 4 rows at a time, 4 features per vector, a
 *       scalar loop for the last nCols mod 4 features and single rows for the last nRows mod 4 rows.
 *       O(nRows·nCols).
 */
import { F32, FunctionBuilder, I32, op, V128 } from '../../../wasm/assembler.ts';
import { element, increment, whileLoop } from '../../../wasm/emit.ts';
import { applyRelu, startAtBias } from './kernel-idioms.ts';

/** Builds densePanel16 (see the top of this file). */
export function densePanel16(): FunctionBuilder {
  const f = new FunctionBuilder('densePanel16', 7);
  const [nRows, nCols, w, bias, relu, x, y] = [0, 1, 2, 3, 4, 5, 6];
  const row = f.local(I32), rowBytes = f.local(I32), wAt = f.local(I32), wEnd = f.local(I32), xAt = f.local(I32), address = f.local(I32);
  const acc = [0, 1].map(() => [f.local(V128), f.local(V128), f.local(V128), f.local(V128)]);
  const xv = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const weight = f.local(V128);
  f.emit(op.get(nCols), op.i32(2), op.i32Shl, op.set(rowBytes));
  f.emit(op.i32(0), op.set(row));
  /** Output rows [row, row + rows): wAt walks row `row` of W, the other rows are rowBytes further. */
  const rowBlock = (rows: number): void => {
    whileLoop(f, () => f.emit(op.get(row), op.i32(rows), op.i32Add, op.get(nRows), op.i32GtU), () => {
      f.emit(op.get(w), op.get(row), op.get(rowBytes), op.i32Mul, op.i32Add, op.tee(wAt), op.get(rowBytes), op.i32Add, op.set(wEnd));
      for (let r = 0; r < rows; r++) {
        f.emit(op.get(row), op.i32(r), op.i32Add, op.set(address));
        startAtBias(f, bias, address, acc[r]!);
      }
      f.emit(op.get(x), op.set(xAt));
      whileLoop(f, () => f.emit(op.get(wAt), op.get(wEnd), op.i32GeU), () => {
        xv.forEach((v, k) => f.emit(op.get(xAt), op.v128Load(16 * k), op.set(v)));
        for (let r = 0; r < rows; r++) {
          f.emit(op.get(wAt));
          if (r > 0) f.emit(op.get(rowBytes), op.i32Add);
          f.emit(op.v128Load32Splat(0), op.set(weight));
          acc[r]!.forEach((a, k) => f.emit(op.get(a), op.get(weight), op.get(xv[k]!), op.f32x4Mul, op.f32x4Add, op.set(a)));
        }
        increment(f, wAt, 4);
        increment(f, xAt, 64);
      });
      f.emit(op.get(y), op.get(row), op.i32(6), op.i32Shl, op.i32Add, op.set(address));
      for (let r = 0; r < rows; r++) {
        applyRelu(f, relu, acc[r]!, true);
        acc[r]!.forEach((a, k) => f.emit(op.get(address), op.get(a), op.v128Store(64 * r + 16 * k)));
      }
      increment(f, row, rows);
    });
  };
  rowBlock(2);
  rowBlock(1);
  return f;
}

/** Builds denseMatvec (see the top of this file). */
export function denseMatvec(): FunctionBuilder {
  const f = new FunctionBuilder('denseMatvec', 7);
  const [nRows, nCols, w, bias, relu, x, y] = [0, 1, 2, 3, 4, 5, 6];
  const row = f.local(I32), rowBytes = f.local(I32), vectorBytes = f.local(I32), k = f.local(I32), wRow = f.local(I32), address = f.local(I32);
  const acc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const sums = [f.local(F32), f.local(F32), f.local(F32), f.local(F32)];
  const xv = f.local(V128);
  f.emit(op.get(nCols), op.i32(2), op.i32Shl, op.set(rowBytes));
  f.emit(op.get(nCols), op.i32(-4), op.i32And, op.i32(2), op.i32Shl, op.set(vectorBytes)); // whole vectors of 4
  f.emit(op.i32(0), op.set(row));
  /** The address of W[row + r][k]. */
  const weightAt = (r: number): void => {
    f.emit(op.get(wRow), op.get(k), op.i32Add);
    if (r > 0) f.emit(op.get(rowBytes), op.i32(r), op.i32Mul, op.i32Add);
  };
  const rowBlock = (rows: number): void => {
    whileLoop(f, () => f.emit(op.get(row), op.i32(rows), op.i32Add, op.get(nRows), op.i32GtU), () => {
      f.emit(op.get(w), op.get(row), op.get(rowBytes), op.i32Mul, op.i32Add, op.set(wRow));
      for (let r = 0; r < rows; r++) f.emit(op.v128Zero, op.set(acc[r]!), op.f32zero, op.set(sums[r]!));
      f.emit(op.i32(0), op.set(k));
      whileLoop(f, () => f.emit(op.get(k), op.get(vectorBytes), op.i32GeU), () => {
        f.emit(op.get(x), op.get(k), op.i32Add, op.v128Load(0), op.set(xv));
        for (let r = 0; r < rows; r++) {
          f.emit(op.get(acc[r]!));
          weightAt(r);
          f.emit(op.v128Load(0), op.get(xv), op.f32x4Mul, op.f32x4Add, op.set(acc[r]!));
        }
        increment(f, k, 16);
      });
      whileLoop(f, () => f.emit(op.get(k), op.get(rowBytes), op.i32GeU), () => {
        for (let r = 0; r < rows; r++) {
          f.emit(op.get(sums[r]!));
          weightAt(r);
          f.emit(op.f32Load(0), op.get(x), op.get(k), op.i32Add, op.f32Load(0), op.f32Mul, op.f32Add, op.set(sums[r]!));
        }
        increment(f, k, 4);
      });
      for (let r = 0; r < rows; r++) {
        const a = acc[r]!, s = sums[r]!;
        // sum = bias + (lane0 + lane1) + (lane2 + lane3) + scalar tail
        f.emit(op.get(row), op.i32(r), op.i32Add, op.set(address));
        element(f, bias, address);
        f.emit(op.f32Load(0));
        f.emit(op.get(a), op.f32x4ExtractLane(0), op.get(a), op.f32x4ExtractLane(1), op.f32Add);
        f.emit(op.get(a), op.f32x4ExtractLane(2), op.get(a), op.f32x4ExtractLane(3), op.f32Add, op.f32Add);
        f.emit(op.get(s), op.f32Add, op.f32Add, op.set(s));
        applyRelu(f, relu, [s], false);
        element(f, y, address);
        f.emit(op.get(s), op.f32Store(0));
      }
      increment(f, row, rows);
    });
  };
  rowBlock(4);
  rowBlock(1);
  return f;
}
