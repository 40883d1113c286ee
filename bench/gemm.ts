/**
 * The SIMD GEMM against the machine's f32x4 peak: GFLOP/s of the training kernels' matrix product
 * (src/tensor/wasm/gemm.ts) next to the measured peak of a plain f32x4 multiply-add loop assembled here,
 * and next to the TypeScript GEMM on the same operands.
 *   npx tsx bench/run.ts gemm [--json] [--quick] [--max-time S] [rounds=N]
 *
 * Peak: a loop of `acc_i = acc_i + x·y` over independent v128 accumulators held in registers (no loads,
 * no stores) — WebAssembly SIMD in Node 20 has no fused multiply-add, so a multiply and an add per 4 lanes,
 * 8 flops per step. Accumulator counts 8, 10 and 12 are tried and the best is the peak.
 * Shapes (M×K)·(K×N), flops = 2·M·N·K: NN 256×784·784×300 and 1024³ (the issue's), and the training shapes
 * of LeNet-300-100 at batch 64: NT 64×784·(300×784)ᵀ (forward), TN (64×300)ᵀ·64×784 (weight gradient),
 * NN 64×300·300×784 (input gradient). Implementations: simd (operands in the kernels' memory, as in
 * training), simd-copying (ordinary arrays, copied in and out per call), ts (../src/tensor/kernels/gemm.ts).
 * Every implementation is checked against float64 on sampled rows first. `rounds` interleaved rounds
 * (default 5) of benchmark.js measurements; rows report the median with min–max.
 */
import { assembleModule, FunctionBuilder, I32, op, V128 } from '../src/wasm/assembler.ts';
import { increment, whileLoop } from '../src/wasm/emit.ts';
import { wasmApi } from '../src/wasm/runtime.ts';
import { gemmNN, gemmNT, gemmTN } from '../src/tensor/kernels/gemm.ts';
import { Rng } from '../src/tensor/rng.ts';
import { simdGemmNN, simdGemmNT, simdGemmTN, simdInstance } from '../src/tensor/wasm/index.ts';
import { consume, formatTable, measure, say, type BenchOptions } from './harness.ts';

type Form = 'NN' | 'NT' | 'TN';
type Impl = 'simd' | 'simd-copying' | 'ts';
const IMPLS: readonly Impl[] = ['simd', 'simd-copying', 'ts'];
const SHAPES: readonly { form: Form; m: number; k: number; n: number; role: string }[] = [
  { form: 'NN', m: 256, k: 784, n: 300, role: 'A·B, batch 256' },
  { form: 'NN', m: 1024, k: 1024, n: 1024, role: 'square 1024' },
  { form: 'NT', m: 64, k: 784, n: 300, role: 'train forward x·Wᵀ' },
  { form: 'TN', m: 300, k: 64, n: 784, role: 'train weight grad dYᵀ·X' },
  { form: 'NN', m: 64, k: 300, n: 784, role: 'train input grad dY·W' },
];
const ACCUMULATORS = [8, 10, 12];

/** peakN(iterations, address): N accumulators, each += x·y per iteration. */
export function peakLoop(accumulators: number): FunctionBuilder {
  const f = new FunctionBuilder(`peak${accumulators}`, 2);
  const [iterations, address] = [0, 1];
  const i = f.local(I32);
  const acc = Array.from({ length: accumulators }, () => f.local(V128));
  const x = f.local(V128), y = f.local(V128);
  f.emit(op.get(address), op.v128Load(0), op.set(x), op.get(address), op.v128Load(16), op.set(y));
  for (const a of acc) f.emit(op.get(address), op.v128Load(32), op.set(a));
  f.emit(op.i32(0), op.set(i));
  whileLoop(f, () => f.emit(op.get(i), op.get(iterations), op.i32GeU), () => {
    for (const a of acc) f.emit(op.get(a), op.get(x), op.get(y), op.f32x4Mul, op.f32x4Add, op.set(a));
    increment(f, i, 1);
  });
  for (const a of acc.slice(1)) f.emit(op.get(acc[0]!), op.get(a), op.f32x4Add, op.set(acc[0]!));
  f.emit(op.get(address), op.get(acc[0]!), op.v128Store(48)); // keep the result alive
  return f;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function run(options: BenchOptions): Promise<Record<string, unknown>> {
  const rounds = Number(options.args.find((a) => a.startsWith('rounds='))?.slice(7) ?? (options.quick ? 1 : 5));
  const maxTime = options.quick ? 0.05 : Math.min(options.maxTime, 0.5);
  const simd = simdInstance();
  if (simd === null) throw new Error('gemm bench: this engine has no WebAssembly SIMD');

  // The peak loop, in its own module and memory.
  const api = wasmApi()!;
  const memory = new api.Memory({ initial: 1 });
  const peak = new api.Instance(new api.Module(assembleModule(ACCUMULATORS.map(peakLoop), 1)), { env: { memory } }).exports;
  new Float32Array(memory.buffer).fill(1e-3, 0, 12).fill(0.999, 4, 8);
  const PEAK_ITERATIONS = 100_000;

  const rng = new Rng(20261129);
  const problems = SHAPES.map((s) => (options.quick && s.m === 1024 ? { ...s, m: 256, k: 256, n: 256, role: 'square 256 (quick)' } : s)).map((s) => {
    // Filled in place: `.map` would return a copy on the JavaScript heap, which every call copies back in.
    const a = simd.arena.persistentF32(s.m * s.k);
    const b = simd.arena.persistentF32(s.k * s.n);
    for (let i = 0; i < a.length; i++) a[i] = rng.normal();
    for (let i = 0; i < b.length; i++) b[i] = rng.normal();
    const c = simd.arena.persistentF32(s.m * s.n);
    if (![a, b, c].every((x) => simd.arena.holds(x))) throw new Error('gemm bench: the "simd" operands must live in the kernels\' memory');
    const [aJs, bJs, cJs] = [Float32Array.from(a), Float32Array.from(b), new Float32Array(s.m * s.n)];
    const simdFn = { NN: simdGemmNN, NT: simdGemmNT, TN: simdGemmTN }[s.form];
    const tsFn = { NN: gemmNN, NT: gemmNT, TN: gemmTN }[s.form];
    const calls: Record<Impl, () => Float32Array> = {
      simd: () => (simdFn(s.m, s.n, s.k, a, b, c), c),
      'simd-copying': () => (simdFn(s.m, s.n, s.k, aJs, bJs, cJs), cJs),
      ts: () => (tsFn(s.m, s.n, s.k, aJs, bJs, cJs), cJs),
    };
    for (const impl of IMPLS) check(impl, s, aJs, bJs, calls[impl]());
    return { ...s, flops: 2 * s.m * s.n * s.k, calls };
  });

  const peakRounds: Record<number, number[]> = Object.fromEntries(ACCUMULATORS.map((n) => [n, []]));
  const gflops = problems.map(() => ({ simd: [] as number[], 'simd-copying': [] as number[], ts: [] as number[] }));
  for (let round = 0; round < rounds; round++) {
    for (const n of ACCUMULATORS) {
      const fn = peak[`peak${n}`] as (iterations: number, address: number) => void;
      const timing = measure(`peak ${n}`, () => fn(PEAK_ITERATIONS, 0), { maxTime });
      peakRounds[n]!.push((8 * n * PEAK_ITERATIONS) / timing.seconds / 1e9);
    }
    problems.forEach((p, index) => {
      for (let s = 0; s < IMPLS.length; s++) {
        const impl = IMPLS[(s + round) % IMPLS.length]!;
        const timing = measure(`${impl} ${p.form} ${p.m}x${p.k}x${p.n}`, () => consume(p.calls[impl]()), { maxTime, minSamples: p.flops > 1e9 ? 2 : 5 });
        gflops[index]![impl].push(p.flops / timing.seconds / 1e9);
      }
    });
    say(options, `  round ${round + 1}/${rounds} done`);
  }

  const peakRows = ACCUMULATORS.map((n) => ({ loop: `${n} accumulators`, gflops: median(peakRounds[n]!), min: Math.min(...peakRounds[n]!), max: Math.max(...peakRounds[n]!) }));
  const peakGflops = Math.max(...peakRows.map((r) => r.gflops));
  const rows = problems.flatMap((p, index) => IMPLS.map((impl) => {
    const g = gflops[index]![impl];
    return { shape: `${p.form} ${p.m}×${p.k}·${p.k}×${p.n}`, role: p.role, impl, gflops: median(g), min: Math.min(...g), max: Math.max(...g), ofPeak: median(g) / peakGflops };
  }));
  say(options, '\n' + formatTable(peakRows, ['loop', 'gflops', 'min', 'max']));
  say(options, `peak of a plain f32x4 multiply-add loop: ${peakGflops.toFixed(1)} GFLOP/s (median of ${rounds} rounds, best accumulator count)\n`);
  say(options, formatTable(rows.map((r) => ({ ...r, ofPeak: `${(r.ofPeak * 100).toFixed(0)} %` })), ['shape', 'role', 'impl', 'gflops', 'min', 'max', 'ofPeak']));
  return { rounds, peakGflops, peak: peakRows, rows, target: 'simd ≥ 70 % of the peak on 256×784·784×300 and 1024³' };
}

/** Throws unless sampled rows of c match a float64 product within the float32 dot-product bound. */
function check(impl: Impl, s: { form: Form; m: number; k: number; n: number }, a: Float32Array, b: Float32Array, c: Float32Array): void {
  const { form, m, k, n } = s;
  for (const i of new Set([0, m >> 1, m - 1])) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      let scale = 0;
      for (let p = 0; p < k; p++) {
        const t = (form === 'TN' ? a[p * m + i]! : a[i * k + p]!) * (form === 'NT' ? b[j * k + p]! : b[p * n + j]!);
        sum += t;
        scale += Math.abs(t);
      }
      if (!(Math.abs(c[i * n + j]! - sum) <= 2 * k * 2 ** -23 * scale)) throw new Error(`gemm bench: ${impl} ${form} ${m}×${k}·${k}×${n} is wrong at (${i}, ${j})`);
    }
  }
}
