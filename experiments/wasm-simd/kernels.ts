/*
 * Experiment: the project's two inference kernels, and two dense ones to compare them with, written as
 * WebAssembly SIMD (128-bit, 4 × f32 lanes) instead of scalar TypeScript. The question it answers with
 * measurements (run.ts) is what SIMD would change for issue 3's targets; nothing in src/ uses it.
 *
 * All data is float32 in one WebAssembly.Memory; every kernel argument is a size or a byte address.
 *
 *   spmmPanel16   Y = X·Wᵀ on one 16-sample panel (the layout of src/sparse/layout.ts): for each nonzero,
 *                 one splatted weight times the 16 samples of its input feature (4 vector loads) into 4
 *                 vector accumulators. Column indices are stored pre-scaled to byte offsets (col·64).
 *   spmv          y = W·x, batch 1: scalar f32 gathers, two accumulators (a gather cannot be vectorised
 *                 in 128-bit SIMD without per-lane loads). Column indices pre-scaled to col·4.
 *   densePanel16  the dense counterpart of spmmPanel16 on the same panel layout: 2 output rows × 16 samples
 *                 of accumulators (8 vectors), so each input vector load feeds two rows.
 *   denseMatvec   y = W·x, batch 1: 4 rows at a time, 4 features per vector, horizontal sum at the end.
 *                 Needs rows and columns padded to multiples of 4 (`padTo4`).
 *   rowsToPanels16 / panelsToRows16   the layout change at the edges of a network (scalar copies).
 */
import { assembleModule, F32, FunctionBuilder, I32, op, V128 } from './assembler.ts';

function spmmPanel16(): FunctionBuilder {
  const f = new FunctionBuilder('spmmPanel16', 6);
  const [nRows, indptr, offsets, values, x, y] = [0, 1, 2, 3, 4, 5];
  const row = f.local(I32), p = f.local(I32), end = f.local(I32), address = f.local(I32);
  const acc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const weight = f.local(V128);
  f.emit(op.i32(0), op.set(row));
  f.emit(op.block, op.loop); // for row < nRows
  f.emit(op.get(row), op.get(nRows), op.i32GeU, op.brIf(1));
  // p, end: byte offsets of the row's nonzeros in `offsets` and `values`
  f.emit(op.get(indptr), op.get(row), op.i32(2), op.i32Shl, op.i32Add, op.tee(address));
  f.emit(op.i32Load(0), op.i32(2), op.i32Shl, op.set(p));
  f.emit(op.get(address), op.i32Load(4), op.i32(2), op.i32Shl, op.set(end));
  for (const a of acc) f.emit(op.v128Zero, op.set(a));
  f.emit(op.block, op.loop); // for p < end
  f.emit(op.get(p), op.get(end), op.i32GeU, op.brIf(1));
  f.emit(op.get(values), op.get(p), op.i32Add, op.v128Load32Splat(0), op.set(weight));
  f.emit(op.get(offsets), op.get(p), op.i32Add, op.i32Load(0), op.get(x), op.i32Add, op.set(address));
  acc.forEach((a, k) => f.emit(op.get(a), op.get(weight), op.get(address), op.v128Load(16 * k), op.f32x4Mul, op.f32x4Add, op.set(a)));
  f.emit(op.get(p), op.i32(4), op.i32Add, op.set(p), op.br(0));
  f.emit(op.end, op.end);
  f.emit(op.get(y), op.get(row), op.i32(6), op.i32Shl, op.i32Add, op.set(address));
  acc.forEach((a, k) => f.emit(op.get(address), op.get(a), op.v128Store(16 * k)));
  f.emit(op.get(row), op.i32(1), op.i32Add, op.set(row), op.br(0));
  f.emit(op.end, op.end);
  return f;
}

function spmv(): FunctionBuilder {
  const f = new FunctionBuilder('spmv', 6);
  const [nRows, indptr, offsets, values, x, y] = [0, 1, 2, 3, 4, 5];
  const row = f.local(I32), p = f.local(I32), end = f.local(I32), pairEnd = f.local(I32), address = f.local(I32);
  const acc0 = f.local(F32), acc1 = f.local(F32);
  /** acc += values[p + k] · x[offsets[p + k]] (k in bytes: 0 or 4). */
  const multiplyAdd = (acc: number, k: number): void => {
    f.emit(op.get(acc), op.get(values), op.get(p), op.i32Add, op.f32Load(k));
    f.emit(op.get(x), op.get(offsets), op.get(p), op.i32Add, op.i32Load(k), op.i32Add, op.f32Load(0));
    f.emit(op.f32Mul, op.f32Add, op.set(acc));
  };
  f.emit(op.i32(0), op.set(row));
  f.emit(op.block, op.loop);
  f.emit(op.get(row), op.get(nRows), op.i32GeU, op.brIf(1));
  f.emit(op.get(indptr), op.get(row), op.i32(2), op.i32Shl, op.i32Add, op.tee(address));
  f.emit(op.i32Load(0), op.i32(2), op.i32Shl, op.set(p));
  f.emit(op.get(address), op.i32Load(4), op.i32(2), op.i32Shl, op.set(end));
  f.emit(op.f32zero, op.set(acc0), op.f32zero, op.set(acc1));
  f.emit(op.get(end), op.i32(4), op.i32Sub, op.set(pairEnd));
  f.emit(op.block, op.loop); // two nonzeros per step while p + 4 < end (signed: pairEnd may be −4)
  f.emit(op.get(p), op.get(pairEnd), op.i32GeS, op.brIf(1));
  multiplyAdd(acc0, 0);
  multiplyAdd(acc1, 4);
  f.emit(op.get(p), op.i32(8), op.i32Add, op.set(p), op.br(0));
  f.emit(op.end, op.end);
  f.emit(op.block, op.loop); // the odd last nonzero
  f.emit(op.get(p), op.get(end), op.i32GeU, op.brIf(1));
  multiplyAdd(acc0, 0);
  f.emit(op.get(p), op.i32(4), op.i32Add, op.set(p), op.br(0));
  f.emit(op.end, op.end);
  f.emit(op.get(y), op.get(row), op.i32(2), op.i32Shl, op.i32Add, op.get(acc0), op.get(acc1), op.f32Add, op.f32Store(0));
  f.emit(op.get(row), op.i32(1), op.i32Add, op.set(row), op.br(0));
  f.emit(op.end, op.end);
  return f;
}

function densePanel16(): FunctionBuilder {
  const ROWS = 2;
  const f = new FunctionBuilder('densePanel16', 5);
  const [nRows, nCols, w, x, y] = [0, 1, 2, 3, 4];
  const row = f.local(I32), rowBytes = f.local(I32), wAt = f.local(I32), wEnd = f.local(I32), xAt = f.local(I32), address = f.local(I32);
  const acc: number[][] = [];
  for (let r = 0; r < ROWS; r++) acc.push([f.local(V128), f.local(V128), f.local(V128), f.local(V128)]);
  const xv = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const weight = f.local(V128);
  f.emit(op.get(nCols), op.i32(2), op.i32Shl, op.set(rowBytes));
  f.emit(op.i32(0), op.set(row));
  f.emit(op.block, op.loop); // for row < nRows, ROWS at a time
  f.emit(op.get(row), op.get(nRows), op.i32GeU, op.brIf(1));
  f.emit(op.get(w), op.get(row), op.get(rowBytes), op.i32Mul, op.i32Add, op.tee(wAt), op.get(rowBytes), op.i32Add, op.set(wEnd));
  for (const a of acc.flat()) f.emit(op.v128Zero, op.set(a));
  f.emit(op.get(x), op.set(xAt));
  f.emit(op.block, op.loop); // for each input feature: wAt walks row `row` of W
  f.emit(op.get(wAt), op.get(wEnd), op.i32GeU, op.brIf(1));
  xv.forEach((v, k) => f.emit(op.get(xAt), op.v128Load(16 * k), op.set(v)));
  for (let r = 0; r < ROWS; r++) {
    if (r === 0) f.emit(op.get(wAt), op.v128Load32Splat(0), op.set(weight));
    else f.emit(op.get(wAt), op.get(rowBytes), op.i32(r), op.i32Mul, op.i32Add, op.v128Load32Splat(0), op.set(weight));
    acc[r]!.forEach((a, k) => f.emit(op.get(a), op.get(weight), op.get(xv[k]!), op.f32x4Mul, op.f32x4Add, op.set(a)));
  }
  f.emit(op.get(wAt), op.i32(4), op.i32Add, op.set(wAt));
  f.emit(op.get(xAt), op.i32(64), op.i32Add, op.set(xAt), op.br(0));
  f.emit(op.end, op.end);
  f.emit(op.get(y), op.get(row), op.i32(6), op.i32Shl, op.i32Add, op.set(address));
  acc.forEach((rowAcc, r) => rowAcc.forEach((a, k) => f.emit(op.get(address), op.get(a), op.v128Store(64 * r + 16 * k))));
  f.emit(op.get(row), op.i32(ROWS), op.i32Add, op.set(row), op.br(0));
  f.emit(op.end, op.end);
  return f;
}

function denseMatvec(): FunctionBuilder {
  const f = new FunctionBuilder('denseMatvec', 5);
  const [nRows, nCols, w, x, y] = [0, 1, 2, 3, 4];
  const row = f.local(I32), rowBytes = f.local(I32), k = f.local(I32), wRow = f.local(I32), sum = f.local(F32);
  const acc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const xv = f.local(V128);
  f.emit(op.get(nCols), op.i32(2), op.i32Shl, op.set(rowBytes));
  f.emit(op.i32(0), op.set(row));
  f.emit(op.block, op.loop); // for row < nRows, 4 at a time
  f.emit(op.get(row), op.get(nRows), op.i32GeU, op.brIf(1));
  f.emit(op.get(w), op.get(row), op.get(rowBytes), op.i32Mul, op.i32Add, op.set(wRow));
  for (const a of acc) f.emit(op.v128Zero, op.set(a));
  f.emit(op.i32(0), op.set(k));
  f.emit(op.block, op.loop); // for k < rowBytes, 4 features (16 bytes) at a time
  f.emit(op.get(k), op.get(rowBytes), op.i32GeU, op.brIf(1));
  f.emit(op.get(x), op.get(k), op.i32Add, op.v128Load(0), op.set(xv));
  acc.forEach((a, r) => {
    f.emit(op.get(a), op.get(wRow), op.get(k), op.i32Add);
    if (r > 0) f.emit(op.get(rowBytes), op.i32(r), op.i32Mul, op.i32Add);
    f.emit(op.v128Load(0), op.get(xv), op.f32x4Mul, op.f32x4Add, op.set(a));
  });
  f.emit(op.get(k), op.i32(16), op.i32Add, op.set(k), op.br(0));
  f.emit(op.end, op.end);
  acc.forEach((a, r) => {
    f.emit(op.get(a), op.f32x4ExtractLane(0), op.get(a), op.f32x4ExtractLane(1), op.f32Add);
    f.emit(op.get(a), op.f32x4ExtractLane(2), op.get(a), op.f32x4ExtractLane(3), op.f32Add, op.f32Add, op.set(sum));
    f.emit(op.get(y), op.get(row), op.i32(r), op.i32Add, op.i32(2), op.i32Shl, op.i32Add, op.get(sum), op.f32Store(0));
  });
  f.emit(op.get(row), op.i32(4), op.i32Add, op.set(row), op.br(0));
  f.emit(op.end, op.end);
  return f;
}

/**
 * Layout changes between row-major samples and 16-sample panels, for batches that are multiples of 16:
 *   rowsToPanels16(nPanels, nFeatures, rows, panels): panels[p][j][t] = rows[16p + t][j]
 *   panelsToRows16(nPanels, nFeatures, panels, rows): the inverse.
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
  f.emit(op.block, op.loop); // for each panel: 16 rows of the row-major side
  f.emit(op.get(rowsAt), op.get(rowsEnd), op.i32GeU, op.brIf(1));
  f.emit(op.get(rowsAt), op.set(featureAt), op.get(rowsAt), op.get(rowBytes), op.i32Add, op.set(featureEnd));
  f.emit(op.block, op.loop); // for each feature: its 16 samples
  f.emit(op.get(featureAt), op.get(featureEnd), op.i32GeU, op.brIf(1));
  f.emit(op.get(featureAt), op.set(at));
  for (let t = 0; t < 16; t++) {
    if (toPanels) f.emit(op.get(panelAt), op.get(at), op.f32Load(0), op.f32Store(4 * t));
    else f.emit(op.get(at), op.get(panelAt), op.f32Load(4 * t), op.f32Store(0));
    if (t < 15) f.emit(op.get(at), op.get(rowBytes), op.i32Add, op.set(at));
  }
  f.emit(op.get(panelAt), op.i32(64), op.i32Add, op.set(panelAt));
  f.emit(op.get(featureAt), op.i32(4), op.i32Add, op.set(featureAt), op.br(0));
  f.emit(op.end, op.end);
  f.emit(op.get(rowsAt), op.get(rowBytes), op.i32(4), op.i32Shl, op.i32Add, op.set(rowsAt), op.br(0));
  f.emit(op.end, op.end);
  return f;
}

/*
 * The slice of the WebAssembly JavaScript API used here. The project compiles without the DOM library, and
 * @types/node does not declare these globals, so they are typed by hand (Node and browsers both have them).
 */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface WasmSimdKernels {
  memory: WasmMemory;
  /** Bump allocator over the memory: a 64-byte-aligned byte address for `bytes` bytes (grows the memory). */
  alloc(bytes: number): number;
  /** Float32 / Int32 views of the whole memory (re-read after `alloc`, which may replace the buffer). */
  f32(): Float32Array;
  i32(): Int32Array;
  spmmPanel16(nRows: number, indptr: number, offsets: number, values: number, x: number, y: number): void;
  spmv(nRows: number, indptr: number, offsets: number, values: number, x: number, y: number): void;
  /** nRows even. */
  densePanel16(nRows: number, nCols: number, w: number, x: number, y: number): void;
  /** nRows and nCols multiples of 4. */
  denseMatvec(nRows: number, nCols: number, w: number, x: number, y: number): void;
  rowsToPanels16(nPanels: number, nFeatures: number, rows: number, panels: number): void;
  panelsToRows16(nPanels: number, nFeatures: number, panels: number, rows: number): void;
}

/** Assembles and instantiates the kernels; throws when this JavaScript engine has no WebAssembly SIMD. */
export function instantiateKernels(): WasmSimdKernels {
  const bytes = assembleModule([spmmPanel16(), spmv(), densePanel16(), denseMatvec(), transpose16('rowsToPanels16'), transpose16('panelsToRows16')], 1);
  const memory = new wasm.Memory({ initial: 1 });
  const exports = new wasm.Instance(new wasm.Module(bytes), { env: { memory } }).exports as Record<string, (...args: number[]) => void>;
  let top = 64; // address 0 stays unused, so a forgotten pointer shows up as wrong output
  return {
    memory,
    alloc(bytes: number): number {
      const start = top;
      top += Math.ceil(Math.max(bytes, 1) / 64) * 64;
      const missing = top - memory.buffer.byteLength;
      if (missing > 0) memory.grow(Math.ceil(missing / 65536));
      return start;
    },
    f32: () => new Float32Array(memory.buffer),
    i32: () => new Int32Array(memory.buffer),
    spmmPanel16: exports.spmmPanel16!,
    spmv: exports.spmv!,
    densePanel16: exports.densePanel16!,
    denseMatvec: exports.denseMatvec!,
    rowsToPanels16: exports.rowsToPanels16!,
    panelsToRows16: exports.panelsToRows16!,
  };
}

/** n rounded up to a multiple of 4. */
export function padTo4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** A CSR matrix copied into the kernels' memory, with column indices pre-scaled for both sparse kernels. */
export interface WasmCsr {
  nRows: number;
  indptr: number;
  /** col·64: byte offset of a feature's 16 samples in a panel (spmmPanel16). */
  panelOffsets: number;
  /** col·4: byte offset of a feature in a vector (spmv). */
  vectorOffsets: number;
  values: number;
}

export function uploadCsr(kernels: WasmSimdKernels, csr: { nRows: number; indptr: Int32Array; indices: Int32Array; values: Float32Array }): WasmCsr {
  const nnz = csr.values.length;
  const indptr = kernels.alloc(4 * (csr.nRows + 1));
  const panelOffsets = kernels.alloc(4 * nnz);
  const vectorOffsets = kernels.alloc(4 * nnz);
  const values = kernels.alloc(4 * nnz);
  const i32 = kernels.i32();
  i32.set(csr.indptr, indptr / 4);
  for (let p = 0; p < nnz; p++) {
    i32[panelOffsets / 4 + p] = csr.indices[p]! * 64;
    i32[vectorOffsets / 4 + p] = csr.indices[p]! * 4;
  }
  kernels.f32().set(csr.values, values / 4);
  return { nRows: csr.nRows, indptr, panelOffsets, vectorOffsets, values };
}

/** A dense row-major [rows × cols] weight copied into memory, zero-padded to [padTo4(rows) × padTo4(cols)]. */
export interface WasmDense {
  rows: number;
  cols: number;
  address: number;
}

export function uploadDense(kernels: WasmSimdKernels, w: ArrayLike<number>, rows: number, cols: number): WasmDense {
  const padded = { rows: padTo4(rows), cols: padTo4(cols) };
  const address = kernels.alloc(4 * padded.rows * padded.cols);
  const f32 = kernels.f32();
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) f32[address / 4 + i * padded.cols + j] = w[i * cols + j]!;
  return { ...padded, address };
}
