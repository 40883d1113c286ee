/*
 * Layout and input-scan kernels on WebAssembly SIMD (layouts in kernels.ts).
 *
 *   rowsToPanels16(nPanels, nFeatures, rows, panels) / panelsToRows16(nPanels, nFeatures, panels, rows)
 *       the layout change between row-major samples and panels, for 16·nPanels samples. O(16·nPanels·F).
 *   nonFiniteProbe(nRows, nCols, x, probe)                          probe[i] = Σ_j x[i][j]·0 over row-major
 *       x [nRows × nCols]: ±0 when row i is finite, NaN when it holds a NaN or ±Infinity (0·∞ = NaN); what
 *       the model's non-finite input rule reads (../../kernels/non-finite.ts). O(nRows·nCols).
 *   scanVector(n, x, out)                                           one pass over x[n]: i32 out[0] = how many
 *       entries are not 0 (NaN counts), f32 out[1] = Σ x[j]·0 (±0 when x is finite, NaN otherwise): the
 *       skip-zeros decision and the non-finite flag of a batch-1 input in one read. O(n).
 */
import { F32, FunctionBuilder, I32, op, V128 } from '../../../wasm/assembler.ts';
import { element, increment, whileLoop } from '../../../wasm/emit.ts';

/**
 * Builds rowsToPanels16 or panelsToRows16 (see the top of this file). The panel side is walked in memory
 * order; the row side as 16 interleaved streams (one per sample).
 */
export function transpose16(name: 'rowsToPanels16' | 'panelsToRows16'): FunctionBuilder {
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

/** Builds nonFiniteProbe (see the top of this file). */
export function nonFiniteProbe(): FunctionBuilder {
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

/** Builds scanVector (see the top of this file). */
export function scanVector(): FunctionBuilder {
  const f = new FunctionBuilder('scanVector', 3);
  const [n, x, out] = [0, 1, 2];
  const at = f.local(I32), blockEnd = f.local(I32), end = f.local(I32), count = f.local(I32);
  const nonZero = f.local(V128), probes = [f.local(V128), f.local(V128)], v = f.local(V128);
  const probe = f.local(F32), value = f.local(F32);
  f.emit(op.get(x), op.tee(at), op.get(n), op.i32(2), op.i32Shl, op.i32Add, op.set(end));
  f.emit(op.get(x), op.get(n), op.i32(-8), op.i32And, op.i32(2), op.i32Shl, op.i32Add, op.set(blockEnd));
  // 8 floats per step. A lane of f32x4.ne(v, 0) is all ones (−1) where v ≠ 0, so subtracting it counts; the
  // two probe sums keep the adds of consecutive steps apart.
  whileLoop(f, () => f.emit(op.get(at), op.get(blockEnd), op.i32GeU), () => {
    probes.forEach((p, k) => {
      f.emit(op.get(at), op.v128Load(16 * k), op.set(v));
      f.emit(op.get(nonZero), op.get(v), op.v128Zero, op.f32x4Ne, op.i32x4Sub, op.set(nonZero));
      f.emit(op.get(p), op.get(v), op.v128Zero, op.f32x4Mul, op.f32x4Add, op.set(p));
    });
    increment(f, at, 32);
  });
  const [p0, p1] = probes as [number, number];
  f.emit(op.get(p0), op.get(p1), op.f32x4Add, op.set(p0));
  f.emit(op.get(p0), op.f32x4ExtractLane(0), op.get(p0), op.f32x4ExtractLane(1), op.f32Add);
  f.emit(op.get(p0), op.f32x4ExtractLane(2), op.f32Add, op.get(p0), op.f32x4ExtractLane(3), op.f32Add, op.set(probe));
  f.emit(op.get(nonZero), op.i32x4ExtractLane(0), op.get(nonZero), op.i32x4ExtractLane(1), op.i32Add);
  f.emit(op.get(nonZero), op.i32x4ExtractLane(2), op.i32Add, op.get(nonZero), op.i32x4ExtractLane(3), op.i32Add, op.set(count));
  whileLoop(f, () => f.emit(op.get(at), op.get(end), op.i32GeU), () => { // the last n mod 8 floats
    f.emit(op.get(at), op.f32Load(0), op.tee(value), op.f32zero, op.f32Ne, op.get(count), op.i32Add, op.set(count));
    f.emit(op.get(probe), op.get(value), op.f32zero, op.f32Mul, op.f32Add, op.set(probe));
    increment(f, at, 4);
  });
  f.emit(op.get(out), op.get(count), op.i32Store(0), op.get(out), op.get(probe), op.f32Store(4));
  return f;
}
