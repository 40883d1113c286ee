/**
 * A/B probe of batch-1 SpMV kernel ideas on the WebAssembly SIMD backend (300×784, random masks), all in one
 * process, interleaved rounds timed by CPU time (experiments/cpu-timer.ts), min and median. The record of how
 * sellMatvec (src/sparse/backends/wasm-simd/kernels-sell.ts) was chosen; not part of the test run.
 *
 *   npx tsx experiments/simd-spmv-probe.ts [rounds]
 *
 * Variants of SELL-4 (sell.ts; here with 32-byte slots): column offsets as i32 ('lane': v128.load32_lane
 * gathers; 'replace': f32.load + f32x4.replace_lane; 'extract': offsets loaded as one v128 and extracted) or
 * as u16 pairs ('pair16': two offsets per 32-bit load), x read in place or from a copy at a fixed address
 * ('W': no address add per gather), 1, 2 or 4 slots per loop step. Results at 90 % (min over 15 rounds, busy
 * machine): spmv 10.6 µs, lane 6.8, pair16 6.2 (×2) / 6.1 (×4), pair16 + window 5.4, dense 17.2. A separate
 * A/B of 24- against 32-byte slots gave 5.8 against 5.8 µs (4 per step), so the kernel packs them in 24.
 */
import { assembleModule, FunctionBuilder, I32, op, V128 } from '../src/wasm/assembler.ts';
import { increment, whileLoop } from '../src/wasm/emit.ts';
import { wasmApi } from '../src/wasm/runtime.ts';
import { csrFromDense } from '../src/sparse/index.ts';
import { placeCsr, WasmArena } from '../src/sparse/backends/wasm-simd/arena.ts';
import { instantiateKernels } from '../src/sparse/backends/wasm-simd/kernels.ts';
import { Rng } from '../src/tensor/index.ts';
import { cpuMicros } from './cpu-timer.ts';
import { randomArray, randomSparseWeight } from '../bench/sparse-sections.ts';

const WINDOW = 64;

interface Sell {
  nSlices: number;
  slicePtr: Int32Array;
  rows: Int32Array;
  slots: ArrayBuffer;
}

/** SELL-4 with rows sorted by length; padding reads the lane's own last column (or `padColumn`) with weight 0. */
function sellFromCsr(csr: { nRows: number; indptr: Int32Array; indices: Int32Array; values: Float32Array }, padColumn: number | null, sort = true, u16 = false): Sell {
  const n = csr.nRows;
  const len = (r: number): number => csr.indptr[r + 1]! - csr.indptr[r]!;
  const perm = Array.from({ length: n }, (_, i) => i);
  if (sort) perm.sort((a, b) => len(b) - len(a) || a - b);
  const nSlices = Math.ceil(n / 4);
  const slicePtr = new Int32Array(nSlices + 1);
  const rows = new Int32Array(4 * nSlices);
  for (let s = 0; s < nSlices; s++) {
    let w = 0;
    for (let t = 0; t < 4; t++) {
      const r = perm[Math.min(4 * s + t, n - 1)]!;
      rows[4 * s + t] = r * 4;
      w = Math.max(w, len(r));
    }
    slicePtr[s + 1] = slicePtr[s]! + w;
  }
  const slots = new ArrayBuffer(32 * slicePtr[nSlices]!);
  const i32 = new Int32Array(slots);
  const f32 = new Float32Array(slots);
  for (let s = 0; s < nSlices; s++) {
    for (let t = 0; t < 4; t++) {
      const r = rows[4 * s + t]! / 4;
      const start = csr.indptr[r]!;
      const l = len(r);
      for (let k = 0; k < slicePtr[s + 1]! - slicePtr[s]!; k++) {
        const slot = slicePtr[s]! + k;
        const col = k < l ? csr.indices[start + k]! : padColumn ?? (l > 0 ? csr.indices[start + l - 1]! : 0);
        if (u16) new Uint16Array(slots)[16 * slot + t] = col * 4;
        else i32[8 * slot + t] = col * 4;
        f32[8 * slot + 4 + t] = k < l ? csr.values[start + k]! : 0;
      }
    }
  }
  return { nSlices, slicePtr, rows, slots };
}

type Gather = 'lane' | 'replace' | 'extract' | 'pair16';

function sell4(name: string, window: boolean, gather: Gather, unroll: 1 | 2 | 4): FunctionBuilder {
  const f = new FunctionBuilder(name, 9);
  const [nSlices, slicePtr, rows, slots, bias, relu, x, y, nCols] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const s = f.local(I32), p = f.local(I32), end = f.local(I32), pairEnd = f.local(I32), address = f.local(I32);
  const r = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const acc = f.local(V128), acc2 = f.local(V128), xv = f.local(V128), xv2 = f.local(V128);
  if (window) {
    // copy x to the window (4 floats at a time, then the rest), and put a zero after it
    f.emit(op.i32(0), op.set(p));
    f.emit(op.get(nCols), op.i32(2), op.i32Shl, op.set(end));
    whileLoop(f, () => f.emit(op.get(p), op.i32(16), op.i32Add, op.get(end), op.i32GtU), () => {
      f.emit(op.get(p), op.get(x), op.get(p), op.i32Add, op.v128Load(0), op.v128Store(WINDOW));
      increment(f, p, 16);
    });
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      f.emit(op.get(p), op.get(x), op.get(p), op.i32Add, op.f32Load(0), op.f32Store(WINDOW));
      increment(f, p, 4);
    });
    f.emit(op.get(end), op.f32zero, op.f32Store(WINDOW));
  }
  const offsets = f.local(V128), pair = f.local(I32);
  /** pushes the byte address of lane `lane`'s x (before the constant WINDOW offset) */
  const columnAddress = (lane: number, at: number): void => {
    if (gather === 'extract') {
      if (lane === 0) f.emit(op.get(p), op.v128Load(at), op.tee(offsets));
      else f.emit(op.get(offsets));
      f.emit(op.i32x4ExtractLane(lane));
    } else if (gather === 'pair16') {
      if (lane % 2 === 0) f.emit(op.get(p), op.i32Load(at + 2 * lane), op.tee(pair), op.i32(0xffff), op.i32And);
      else f.emit(op.get(pair), op.i32(16), op.i32ShrU);
    } else f.emit(op.get(p), op.i32Load(at + 4 * lane));
    if (!window) f.emit(op.get(x), op.i32Add);
  };
  const slot = (into: number, a: number, at: number): void => {
    for (let lane = 0; lane < 4; lane++) {
      if (gather !== 'replace' || lane === 0) {
        columnAddress(lane, at);
        if (lane === 0) f.emit(op.v128Load32Zero(window ? WINDOW : 0), op.set(into));
        else f.emit(op.get(into), op.v128Load32Lane(window ? WINDOW : 0, lane), op.set(into));
      } else {
        f.emit(op.get(into));
        columnAddress(lane, at);
        f.emit(op.f32Load(window ? WINDOW : 0), op.f32x4ReplaceLane(lane), op.set(into));
      }
    }
    f.emit(op.get(a), op.get(p), op.v128Load(at + 16), op.get(into), op.f32x4Mul, op.f32x4Add, op.set(a));
  };
  f.emit(op.i32(0), op.set(s));
  whileLoop(f, () => f.emit(op.get(s), op.get(nSlices), op.i32GeU), () => {
    f.emit(op.get(slicePtr), op.get(s), op.i32(2), op.i32Shl, op.i32Add, op.tee(address));
    f.emit(op.i32Load(0), op.i32(5), op.i32Shl, op.get(slots), op.i32Add, op.set(p));
    f.emit(op.get(address), op.i32Load(4), op.i32(5), op.i32Shl, op.get(slots), op.i32Add, op.set(end));
    f.emit(op.get(rows), op.get(s), op.i32(4), op.i32Shl, op.i32Add, op.set(address));
    r.forEach((ri, t) => f.emit(op.get(address), op.i32Load(4 * t), op.set(ri)));
    r.forEach((ri, t) => {
      f.emit(op.get(bias), op.get(ri), op.i32Add);
      if (t === 0) f.emit(op.v128Load32Zero(0), op.set(acc));
      else f.emit(op.get(acc), op.v128Load32Lane(0, t), op.set(acc));
    });
    f.emit(op.v128Zero, op.set(acc2));
    if (unroll > 1) {
      f.emit(op.get(end), op.i32(32 * (unroll - 1)), op.i32Sub, op.set(pairEnd));
      whileLoop(f, () => f.emit(op.get(p), op.get(pairEnd), op.i32GeU), () => {
        for (let u = 0; u < unroll; u++) slot(u % 2 === 0 ? xv : xv2, u % 2 === 0 ? acc : acc2, 32 * u);
        increment(f, p, 32 * unroll);
      });
    }
    whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
      slot(xv, acc, 0);
      increment(f, p, 32);
    });
    f.emit(op.get(acc), op.get(acc2), op.f32x4Add, op.set(acc));
    f.emit(op.get(relu), op.if, op.get(acc), op.v128Zero, op.f32x4Max, op.set(acc), op.end);
    r.forEach((ri, t) => f.emit(op.get(y), op.get(ri), op.i32Add, op.get(acc), op.v128Store32Lane(0, t)));
    increment(f, s, 1);
  });
  return f;
}

type SellKernel = (nSlices: number, slicePtr: number, rows: number, slots: number, bias: number, relu: number, x: number, y: number, nCols: number) => void;

const variants: { name: string; window: boolean; gather: Gather; unroll: 1 | 2 | 4 }[] = [
  { name: 'sellLane2', window: false, gather: 'lane', unroll: 2 },
  { name: 'sellPair2', window: false, gather: 'pair16', unroll: 2 },
  { name: 'sellPair4', window: false, gather: 'pair16', unroll: 4 },
  { name: 'sellPairW2', window: true, gather: 'pair16', unroll: 2 },
  { name: 'sellPairW4', window: true, gather: 'pair16', unroll: 4 },
];

const api = wasmApi()!;
const bytes = assembleModule(variants.map((v) => sell4(v.name, v.window, v.gather, v.unroll)), 1);
const memory = new api.Memory({ initial: 1 });
const exports = new api.Instance(new api.Module(bytes), { env: { memory } }).exports as Record<string, SellKernel>;
const arena = new WasmArena(memory);
const window = arena.alloc(4 * 1100);
if (window !== WINDOW) throw new Error('window not at 64');

const base = instantiateKernels()!;
const baseArena = new WasmArena(base.memory);
const k = base.kernels;

const rng = new Rng(11);
const [nRows, nCols] = [300, 784];
const x = randomArray(nCols, rng);
const rounds = Number(process.argv[2] ?? 5);
const timeUs = (fn: () => void): number => cpuMicros(fn, 8);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const sparsity of [0.9, 0.95, 0.98]) {
  const w = randomSparseWeight(nRows, nCols, sparsity, rng);
  const csr = csrFromDense(w, nRows, nCols);
  // reference (float64)
  const ref = new Float64Array(nRows);
  for (let i = 0; i < nRows; i++) for (let j = 0; j < nCols; j++) ref[i] = ref[i]! + w[i * nCols + j]! * x[j]!;
  const placed = placeCsr(baseArena, csr);
  const bx = baseArena.allocF32(x), by = baseArena.alloc(4 * nRows), bBias = baseArena.alloc(4 * nRows), bw = baseArena.allocF32(w);
  const probes: Record<string, () => void> = {
    dense: () => k.denseMatvec(nRows, nCols, bw, bBias, 0, bx, by),
    spmv: () => k.spmv(nRows, placed.indptr, placed.vectorOffsets, placed.values, bBias, 0, bx, by),
  };
  const sell = sellFromCsr(csr, null);
  const sellW = sellFromCsr(csr, nCols);
  const sell16 = sellFromCsr(csr, null, true, true);
  const sellW16 = sellFromCsr(csr, nCols, true, true);
  const ex = arena.allocF32(x), ey = arena.alloc(4 * nRows), eBias = arena.alloc(4 * nRows);
  const place = (s: Sell): [number, number, number] => [arena.allocI32(s.slicePtr), arena.allocI32(s.rows), arena.allocI32(new Int32Array(s.slots))];
  const [sp, sr, ss] = place(sell);
  const [wp, wr, ws] = place(sellW);
  const [p16, r16, s16] = place(sell16);
  const [pw16, rw16, sw16] = place(sellW16);
  for (const v of variants) {
    const fn = exports[v.name]!;
    probes[v.name] = v.gather === 'pair16'
      ? (v.window ? () => fn(sellW.nSlices, pw16, rw16, sw16, eBias, 0, ex, ey, nCols) : () => fn(sell.nSlices, p16, r16, s16, eBias, 0, ex, ey, nCols))
      : v.window ? () => fn(sellW.nSlices, wp, wr, ws, eBias, 0, ex, ey, nCols) : () => fn(sell.nSlices, sp, sr, ss, eBias, 0, ex, ey, nCols);
    arena.f32().fill(NaN, ey / 4, ey / 4 + nRows);
    probes[v.name]!();
    const got = arena.f32().subarray(ey / 4, ey / 4 + nRows);
    for (let i = 0; i < nRows; i++) if (!(Math.abs(got[i]! - ref[i]!) < 1e-4)) throw new Error(`${v.name} row ${i}: ${got[i]} vs ${ref[i]}`);
  }
  const times: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) for (const [name, fn] of Object.entries(probes)) (times[name] ??= []).push(timeUs(fn));
  const slots = sell.slicePtr[sell.nSlices]!;
  console.log(`sparsity ${sparsity}: nnz ${csr.nnz}, SELL slots×4 ${4 * slots} (padding ${((4 * slots) / csr.nnz - 1) * 100 | 0} %)`);
  const d = median(times.dense!);
  for (const [name, ts] of Object.entries(times)) {
    const ratios = ts.map((t, i) => times.dense![i]! / t);
    console.log(`  ${name.padEnd(14)} min ${Math.min(...ts).toFixed(2).padStart(6)} ns/nnz ${((Math.min(...ts) * 1e3) / csr.nnz).toFixed(3)} | med ${median(ts).toFixed(2).padStart(7)} µs (${Math.min(...ts).toFixed(2)}–${Math.max(...ts).toFixed(2)})  dense/this ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})  ns/nnz ${((median(ts) * 1e3) / csr.nnz).toFixed(3)}`);
  }
  void d;
}
