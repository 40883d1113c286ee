/*
 * int8 × int8 products on WebAssembly SIMD, summed exactly in int32, then rescaled once per output:
 *
 *     y[s][r] = act( float(Σ_j W[r][j]·q[s][j]) · (wScale[r] · xScale[s]) + bias[r] )      act = ReLU or identity
 *
 * W holds int8 codes with one scale per row; q the activations quantized per sample (kernels-quantize.ts). Every
 * code is in [−127, 127], so a product is below 2^14, the pair sum of i32x4.dot_i16x8_s cannot overflow, and
 * an int32 sum overflows only past 133,000 products per output (rows longer than MAX_INT8_ROW are refused
 * when a model is compiled).
 *
 *   denseInt8Panel16(nRows, nPairs, w, wScales, bias, relu, q, xScales, y)   16 samples (q from quantizePanelPairs16):
 *       W as int16 pairs (row r, pair i: [W[r][2i], W[r][2i+1]] at byte (r·nPairs + i)·4); each pair of
 *       features is one i32x4.dot_i16x8_s per 4 samples; 2 rows at a time share the loaded activations.
 *       O(16·nRows·nPairs·2).
 *   denseInt8Matvec(nRows, nGroups, w, wScales, bias, relu, q, xScale, y)    one vector (q from quantizeVector):
 *       W as int8 rows of 8·nGroups bytes (zero-padded); 8 features per v128.load8x8_s + dot, 4 rows at a
 *       time. O(nRows·nGroups·8).
 *   csrPairsPanel16(nRows, pairPtr, pairOffsets, pairWeights, wScales, bias, relu, q, xScales, y)   16 samples
 *       (q from quantizePanelWords16): each row's stored entries taken two at a time (pairPtr counts pairs; an
 *       odd last entry pairs with a zero weight), the two columns' int16 activations interleaved by one
 *       shuffle per 4 samples and multiplied by the [w1, w2] pair with i32x4.dot_i16x8_s. pairOffsets holds
 *       column·32 twice per pair, pairWeights the two int16 weights. O(16·nnz).
 * A sparse layer's batch-1 product runs on the swizzle form (kernels-int8-swizzle.ts) or SELL-4
 * (kernels-int8-sell.ts).
 *
 * Outputs are float32 panels (row r of sample t at float r·16 + t) or a vector, as the float kernels write them.
 */
import { F32, FunctionBuilder, I32, op, V128 } from '../../../wasm/assembler.ts';
import { element, increment, whileLoop } from '../../../wasm/emit.ts';
import { applyRelu } from '../wasm-simd/kernel-idioms.ts';

/** The longest row (stored entries, or inputs of a dense row) whose int32 sum cannot overflow: 2^31 / 127². */
export const MAX_INT8_ROW = Math.floor(2 ** 31 / (127 * 127));

/**
 * Panel epilogue: for output row `row`, y = act(float(acc) · wScale[row] · xScales + bias[row]) for 16 samples
 * (4 accumulators), stored at `yRow`.
 */
function storePanelRow(f: FunctionBuilder, p: { row: number; wScales: number; bias: number; relu: number; yRow: number }, acc: readonly number[], xScales: readonly number[], scaleLocal: number, biasLocal: number): void {
  element(f, p.wScales, p.row);
  f.emit(op.v128Load32Splat(0), op.set(scaleLocal));
  element(f, p.bias, p.row);
  f.emit(op.v128Load32Splat(0), op.set(biasLocal));
  acc.forEach((a, k) => {
    f.emit(op.get(a), op.f32x4ConvertI32x4S, op.get(scaleLocal), op.get(xScales[k]!), op.f32x4Mul, op.f32x4Mul, op.get(biasLocal), op.f32x4Add, op.set(a));
  });
  applyRelu(f, p.relu, acc, true);
  acc.forEach((a, k) => f.emit(op.get(p.yRow), op.get(a), op.v128Store(16 * k)));
}

/** Loads the 16 samples' activation scales into 4 vectors. */
function loadScales(f: FunctionBuilder, xScales: number): number[] {
  const out = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  out.forEach((v, k) => f.emit(op.get(xScales), op.v128Load(16 * k), op.set(v)));
  return out;
}

/** Builds denseInt8Panel16 (see the top of this file). */
export function denseInt8Panel16(): FunctionBuilder {
  const f = new FunctionBuilder('denseInt8Panel16', 9);
  const [nRows, nPairs, w, wScales, bias, relu, q, xScalesAt, y] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const xScales = loadScales(f, xScalesAt);
  const row = f.local(I32), rowBytes = f.local(I32), wAt = f.local(I32), wEnd = f.local(I32), qAt = f.local(I32), yRow = f.local(I32), rowIndex = f.local(I32);
  const acc = [0, 1].map(() => [f.local(V128), f.local(V128), f.local(V128), f.local(V128)]);
  const xv = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const weight = f.local(V128), scaleLocal = f.local(V128), biasLocal = f.local(V128);
  f.emit(op.get(nPairs), op.i32(2), op.i32Shl, op.set(rowBytes));
  f.emit(op.i32(0), op.set(row));
  const rowBlock = (rows: number): void => {
    whileLoop(f, () => f.emit(op.get(row), op.i32(rows), op.i32Add, op.get(nRows), op.i32GtU), () => {
      f.emit(op.get(w), op.get(row), op.get(rowBytes), op.i32Mul, op.i32Add, op.tee(wAt), op.get(rowBytes), op.i32Add, op.set(wEnd));
      for (let r = 0; r < rows; r++) for (const a of acc[r]!) f.emit(op.v128Zero, op.set(a));
      f.emit(op.get(q), op.set(qAt));
      whileLoop(f, () => f.emit(op.get(wAt), op.get(wEnd), op.i32GeU), () => {
        xv.forEach((v, k) => f.emit(op.get(qAt), op.v128Load(16 * k), op.set(v)));
        for (let r = 0; r < rows; r++) {
          f.emit(op.get(wAt));
          if (r > 0) f.emit(op.get(rowBytes), op.i32Add);
          f.emit(op.v128Load32Splat(0), op.set(weight));
          acc[r]!.forEach((a, k) => f.emit(op.get(a), op.get(xv[k]!), op.get(weight), op.i32x4DotI16x8S, op.i32x4Add, op.set(a)));
        }
        increment(f, wAt, 4);
        increment(f, qAt, 64);
      });
      for (let r = 0; r < rows; r++) {
        f.emit(op.get(row), op.i32(r), op.i32Add, op.set(rowIndex));
        f.emit(op.get(y), op.get(rowIndex), op.i32(6), op.i32Shl, op.i32Add, op.set(yRow));
        storePanelRow(f, { row: rowIndex, wScales, bias, relu, yRow }, acc[r]!, xScales, scaleLocal, biasLocal);
      }
      increment(f, row, rows);
    });
  };
  rowBlock(2);
  rowBlock(1);
  return f;
}

/** Vector epilogue: y[row] = act(float(Σ lanes of acc) · wScale[row] · xScale + bias[row]). */
function storeVectorRow(f: FunctionBuilder, p: { row: number; wScales: number; bias: number; relu: number; y: number }, acc: number, xScale: number, sum: number): void {
  f.emit(op.get(acc), op.i32x4ExtractLane(0), op.get(acc), op.i32x4ExtractLane(1), op.i32Add, op.get(acc), op.i32x4ExtractLane(2), op.get(acc), op.i32x4ExtractLane(3), op.i32Add, op.i32Add);
  f.emit(op.f32ConvertI32S);
  element(f, p.wScales, p.row);
  f.emit(op.f32Load(0), op.get(xScale), op.f32Mul, op.f32Mul);
  element(f, p.bias, p.row);
  f.emit(op.f32Load(0), op.f32Add, op.set(sum));
  applyRelu(f, p.relu, [sum], false);
  element(f, p.y, p.row);
  f.emit(op.get(sum), op.f32Store(0));
}

/** Builds denseInt8Matvec (see the top of this file). */
export function denseInt8Matvec(): FunctionBuilder {
  const f = new FunctionBuilder('denseInt8Matvec', 9);
  const [nRows, nGroups, w, wScales, bias, relu, q, xScaleAt, y] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const row = f.local(I32), rowBytes = f.local(I32), k = f.local(I32), wRow = f.local(I32), rowIndex = f.local(I32);
  const acc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const xv = f.local(V128), xScale = f.local(F32), sum = f.local(F32);
  f.emit(op.get(xScaleAt), op.f32Load(0), op.set(xScale));
  f.emit(op.get(nGroups), op.i32(3), op.i32Shl, op.set(rowBytes));
  f.emit(op.i32(0), op.set(row));
  const rowBlock = (rows: number): void => {
    whileLoop(f, () => f.emit(op.get(row), op.i32(rows), op.i32Add, op.get(nRows), op.i32GtU), () => {
      f.emit(op.get(w), op.get(row), op.get(rowBytes), op.i32Mul, op.i32Add, op.set(wRow));
      for (let r = 0; r < rows; r++) f.emit(op.v128Zero, op.set(acc[r]!));
      f.emit(op.i32(0), op.set(k));
      whileLoop(f, () => f.emit(op.get(k), op.get(rowBytes), op.i32GeU), () => {
        f.emit(op.get(q), op.get(k), op.i32Add, op.v128Load8x8S(0), op.set(xv));
        for (let r = 0; r < rows; r++) {
          f.emit(op.get(acc[r]!), op.get(wRow), op.get(k), op.i32Add);
          if (r > 0) f.emit(op.get(rowBytes), op.i32(r), op.i32Mul, op.i32Add);
          f.emit(op.v128Load8x8S(0), op.get(xv), op.i32x4DotI16x8S, op.i32x4Add, op.set(acc[r]!));
        }
        increment(f, k, 8);
      });
      for (let r = 0; r < rows; r++) {
        f.emit(op.get(row), op.i32(r), op.i32Add, op.set(rowIndex));
        storeVectorRow(f, { row: rowIndex, wScales, bias, relu, y }, acc[r]!, xScale, sum);
      }
      increment(f, row, rows);
    });
  };
  rowBlock(4);
  rowBlock(1);
  return f;
}

const INTERLEAVE_LOW_I16 = [0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23];
const INTERLEAVE_HIGH_I16 = [8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31];

/** Builds csrPairsPanel16 (see the top of this file). */
export function csrPairsPanel16(): FunctionBuilder {
  const f = new FunctionBuilder('csrPairsPanel16', 10);
  const [nRows, pairPtr, pairOffsets, pairWeights, wScales, bias, relu, q, xScalesAt, y] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const xScales = loadScales(f, xScalesAt);
  const row = f.local(I32), p = f.local(I32), end = f.local(I32), offsetAt = f.local(I32), a = f.local(I32), b = f.local(I32), yRow = f.local(I32);
  const acc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const a0 = f.local(V128), a1 = f.local(V128), b0 = f.local(V128), b1 = f.local(V128), weight = f.local(V128);
  const scaleLocal = f.local(V128), biasLocal = f.local(V128);
  f.emit(op.i32(0), op.set(row));
  whileLoop(f, () => f.emit(op.get(row), op.get(nRows), op.i32GeU), () => {
    element(f, pairPtr, row);
    f.emit(op.i32Load(0), op.set(p));
    element(f, pairPtr, row);
    f.emit(op.i32Load(4), op.set(end));
    for (const v of acc) f.emit(op.v128Zero, op.set(v));
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      f.emit(op.get(pairOffsets), op.get(p), op.i32(3), op.i32Shl, op.i32Add, op.tee(offsetAt), op.i32Load(0), op.get(q), op.i32Add, op.set(a));
      f.emit(op.get(offsetAt), op.i32Load(4), op.get(q), op.i32Add, op.set(b));
      element(f, pairWeights, p);
      f.emit(op.v128Load32Splat(0), op.set(weight));
      f.emit(op.get(a), op.v128Load(0), op.set(a0), op.get(a), op.v128Load(16), op.set(a1), op.get(b), op.v128Load(0), op.set(b0), op.get(b), op.v128Load(16), op.set(b1));
      [[a0, b0, INTERLEAVE_LOW_I16], [a0, b0, INTERLEAVE_HIGH_I16], [a1, b1, INTERLEAVE_LOW_I16], [a1, b1, INTERLEAVE_HIGH_I16]].forEach(([x1, x2, lanes], k) => {
        f.emit(op.get(acc[k]!), op.get(x1 as number), op.get(x2 as number), op.i8x16Shuffle(lanes as number[]), op.get(weight), op.i32x4DotI16x8S, op.i32x4Add, op.set(acc[k]!));
      });
      increment(f, p, 1);
    });
    f.emit(op.get(y), op.get(row), op.i32(6), op.i32Shl, op.i32Add, op.set(yRow));
    storePanelRow(f, { row, wScales, bias, relu, yRow }, acc, xScales, scaleLocal, biasLocal);
    increment(f, row, 1);
  });
  return f;
}
