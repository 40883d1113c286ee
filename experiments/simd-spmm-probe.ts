/**
 * A/B probe of 16-sample-panel SpMM kernel ideas on the WebAssembly SIMD backend (300×784, batch 64 = 4
 * panels), all in one process, interleaved rounds timed by CPU time, min and median; not part of the test run.
 *
 *   npx tsx experiments/simd-spmm-probe.ts [rounds] [batch]
 *
 * Variants of spmmPanel16: nonzeros per loop step (p1s1, p1s2), two panels (32 samples) per nonzero (p2s*),
 * products of two or four nonzeros summed before the accumulator (tree2, tree4: one add per step in each
 * accumulator's chain), [offset, value] pairs with rows sorted by length and padded to even (pairs*), 24
 * samples per nonzero (s24: a panel and half of the next), and three runs of p1s1 on altered column indices
 * to bound what memory costs (L1: columns < 200; Same: every column 0; Seq16: columns 0–15). Result (90 %,
 * busy machine): every real variant within ±5 % of spmmPanel16 (104–112 µs against 680 µs dense, 6.1–6.5×),
 * the two-panel and tree4 ones slower (V8 schedules all the loads of a step first and spills beyond 15 vector
 * registers: one accumulator went to the stack), and even a single cache line for every nonzero (Same) only
 * reached 94 µs (7.2×): per 4 multiply-adds the kernel needs a load, a multiply and an add, where the dense
 * kernel shares each load between two rows (V8 folds no SIMD load into the multiply).
 */
import { assembleModule, FunctionBuilder, I32, op, V128 } from '../src/wasm/assembler.ts';
import { element, increment, whileLoop } from '../src/wasm/emit.ts';
import { wasmApi } from '../src/wasm/runtime.ts';
import { csrFromDense } from '../src/sparse/index.ts';
import { placeCsr, WasmArena } from '../src/sparse/backends/wasm-simd/arena.ts';
import { instantiateKernels } from '../src/sparse/backends/wasm-simd/kernels.ts';
import { Rng } from '../src/tensor/index.ts';
import { cpuMicros } from './cpu-timer.ts';
import { randomArray, randomSparseWeight } from '../bench/sparse-sections.ts';

function startAtBias(f: FunctionBuilder, bias: number, row: number, accumulators: number[]): void {
  const first = accumulators[0]!;
  element(f, bias, row);
  f.emit(op.v128Load32Splat(0), op.set(first));
  for (const a of accumulators.slice(1)) f.emit(op.get(first), op.set(a));
}

/**
 * `panels` panels of 16 at once (x panels `panelBytes` apart, likewise y), `perStep` nonzeros per loop step,
 * each nonzero into its own accumulator set when `split`.
 */
function spmm(name: string, panels: 1 | 2, perStep: 1 | 2, split: boolean): FunctionBuilder {
  const f = new FunctionBuilder(name, 10);
  const [nRows, indptr, offsets, values, bias, relu, x, y, xPanelBytes, yPanelBytes] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const row = f.local(I32), p = f.local(I32), end = f.local(I32), stepEnd = f.local(I32), address = f.local(I32), address2 = f.local(I32);
  const vectors = 4 * panels;
  const sets = split && perStep === 2 ? 2 : 1;
  const acc = Array.from({ length: sets }, () => Array.from({ length: vectors }, () => f.local(V128)));
  const weight = f.local(V128), weight2 = f.local(V128);
  const vectorOffset = (k: number): number => (k < 4 ? 16 * k : 16 * (k - 4));
  const loadX = (addr: number, k: number): void => {
    f.emit(op.get(addr));
    if (k >= 4) f.emit(op.get(xPanelBytes), op.i32Add);
    f.emit(op.v128Load(vectorOffset(k)));
  };
  f.emit(op.i32(0), op.set(row));
  whileLoop(f, () => f.emit(op.get(row), op.get(nRows), op.i32GeU), () => {
    element(f, indptr, row);
    f.emit(op.tee(address), op.i32Load(0), op.i32(2), op.i32Shl, op.set(p));
    f.emit(op.get(address), op.i32Load(4), op.i32(2), op.i32Shl, op.set(end));
    startAtBias(f, bias, row, acc[0]!);
    if (sets === 2) for (const a of acc[1]!) f.emit(op.v128Zero, op.set(a));
    if (perStep === 2) {
      f.emit(op.get(end), op.i32(4), op.i32Sub, op.set(stepEnd));
      whileLoop(f, () => f.emit(op.get(p), op.get(stepEnd), op.i32GeS), () => {
        f.emit(op.get(values), op.get(p), op.i32Add, op.tee(address), op.v128Load32Splat(0), op.set(weight));
        f.emit(op.get(address), op.v128Load32Splat(4), op.set(weight2));
        f.emit(op.get(offsets), op.get(p), op.i32Add, op.tee(address2), op.i32Load(0), op.get(x), op.i32Add, op.set(address));
        f.emit(op.get(address2), op.i32Load(4), op.get(x), op.i32Add, op.set(address2));
        for (let k = 0; k < vectors; k++) {
          const a = acc[0]![k]!;
          const b = acc[sets - 1]![k]!;
          if (sets === 2) {
            f.emit(op.get(a), op.get(weight)); loadX(address, k); f.emit(op.f32x4Mul, op.f32x4Add, op.set(a));
            f.emit(op.get(b), op.get(weight2)); loadX(address2, k); f.emit(op.f32x4Mul, op.f32x4Add, op.set(b));
          } else {
            f.emit(op.get(a), op.get(weight)); loadX(address, k); f.emit(op.f32x4Mul, op.f32x4Add);
            f.emit(op.get(weight2)); loadX(address2, k); f.emit(op.f32x4Mul, op.f32x4Add, op.set(a));
          }
        }
        increment(f, p, 8);
      });
    }
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      f.emit(op.get(values), op.get(p), op.i32Add, op.v128Load32Splat(0), op.set(weight));
      f.emit(op.get(offsets), op.get(p), op.i32Add, op.i32Load(0), op.get(x), op.i32Add, op.set(address));
      for (let k = 0; k < vectors; k++) {
        const a = acc[0]![k]!;
        f.emit(op.get(a), op.get(weight)); loadX(address, k); f.emit(op.f32x4Mul, op.f32x4Add, op.set(a));
      }
      increment(f, p, 4);
    });
    if (sets === 2) for (let k = 0; k < vectors; k++) f.emit(op.get(acc[0]![k]!), op.get(acc[1]![k]!), op.f32x4Add, op.set(acc[0]![k]!));
    f.emit(op.get(relu), op.if);
    for (const a of acc[0]!) f.emit(op.get(a), op.v128Zero, op.f32x4Max, op.set(a));
    f.emit(op.end);
    f.emit(op.get(y), op.get(row), op.i32(6), op.i32Shl, op.i32Add, op.set(address));
    for (let k = 0; k < vectors; k++) {
      f.emit(op.get(address));
      if (k >= 4) f.emit(op.get(yPanelBytes), op.i32Add);
      f.emit(op.get(acc[0]![k]!), op.v128Store(vectorOffset(k)));
    }
    increment(f, row, 1);
  });
  return f;
}


/** `perStep` nonzeros per step whose products are summed first (a tree), so each accumulator's chain has one add per step. */
function spmmTree(name: string, perStep: 2 | 4): FunctionBuilder {
  const f = new FunctionBuilder(name, 10);
  const [nRows, indptr, offsets, values, bias, relu, x, y] = [0, 1, 2, 3, 4, 5, 6, 7];
  const row = f.local(I32), p = f.local(I32), end = f.local(I32), stepEnd = f.local(I32), address = f.local(I32);
  const acc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const weights = Array.from({ length: perStep }, () => f.local(V128));
  const addresses = Array.from({ length: perStep }, () => f.local(I32));
  f.emit(op.i32(0), op.set(row));
  whileLoop(f, () => f.emit(op.get(row), op.get(nRows), op.i32GeU), () => {
    element(f, indptr, row);
    f.emit(op.tee(address), op.i32Load(0), op.i32(2), op.i32Shl, op.set(p));
    f.emit(op.get(address), op.i32Load(4), op.i32(2), op.i32Shl, op.set(end));
    startAtBias(f, bias, row, acc);
    f.emit(op.get(end), op.i32(4 * (perStep - 1)), op.i32Sub, op.set(stepEnd));
    whileLoop(f, () => f.emit(op.get(p), op.get(stepEnd), op.i32GeS), () => {
      f.emit(op.get(values), op.get(p), op.i32Add, op.set(address));
      weights.forEach((w, i) => f.emit(op.get(address), op.v128Load32Splat(4 * i), op.set(w)));
      f.emit(op.get(offsets), op.get(p), op.i32Add, op.set(address));
      addresses.forEach((a, i) => f.emit(op.get(address), op.i32Load(4 * i), op.get(x), op.i32Add, op.set(a)));
      acc.forEach((a, k) => {
        f.emit(op.get(a));
        const product = (i: number): void => { f.emit(op.get(weights[i]!), op.get(addresses[i]!), op.v128Load(16 * k), op.f32x4Mul); };
        if (perStep === 2) { product(0); product(1); f.emit(op.f32x4Add); }
        else { product(0); product(1); f.emit(op.f32x4Add); product(2); product(3); f.emit(op.f32x4Add, op.f32x4Add); }
        f.emit(op.f32x4Add, op.set(a));
      });
      increment(f, p, 4 * perStep);
    });
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      f.emit(op.get(values), op.get(p), op.i32Add, op.v128Load32Splat(0), op.set(weights[0]!));
      f.emit(op.get(offsets), op.get(p), op.i32Add, op.i32Load(0), op.get(x), op.i32Add, op.set(address));
      acc.forEach((a, k) => f.emit(op.get(a), op.get(weights[0]!), op.get(address), op.v128Load(16 * k), op.f32x4Mul, op.f32x4Add, op.set(a)));
      increment(f, p, 4);
    });
    f.emit(op.get(relu), op.if);
    for (const a of acc) f.emit(op.get(a), op.v128Zero, op.f32x4Max, op.set(a));
    f.emit(op.end);
    f.emit(op.get(y), op.get(row), op.i32(6), op.i32Shl, op.i32Add, op.set(address));
    acc.forEach((a, k) => f.emit(op.get(address), op.get(a), op.v128Store(16 * k)));
    increment(f, row, 1);
  });
  return f;
}

/** Rows (optionally sorted by length) whose nonzeros are [offset, value] pairs, padded to an even count. */
function pairsFromCsr(csr: { nRows: number; indptr: Int32Array; indices: Int32Array; values: Float32Array }, sort: boolean): { ptr: Int32Array; rows: Int32Array; pairs: ArrayBuffer } {
  const n = csr.nRows;
  const len = (r: number): number => csr.indptr[r + 1]! - csr.indptr[r]!;
  const order = Array.from({ length: n }, (_, i) => i);
  if (sort) order.sort((a, b) => len(b) - len(a) || a - b);
  const ptr = new Int32Array(n + 1);
  order.forEach((r, i) => { ptr[i + 1] = ptr[i]! + 8 * (len(r) + (len(r) % 2)); });
  const pairs = new ArrayBuffer(ptr[n]!);
  const i32 = new Int32Array(pairs), f32 = new Float32Array(pairs);
  order.forEach((r, i) => {
    let at = ptr[i]! / 4;
    for (let q = csr.indptr[r]!; q < csr.indptr[r + 1]!; q++) { i32[at] = csr.indices[q]! * 64; f32[at + 1] = csr.values[q]!; at += 2; }
    if (len(r) % 2 === 1) { i32[at] = csr.indices[csr.indptr[r + 1]! - 1]! * 64; f32[at + 1] = 0; }
  });
  return { ptr, rows: Int32Array.from(order), pairs };
}

function spmmPairs(name: string, tree: boolean): FunctionBuilder {
  const f = new FunctionBuilder(name, 10);
  const [nRows, ptr, rows, pairs, bias, relu, x, y] = [0, 1, 2, 3, 4, 5, 6, 7];
  const i = f.local(I32), r = f.local(I32), p = f.local(I32), end = f.local(I32), a1 = f.local(I32), a2 = f.local(I32), address = f.local(I32);
  const acc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const w1 = f.local(V128), w2 = f.local(V128);
  f.emit(op.i32(0), op.set(i));
  whileLoop(f, () => f.emit(op.get(i), op.get(nRows), op.i32GeU), () => {
    element(f, ptr, i);
    f.emit(op.tee(address), op.i32Load(0), op.get(pairs), op.i32Add, op.set(p));
    f.emit(op.get(address), op.i32Load(4), op.get(pairs), op.i32Add, op.set(end));
    element(f, rows, i);
    f.emit(op.i32Load(0), op.set(r));
    startAtBias(f, bias, r, acc);
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      f.emit(op.get(p), op.v128Load32Splat(4), op.set(w1), op.get(p), op.v128Load32Splat(12), op.set(w2));
      f.emit(op.get(p), op.i32Load(0), op.get(x), op.i32Add, op.set(a1), op.get(p), op.i32Load(8), op.get(x), op.i32Add, op.set(a2));
      acc.forEach((a, k) => {
        if (tree) {
          f.emit(op.get(a), op.get(w1), op.get(a1), op.v128Load(16 * k), op.f32x4Mul, op.get(w2), op.get(a2), op.v128Load(16 * k), op.f32x4Mul, op.f32x4Add, op.f32x4Add, op.set(a));
        } else {
          f.emit(op.get(a), op.get(w1), op.get(a1), op.v128Load(16 * k), op.f32x4Mul, op.f32x4Add, op.get(w2), op.get(a2), op.v128Load(16 * k), op.f32x4Mul, op.f32x4Add, op.set(a));
        }
      });
      increment(f, p, 16);
    });
    f.emit(op.get(relu), op.if);
    for (const a of acc) f.emit(op.get(a), op.v128Zero, op.f32x4Max, op.set(a));
    f.emit(op.end);
    f.emit(op.get(y), op.get(r), op.i32(6), op.i32Shl, op.i32Add, op.set(address));
    acc.forEach((a, k) => f.emit(op.get(address), op.get(a), op.v128Store(16 * k)));
    increment(f, i, 1);
  });
  return f;
}

/** 24 samples per nonzero: panel A (4 vectors) and the half of panel B that starts `bDelta` bytes after A (2 vectors). */
function spmm24(name: string): FunctionBuilder {
  const f = new FunctionBuilder(name, 10);
  const [nRows, indptr, offsets, values, bias, relu, x, y, xDelta, yDelta] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const row = f.local(I32), p = f.local(I32), end = f.local(I32), address = f.local(I32), b = f.local(I32);
  const acc = Array.from({ length: 6 }, () => f.local(V128));
  const weight = f.local(V128);
  f.emit(op.i32(0), op.set(row));
  whileLoop(f, () => f.emit(op.get(row), op.get(nRows), op.i32GeU), () => {
    element(f, indptr, row);
    f.emit(op.tee(address), op.i32Load(0), op.i32(2), op.i32Shl, op.set(p));
    f.emit(op.get(address), op.i32Load(4), op.i32(2), op.i32Shl, op.set(end));
    startAtBias(f, bias, row, acc);
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      f.emit(op.get(values), op.get(p), op.i32Add, op.v128Load32Splat(0), op.set(weight));
      f.emit(op.get(offsets), op.get(p), op.i32Add, op.i32Load(0), op.get(x), op.i32Add, op.tee(address), op.get(xDelta), op.i32Add, op.set(b));
      acc.forEach((a, k) => f.emit(op.get(a), op.get(weight), op.get(k < 4 ? address : b), op.v128Load(16 * (k % 4)), op.f32x4Mul, op.f32x4Add, op.set(a)));
      increment(f, p, 4);
    });
    f.emit(op.get(y), op.get(row), op.i32(6), op.i32Shl, op.i32Add, op.tee(address), op.get(yDelta), op.i32Add, op.set(b));
    acc.forEach((a, k) => f.emit(op.get(k < 4 ? address : b), op.get(a), op.v128Store(16 * (k % 4))));
    increment(f, row, 1);
  });
  return f;
}

type Spmm = (nRows: number, indptr: number, offsets: number, values: number, bias: number, relu: number, x: number, y: number, xb: number, yb: number) => void;
const variants: { name: string; panels: 1 | 2; perStep: 1 | 2; split: boolean }[] = [
  { name: 'p1s1', panels: 1, perStep: 1, split: false },
];
const treeVariants: { name: string; perStep: 2 | 4 }[] = [{ name: 'tree2', perStep: 2 }];
const api = wasmApi()!;
const memory = new api.Memory({ initial: 1 });
const exports = new api.Instance(new api.Module(assembleModule([...variants.map((v) => spmm(v.name, v.panels, v.perStep, v.split)), ...treeVariants.map((v) => spmmTree(v.name, v.perStep)), spmmPairs('pairsTree', true), spmmPairs('pairsChain', false), spmm24('s24')], 1)), { env: { memory } }).exports as Record<string, Spmm>;
const arena = new WasmArena(memory);
const base = instantiateKernels()!;
const baseArena = new WasmArena(base.memory);
const k = base.kernels;

const rng = new Rng(12);
const [nRows, nCols, batch] = [300, 784, Number(process.argv[3] ?? 64)];
const nPanels = batch / 16;
const rounds = Number(process.argv[2] ?? 9);
const timeUs = (fn: () => void): number => cpuMicros(fn, 8);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const xRows = randomArray(batch * nCols, rng);

for (const sparsity of [0.9, 0.98]) {
  const w = randomSparseWeight(nRows, nCols, sparsity, rng);
  const csr = csrFromDense(w, nRows, nCols);
  const setup = (ar: WasmArena): { x: number; y: number; yr: number; bias: number } => {
    const xr = ar.allocF32(xRows);
    const x = ar.alloc(4 * batch * nCols);
    k.rowsToPanels16; // (layout done below on the base instance only)
    return { x: xr === 0 ? 0 : x, y: ar.alloc(4 * batch * nRows), yr: ar.alloc(4 * batch * nRows), bias: ar.alloc(4 * nRows) };
  };
  const b = setup(baseArena);
  k.rowsToPanels16(nPanels, nCols, baseArena.allocF32(xRows), b.x);
  const panelData = baseArena.f32().slice(b.x / 4, b.x / 4 + batch * nCols);
  const e = setup(arena);
  arena.f32().set(panelData, e.x / 4);
  const placedB = placeCsr(baseArena, csr);
  const placedE = placeCsr(arena, csr);
  const placedL1 = placeCsr(arena, { ...csr, indices: csr.indices.map((c) => c % 200) });
  const placedSame = placeCsr(arena, { ...csr, indices: csr.indices.map(() => 0) });
  const placedSeq = placeCsr(arena, { ...csr, indices: csr.indices.map((_, q) => q % 16) });
  const wB = baseArena.allocF32(w);
  const probes: Record<string, () => void> = {
    dense: () => { for (let q = 0; q < nPanels; q++) k.densePanel16(nRows, nCols, wB, b.bias, 0, b.x + q * 64 * nCols, b.y + q * 64 * nRows); },
    spmmPanel16: () => { for (let q = 0; q < nPanels; q++) k.spmmPanel16(nRows, placedB.indptr, placedB.panelOffsets, placedB.values, b.bias, 0, b.x + q * 64 * nCols, b.y + q * 64 * nRows); },
  };
  probes.dense!();
  k.panelsToRows16(nPanels, nRows, b.y, b.yr);
  const ref = baseArena.f32().slice(b.yr / 4, b.yr / 4 + batch * nRows);
  for (const v of [...variants, ...treeVariants.map((t) => ({ name: t.name, panels: 1 }))]) {
    const fn = exports[v.name]!;
    probes[v.name] = () => {
      for (let q = 0; q < nPanels; q += v.panels) fn(nRows, placedE.indptr, placedE.panelOffsets, placedE.values, e.bias, 0, e.x + q * 64 * nCols, e.y + q * 64 * nRows, 64 * nCols, 64 * nRows);
    };
    probes[v.name]!();
    const got = arena.f32().slice(e.y / 4, e.y / 4 + batch * nRows);
    const rows = new Float32Array(batch * nRows);
    for (let q = 0; q < nPanels; q++) for (let i = 0; i < nRows; i++) for (let t = 0; t < 16; t++) rows[(16 * q + t) * nRows + i] = got[q * 16 * nRows + i * 16 + t]!;
    for (let i = 0; i < rows.length; i++) if (!(Math.abs(rows[i]! - ref[i]!) < 1e-3)) throw new Error(`${v.name} ${i}: ${rows[i]} vs ${ref[i]}`);
  }
  probes.p1s1L1 = () => { for (let q = 0; q < nPanels; q++) exports.p1s1!(nRows, placedL1.indptr, placedL1.panelOffsets, placedL1.values, e.bias, 0, e.x + q * 64 * nCols, e.y + q * 64 * nRows, 0, 0); };
  for (const [label, sort, kernel, cols] of [['pairsTreeSorted', true, 'pairsTree', 0], ['pairsTree', false, 'pairsTree', 0], ['pairsChainSorted', true, 'pairsChain', 0], ['pairsTreeL1', true, 'pairsTree', 200], ['pairsTreeSame', true, 'pairsTree', 1]] as const) {
    const pr = pairsFromCsr(cols === 0 ? csr : { ...csr, indices: csr.indices.map((c) => c % cols) }, sort);
    const [pp, pr2, ppairs] = [arena.allocI32(pr.ptr), arena.allocI32(pr.rows), arena.allocI32(new Int32Array(pr.pairs))];
    const fn = exports[kernel]!;
    probes[label] = () => { for (let q = 0; q < nPanels; q++) fn(nRows, pp, pr2, ppairs, e.bias, 0, e.x + q * 64 * nCols, e.y + q * 64 * nRows, 0, 0); };
    arena.f32().fill(NaN, e.y / 4, e.y / 4 + batch * nRows);
    probes[label]!();
    const got = arena.f32().slice(e.y / 4, e.y / 4 + batch * nRows);
    if (cols === 0) for (let q = 0; q < nPanels; q++) for (let i = 0; i < nRows; i++) for (let t = 0; t < 16; t++) {
      const v = got[q * 16 * nRows + i * 16 + t]!, want = ref[(16 * q + t) * nRows + i]!;
      if (!(Math.abs(v - want) < 1e-3)) throw new Error(`${label}: ${v} vs ${want}`);
    }
  }
  // 64 samples = (panel 0 + half of 1) + (panel 2 + other half of 1) + panel 3 alone
  probes.s24 = () => {
    const P = 64 * nCols, Q = 64 * nRows;
    exports.s24!(nRows, placedE.indptr, placedE.panelOffsets, placedE.values, e.bias, 0, e.x, e.y, P, Q);
    exports.s24!(nRows, placedE.indptr, placedE.panelOffsets, placedE.values, e.bias, 0, e.x + 2 * P, e.y + 2 * Q, -P + 32, -Q + 32);
    exports.p1s1!(nRows, placedE.indptr, placedE.panelOffsets, placedE.values, e.bias, 0, e.x + 3 * P, e.y + 3 * Q, 0, 0);
  };
  probes.s24();
  {
    const got = arena.f32().slice(e.y / 4, e.y / 4 + batch * nRows);
    for (let q = 0; q < nPanels; q++) for (let i = 0; i < nRows; i++) for (let t = 0; t < 16; t++) {
      const v = got[q * 16 * nRows + i * 16 + t]!, want = ref[(16 * q + t) * nRows + i]!;
      if (!(Math.abs(v - want) < 1e-3)) throw new Error(`s24: ${v} vs ${want}`);
    }
  }
  probes.p1s1Same = () => { for (let q = 0; q < nPanels; q++) exports.p1s1!(nRows, placedSame.indptr, placedSame.panelOffsets, placedSame.values, e.bias, 0, e.x + q * 64 * nCols, e.y + q * 64 * nRows, 0, 0); };
  probes.p1s1Seq16 = () => { for (let q = 0; q < nPanels; q++) exports.p1s1!(nRows, placedSeq.indptr, placedSeq.panelOffsets, placedSeq.values, e.bias, 0, e.x + q * 64 * nCols, e.y + q * 64 * nRows, 0, 0); };
  const times: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) for (const [name, fn] of Object.entries(probes)) (times[name] ??= []).push(timeUs(fn));
  console.log(`sparsity ${sparsity}, batch ${batch}: nnz ${csr.nnz}`);
  for (const [name, ts] of Object.entries(times)) {
    const ratios = ts.map((t, i) => times.dense![i]! / t);
    console.log(`  ${name.padEnd(12)} min ${Math.min(...ts).toFixed(1).padStart(7)} µs  dense(min)/this(min) ${(Math.min(...times.dense!) / Math.min(...ts)).toFixed(2)}× | med ${median(ts).toFixed(1)} µs, ratio med ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`);
  }
}
