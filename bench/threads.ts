/**
 * One thread against `--threads N` (default: one per core) on the WebAssembly SIMD kernels, same data, same
 * results (checked bit for bit before timing):
 *
 *   gemm        the products of a LeNet-300-100 training step at batch 64 (forward X·Wᵀ, weight gradient
 *               dYᵀ·X, input gradient dY·W) and one large square product — where MIN_FLOPS_PER_SHARE
 *               (src/tensor/wasm/gemm.ts) comes from: the smallest products here must not get slower;
 *   adam        one Adam step over the 784×300 weight (MIN_ELEMENTS_PER_SHARE, simd-kernels.ts);
 *   inference   LeNet-300-100 compiled for the wasm-simd backend, dense and 90 % sparse (random mask), at
 *               batch 1, 64 and 256, on digits test images (MIN_NS_PER_SHARE, wasm-simd/model.ts). Targets
 *               (issue "Fast by default"): ≥ 1.7× at batch 64 and 256 with 2 threads; batch 1 not slower;
 *               and the same two networks on the wasm-int8 backend at batch 64 and 256 (rows "…, int8";
 *               MIN_NS_PER_SHARE with the int8 cost model, wasm-int8/model.ts; same target).
 *
 * Training epochs with threads are `bench train` (row "wasm-simd, N threads"). Every row runs in `rounds`
 * interleaved rounds (default 5): each round times one thread, then N threads, for `ms` milliseconds each
 * (default 200); rows report the median µs per call with min–max over rounds, and the speedup is the median
 * of the per-round ratios.
 * Usage: tsx bench/run.ts threads [--quick] [--json] [--threads N] [rounds=R] [ms=M]
 */
import { compileInference, type InferenceLayer, type InferenceModel } from '../src/sparse/index.ts';
import { loadDigits } from '../src/node/data.ts';
import { nodeThreadHost } from '../src/node/threads.ts';
import { Rng } from '../src/tensor/rng.ts';
import { closeThreads, setThreadHost, withThreads } from '../src/tensor/threads.ts';
import { simdAdam, simdGemmNN, simdGemmNT, simdGemmTN, simdInstance } from '../src/tensor/wasm/index.ts';
import { formatTable, say, type BenchOptions } from './harness.ts';

interface Case {
  kind: 'gemm' | 'adam' | 'inference';
  name: string;
  /** Runs the work once on the given thread count; returns its output (for the bit-for-bit check). */
  run(threads: number): ArrayLike<number>;
  target?: string;
}

function argNumber(args: readonly string[], key: string, fallback: number): number {
  const a = args.find((x) => x.startsWith(`${key}=`));
  return a === undefined ? fallback : Number(a.slice(key.length + 1));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Mean µs per call of `fn` over about `ms` milliseconds (after one untimed call). */
function microsPerCall(fn: () => void, ms: number): number {
  fn();
  let calls = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    fn();
    calls++;
    elapsed = performance.now() - started;
  } while (elapsed < ms);
  return (elapsed * 1000) / calls;
}

function gemmCases(): Case[] {
  const arena = simdInstance()!.arena;
  const rng = new Rng(1);
  const resident = (n: number): Float32Array => {
    const x = arena.persistentF32(n); // training keeps its tensors in the kernels' memory: so does this
    for (let i = 0; i < n; i++) x[i] = rng.normal();
    return x;
  };
  const product = (name: string, form: 'NN' | 'NT' | 'TN', m: number, n: number, k: number): Case => {
    const a = resident(m * k), b = resident(k * n), c = resident(m * n);
    const kernel = form === 'NN' ? simdGemmNN : form === 'NT' ? simdGemmNT : simdGemmTN;
    return { kind: 'gemm', name: `${name} ${form} ${m}×${n}×${k}`, run: (threads) => withThreads(threads, () => (kernel(m, n, k, a, b, c), c)) };
  };
  const w = resident(784 * 300), g = resident(784 * 300), m1 = resident(784 * 300), v = resident(784 * 300).fill(0.01);
  let step = 0;
  const adam: Case = {
    kind: 'adam',
    name: 'Adam step, 784×300 weight',
    run: (threads) => withThreads(threads, () => {
      simdAdam(simdInstance()!, w.length, w, g, m1, v, null, { lr: 1e-9, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: ++step });
      return w;
    }),
  };
  return [
    product('forward 784→300', 'NT', 64, 300, 784),
    product('weight grad 784→300', 'TN', 300, 784, 64),
    product('forward 300→100', 'NT', 64, 100, 300),
    product('weight grad 300→100', 'TN', 100, 300, 64),
    product('input grad 300→100', 'NN', 64, 300, 100),
    product('square', 'NN', 512, 512, 512),
    adam,
  ];
}

function lenet(density: number, rng: Rng): InferenceLayer[] {
  return [[300, 784, 'relu'], [100, 300, 'relu'], [10, 100, 'none']].map(([out, inp, activation]) => {
    const weight = new Float32Array((out as number) * (inp as number));
    for (let i = 0; i < weight.length; i++) weight[i] = rng.uniform() < density ? rng.normal() * 0.05 : 0;
    return { weight, outFeatures: out as number, inFeatures: inp as number, bias: Float32Array.from({ length: out as number }, () => rng.normal() * 0.05), activation: activation as 'relu' | 'none' };
  });
}

function inferenceCases(threads: number): Case[] {
  const test = loadDigits().test;
  const rng = new Rng(2);
  const cases: Case[] = [];
  const networks = [['dense', 1], ['90 % sparse', 0.1]] as const;
  const nets = networks.map(([label, density]) => ({ label, layers: lenet(density, rng) }));
  for (const backend of ['wasm-simd', 'wasm-int8'] as const) {
    for (const { label, layers } of nets) {
      const models = new Map<number, InferenceModel>([1, threads].map((t) => [t, compileInference(layers, { backend, threads: t })]));
      for (const batch of backend === 'wasm-simd' ? [1, 64, 256] : [64, 256]) {
        const x = new Float32Array(batch * 784);
        for (let s = 0; s < batch; s++) x.set(test.x.subarray((s % test.count) * 784, (s % test.count + 1) * 784), s * 784);
        cases.push({
          kind: 'inference',
          name: `LeNet-300-100 ${label}, batch ${batch}${backend === 'wasm-int8' ? ', int8' : ''}`,
          run: (t) => models.get(t)!.predict(x, batch),
          target: batch === 1 ? 'not slower' : '≥ 1.7× at 2 threads',
        });
      }
    }
  }
  return cases;
}

export async function run(options: BenchOptions): Promise<Record<string, unknown>> {
  setThreadHost(nodeThreadHost);
  const threads = options.threads;
  if (threads < 2) throw new Error('bench threads compares one thread with --threads N ≥ 2');
  const rounds = argNumber(options.args, 'rounds', options.quick ? 2 : 5);
  const ms = argNumber(options.args, 'ms', options.quick ? 20 : 200);
  const cases = [...gemmCases(), ...inferenceCases(threads)];
  say(options, `1 thread vs ${threads} threads; ${rounds} interleaved round(s) of ${ms} ms per row and thread count`);
  for (const c of cases) {
    const one = Array.from(c.run(1));
    const many = Array.from(c.run(threads));
    if (c.kind !== 'adam' && !one.every((v, i) => Object.is(v, many[i]))) throw new Error(`${c.name}: ${threads} threads do not give the bits of one thread`);
  }
  const times = cases.map(() => ({ one: [] as number[], many: [] as number[] }));
  for (let round = 0; round < rounds; round++) {
    cases.forEach((c, i) => {
      times[i]!.one.push(microsPerCall(() => c.run(1), ms));
      times[i]!.many.push(microsPerCall(() => c.run(threads), ms));
    });
    say(options, `  round ${round + 1} of ${rounds} done`);
  }
  const rows = cases.map((c, i) => {
    const { one, many } = times[i]!;
    const ratios = one.map((t, r) => t / many[r]!);
    return {
      kind: c.kind,
      case: c.name,
      'µs 1 thread': median(one),
      '1: min–max': `${Math.min(...one).toFixed(0)}–${Math.max(...one).toFixed(0)}`,
      [`µs ${threads} threads`]: median(many),
      [`${threads}: min–max`]: `${Math.min(...many).toFixed(0)}–${Math.max(...many).toFixed(0)}`,
      speedup: median(ratios),
      'speedup min–max': `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
      target: c.target ?? '',
    };
  });
  closeThreads();
  say(options, '\n' + formatTable(rows, Object.keys(rows[0]!)));
  return { threads, rounds, ms, rows };
}
