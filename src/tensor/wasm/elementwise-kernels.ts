/*
 * The elementwise and reduction kernels of a training step as WebAssembly SIMD (f32x4), hand-assembled.
 * Every argument is a size or a byte address of float32 data; four elements per instruction, then a scalar
 * loop for the last n mod 4. They give the same float32 results, bit for bit, as the TypeScript kernels they
 * replace (each output is one float32 operation on float32 inputs, or a float32 sum in the same order).
 *
 *   relu(n, x, out)                   out = max(x, 0); NaN stays NaN, −0 becomes +0 (as unaryKernel 'relu').
 *   reluBackward(n, x, dy, dx)        dx = dy where x > 0, else 0 (the subgradient at 0 is 0).
 *   add(n, a, b, out)                 out = a + b (gradient accumulation at fan-out).
 *   addRowVector(rows, cols, y, bias) y[r, j] += bias[j] (the Linear bias).
 *   sumRows(rows, cols, x, out)       out[j] = Σ_r x[r, j], summed from 0 in row order (the bias gradient).
 * Each is O(number of elements), one pass over its operands.
 */
import { FunctionBuilder, I32, op, V128 } from '../../wasm/assembler.ts';
import { increment, whileLoop } from '../../wasm/emit.ts';

/**
 * for (i = 0; i < count; i++) over 4-element vectors, then over the last count mod 4 elements one at a
 * time: `body(vector, at)` emits the work for the element(s) at byte offset `at` from each array's start.
 */
export function overElements(f: FunctionBuilder, count: number, body: (vector: boolean, at: number) => void): void {
  const at = f.local(I32), vectorEnd = f.local(I32), end = f.local(I32);
  f.emit(op.get(count), op.i32(2), op.i32Shl, op.tee(end), op.i32(-16), op.i32And, op.set(vectorEnd));
  f.emit(op.i32(0), op.set(at));
  whileLoop(f, () => f.emit(op.get(at), op.get(vectorEnd), op.i32GeU), () => {
    body(true, at);
    increment(f, at, 16);
  });
  whileLoop(f, () => f.emit(op.get(at), op.get(end), op.i32GeU), () => {
    body(false, at);
    increment(f, at, 4);
  });
}

/** Pushes the element(s) of array `base` at byte offset `at`. */
export function load(f: FunctionBuilder, vector: boolean, base: number, at: number): void {
  f.emit(op.get(base), op.get(at), op.i32Add, vector ? op.v128Load(0) : op.f32Load(0));
}

/** Pops a value into the element(s) of array `base` at byte offset `at` (via `value`, which pushes it). */
export function store(f: FunctionBuilder, vector: boolean, base: number, at: number, value: () => void): void {
  f.emit(op.get(base), op.get(at), op.i32Add);
  value();
  f.emit(vector ? op.v128Store(0) : op.f32Store(0));
}

function relu(): FunctionBuilder {
  const f = new FunctionBuilder('relu', 3);
  const [n, x, out] = [0, 1, 2];
  // NOTE: f32x4.max / f32.max, not a comparison: NaN propagates and max(−0, 0) = +0, as in unaryKernel.
  overElements(f, n, (vector, at) => store(f, vector, out, at, () => {
    load(f, vector, x, at);
    f.emit(vector ? op.v128Zero : op.f32zero, vector ? op.f32x4Max : op.f32Max);
  }));
  return f;
}

function reluBackward(): FunctionBuilder {
  const f = new FunctionBuilder('reluBackward', 4);
  const [n, x, dy, dx] = [0, 1, 2, 3];
  overElements(f, n, (vector, at) => store(f, vector, dx, at, () => {
    if (vector) {
      // dy AND (x > 0 ? all ones : 0): exact dy where x > 0, +0 elsewhere (also for NaN x).
      load(f, true, dy, at);
      load(f, true, x, at);
      f.emit(op.v128Zero, op.f32x4Gt, op.v128And);
    } else {
      load(f, false, dy, at);
      f.emit(op.f32zero);
      load(f, false, x, at);
      f.emit(op.f32zero, op.f32Gt, op.select);
    }
  }));
  return f;
}

function add(): FunctionBuilder {
  const f = new FunctionBuilder('add', 4);
  const [n, a, b, out] = [0, 1, 2, 3];
  overElements(f, n, (vector, at) => store(f, vector, out, at, () => {
    load(f, vector, a, at);
    load(f, vector, b, at);
    f.emit(vector ? op.f32x4Add : op.f32Add);
  }));
  return f;
}

/** Row by row, `perRow(row address, at)` over the columns (vectors, then the scalar tail). */
function overRows(f: FunctionBuilder, rows: number, cols: number, matrix: number, perRow: (row: number, vector: boolean, at: number) => void): void {
  const r = f.local(I32), row = f.local(I32);
  f.emit(op.i32(0), op.set(r), op.get(matrix), op.set(row));
  whileLoop(f, () => f.emit(op.get(r), op.get(rows), op.i32GeU), () => {
    overElements(f, cols, (vector, at) => perRow(row, vector, at));
    increment(f, row, () => f.emit(op.get(cols), op.i32(2), op.i32Shl));
    increment(f, r, 1);
  });
}

function addRowVector(): FunctionBuilder {
  const f = new FunctionBuilder('addRowVector', 4);
  const [rows, cols, y, bias] = [0, 1, 2, 3];
  overRows(f, rows, cols, y, (row, vector, at) => store(f, vector, row, at, () => {
    load(f, vector, row, at);
    load(f, vector, bias, at);
    f.emit(vector ? op.f32x4Add : op.f32Add);
  }));
  return f;
}

function sumRows(): FunctionBuilder {
  const f = new FunctionBuilder('sumRows', 4);
  const [rows, cols, x, out] = [0, 1, 2, 3];
  overElements(f, cols, (vector, at) => store(f, vector, out, at, () => f.emit(vector ? op.v128Zero : op.f32zero)));
  // out stays in L1 while the rows stream past it; each sum is 0 + x[0, j] + x[1, j] + … in row order.
  overRows(f, rows, cols, x, (row, vector, at) => store(f, vector, out, at, () => {
    load(f, vector, out, at);
    load(f, vector, row, at);
    f.emit(vector ? op.f32x4Add : op.f32Add);
  }));
  return f;
}

/** The kernels of this file, in module order. */
export function elementwiseKernels(): FunctionBuilder[] {
  return [relu(), reluBackward(), add(), addRowVector(), sumRows()];
}
