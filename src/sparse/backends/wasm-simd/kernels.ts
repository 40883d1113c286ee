/*
 * The inference kernels as WebAssembly SIMD (128-bit vectors of 4 float32), hand-assembled by src/wasm/assembler.ts.
 * They are the same algorithms as the TypeScript kernels (csr-matvec.ts, csr-matmul-panel.ts, gemm.ts),
 * on float32 data in one WebAssembly.Memory; every argument is a size, a flag or a byte address.
 *
 * Why: scalar V8 code spends one bounds-checked load per multiply-add and has no vector instructions. In
 * WebAssembly the loads are unchecked (the memory is guarded) and one f32x4 instruction does four
 * multiply-adds, which makes the panel kernels ~10× and the gathers of the batch-1 SpMV ~3–4× faster
 * (measured by `npx sparsegrad bench sparse`; README "The WebAssembly SIMD backend").
 *
 * Layouts (as in ../../layout.ts, but float32 and only 16-wide panels):
 *   a 16-sample panel of F features stores feature j of sample t at float index j·16 + t;
 *   a vector (one sample) stores feature j at index j.
 * Every kernel computes y = act(W·x + bias) for its output rows, with act = ReLU when `relu` ≠ 0 and the
 * identity otherwise; `bias` is the address of nRows floats (callers pass zeros for "no bias").
 *
 *   spmmPanel16(nRows, indptr, offsets, values, bias, relu, x, y)   sparse W (CSR), one 16-sample panel.
 *       indptr: i32[nRows+1]; offsets: i32[nnz] = column·64 (byte offset of the column's 16 samples);
 *       values: f32[nnz]. Per nonzero: one splatted weight × 4 vector loads into 4 vector accumulators,
 *       two nonzeros per loop step. O(16·nnz + 16·nRows).
 *   spmv(nRows, indptr, offsets, values, bias, relu, x, y)           sparse W (CSR), one vector.
 *       offsets: i32[nnz] = column·4. Scalar gathers, two accumulators. O(nnz + nRows).
 *   cscMatvecSkipZeros(nRows, nCols, colptr, rowOffsets, values, bias, relu, x, y)   the same product from
 *       W by columns (CSC; rowOffsets = row·4), touching only the columns of non-zero inputs: for ReLU
 *       activations and image background most inputs are zero. O(nRows + nCols + nnz of those columns).
 *   densePanel16(nRows, nCols, w, bias, relu, x, y)                  dense W [nRows × nCols] row-major,
 *       one panel: 2 rows × 16 samples of accumulators, so each loaded input vector feeds two rows; a
 *       last odd row runs alone. O(16·nRows·nCols).
 *   denseMatvec(nRows, nCols, w, bias, relu, x, y)                   dense W, one vector: 4 rows at a
 *       time, 4 features per vector, a scalar loop for the last nCols mod 4 features and single rows for
 *       the last nRows mod 4 rows. O(nRows·nCols).
 *   rowsToPanels16(nPanels, nFeatures, rows, panels) / panelsToRows16(nPanels, nFeatures, panels, rows)
 *       the layout change between row-major samples and panels, for 16·nPanels samples. O(16·nPanels·F).
 *   nonFiniteProbe(nRows, nCols, x, probe)                          probe[i] = Σ_j x[i][j]·0 over row-major
 *       x [nRows × nCols]: ±0 when row i is finite, NaN when it holds a NaN or ±Infinity (0·∞ = NaN); what
 *       the model's non-finite input rule reads (../../kernels/non-finite.ts). O(nRows·nCols).
 *
 * Accumulation is in float32 (the TypeScript kernels accumulate in float64), so results agree to float32
 * rounding of a dot product, not bit for bit.
 */
import { assembleModule, F32, FunctionBuilder, I32, op, V128 } from '../../../wasm/assembler.ts';
import { element, increment, whileLoop } from '../../../wasm/emit.ts';
import { wasmApi, type WasmMemory } from '../../../wasm/runtime.ts';

/** The vector accumulators of one output row start at its bias, splatted to all lanes. */
function startAtBias(f: FunctionBuilder, bias: number, row: number, accumulators: number[]): void {
  const first = accumulators[0]!;
  element(f, bias, row);
  f.emit(op.v128Load32Splat(0), op.set(first));
  for (const a of accumulators.slice(1)) f.emit(op.get(first), op.set(a));
}

/** When `relu` is set: every accumulator = max(accumulator, 0). */
function applyRelu(f: FunctionBuilder, relu: number, accumulators: number[], vector: boolean): void {
  f.emit(op.get(relu), op.if);
  for (const a of accumulators) {
    f.emit(op.get(a), vector ? op.v128Zero : op.f32zero, vector ? op.f32x4Max : op.f32Max, op.set(a));
  }
  f.emit(op.end);
}

function spmmPanel16(): FunctionBuilder {
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

function spmv(): FunctionBuilder {
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

function cscMatvecSkipZeros(): FunctionBuilder {
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

function densePanel16(): FunctionBuilder {
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

function denseMatvec(): FunctionBuilder {
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

/**
 * The panel side is walked in memory order; the row side as 16 interleaved streams (one per sample).
 */
function transpose16(name: 'rowsToPanels16' | 'panelsToRows16'): FunctionBuilder {
  const toPanels = name === 'rowsToPanels16';
  const f = new FunctionBuilder(name, 4);
  const [nPanels, nFeatures, source, target] = [0, 1, 2, 3];
  const [rowMajor, panels] = toPanels ? [source, target] : [target, source];
  const rowBytes = f.local(I32), panelAt = f.local(I32), rowsAt = f.local(I32), rowsEnd = f.local(I32), featureAt = f.local(I32), featureEnd = f.local(I32), at = f.local(I32);
  f.emit(op.get(nFeatures), op.i32(2), op.i32Shl, op.set(rowBytes));
  f.emit(op.get(panels), op.set(panelAt), op.get(rowMajor), op.set(rowsAt));
  f.emit(op.get(rowMajor), op.get(nPanels), op.get(rowBytes), op.i32Mul, op.i32(4), op.i32Shl, op.i32Add, op.set(rowsEnd));
  whileLoop(f, () => f.emit(op.get(rowsAt), op.get(rowsEnd), op.i32GeU), () => { // each panel: 16 rows
    f.emit(op.get(rowsAt), op.set(featureAt), op.get(rowsAt), op.get(rowBytes), op.i32Add, op.set(featureEnd));
    whileLoop(f, () => f.emit(op.get(featureAt), op.get(featureEnd), op.i32GeU), () => { // each feature: 16 samples
      f.emit(op.get(featureAt), op.set(at));
      for (let t = 0; t < 16; t++) {
        if (toPanels) f.emit(op.get(panelAt), op.get(at), op.f32Load(0), op.f32Store(4 * t));
        else f.emit(op.get(at), op.get(panelAt), op.f32Load(4 * t), op.f32Store(0));
        if (t < 15) increment(f, at, () => f.emit(op.get(rowBytes)));
      }
      increment(f, panelAt, 64);
      increment(f, featureAt, 4);
    });
    increment(f, rowsAt, () => f.emit(op.get(rowBytes), op.i32(4), op.i32Shl));
  });
  return f;
}

function nonFiniteProbe(): FunctionBuilder {
  const f = new FunctionBuilder('nonFiniteProbe', 4);
  const [nRows, nCols, x, probe] = [0, 1, 2, 3];
  const row = f.local(I32), at = f.local(I32), blockEnd = f.local(I32), rowEnd = f.local(I32);
  const acc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const sum = f.local(F32);
  f.emit(op.get(x), op.set(at), op.i32(0), op.set(row));
  whileLoop(f, () => f.emit(op.get(row), op.get(nRows), op.i32GeU), () => {
    f.emit(op.get(at), op.get(nCols), op.i32(2), op.i32Shl, op.i32Add, op.set(rowEnd));
    f.emit(op.get(at), op.get(nCols), op.i32(-16), op.i32And, op.i32(2), op.i32Shl, op.i32Add, op.set(blockEnd));
    for (const a of acc) f.emit(op.v128Zero, op.set(a));
    // 16 floats per step into four accumulators, so the adds do not wait for each other.
    whileLoop(f, () => f.emit(op.get(at), op.get(blockEnd), op.i32GeU), () => {
      acc.forEach((a, k) => f.emit(op.get(a), op.get(at), op.v128Load(16 * k), op.v128Zero, op.f32x4Mul, op.f32x4Add, op.set(a)));
      increment(f, at, 64);
    });
    f.emit(op.get(acc[0]!), op.get(acc[1]!), op.f32x4Add, op.get(acc[2]!), op.get(acc[3]!), op.f32x4Add, op.f32x4Add, op.set(acc[0]!));
    f.emit(op.get(acc[0]!), op.f32x4ExtractLane(0), op.get(acc[0]!), op.f32x4ExtractLane(1), op.f32Add);
    f.emit(op.get(acc[0]!), op.f32x4ExtractLane(2), op.f32Add, op.get(acc[0]!), op.f32x4ExtractLane(3), op.f32Add, op.set(sum));
    whileLoop(f, () => f.emit(op.get(at), op.get(rowEnd), op.i32GeU), () => { // the last nCols mod 16 floats
      f.emit(op.get(sum), op.get(at), op.f32Load(0), op.f32zero, op.f32Mul, op.f32Add, op.set(sum));
      increment(f, at, 4);
    });
    element(f, probe, row);
    f.emit(op.get(sum), op.f32Store(0));
    increment(f, row, 1);
  });
  return f;
}

/** The kernels of one instance, bound to its memory. */
export interface WasmKernels {
  spmmPanel16(nRows: number, indptr: number, offsets: number, values: number, bias: number, relu: number, x: number, y: number): void;
  spmv(nRows: number, indptr: number, offsets: number, values: number, bias: number, relu: number, x: number, y: number): void;
  cscMatvecSkipZeros(nRows: number, nCols: number, colptr: number, rowOffsets: number, values: number, bias: number, relu: number, x: number, y: number): void;
  densePanel16(nRows: number, nCols: number, w: number, bias: number, relu: number, x: number, y: number): void;
  denseMatvec(nRows: number, nCols: number, w: number, bias: number, relu: number, x: number, y: number): void;
  rowsToPanels16(nPanels: number, nFeatures: number, rows: number, panels: number): void;
  panelsToRows16(nPanels: number, nFeatures: number, panels: number, rows: number): void;
  nonFiniteProbe(nRows: number, nCols: number, x: number, probe: number): void;
}

let moduleBytes: Uint8Array | null = null;
let compiledModule: object | null = null;

/** The assembled module's bytes (built once): every kernel above, exported by its name. */
export function kernelModuleBytes(): Uint8Array {
  moduleBytes ??= assembleModule([spmmPanel16(), spmv(), cscMatvecSkipZeros(), densePanel16(), denseMatvec(), transpose16('rowsToPanels16'), transpose16('panelsToRows16'), nonFiniteProbe()], 1);
  return moduleBytes;
}

/** True when this JavaScript engine runs WebAssembly with the SIMD extension (Node ≥ 16.4, current browsers). */
export function wasmSimdSupported(): boolean {
  const api = wasmApi();
  if (api === undefined) return false;
  try {
    return api.validate(kernelModuleBytes());
  } catch {
    return false;
  }
}

/**
 * A new instance of the kernels with its own memory (initially `pages` × 64 KiB). Returns null when the
 * engine has no WebAssembly SIMD; callers turn that into a typed error.
 */
export function instantiateKernels(pages = 1): { memory: WasmMemory; kernels: WasmKernels } | null {
  const api = wasmApi();
  if (api === undefined || !wasmSimdSupported()) return null;
  compiledModule ??= new api.Module(kernelModuleBytes());
  const memory = new api.Memory({ initial: Math.max(1, pages) });
  const exports = new api.Instance(compiledModule, { env: { memory } }).exports as unknown as WasmKernels;
  return { memory, kernels: exports };
}
