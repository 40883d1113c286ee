/**
 * Dense matmul benchmark: GFLOP/s of sparsegrad's `matmul` against tfjs-cpu and a naive triple loop.
 *   npx tsx bench/run.ts dense [--json] [--quick] [--max-time S] [MxKxN | FORM:MxKxN ...]
 * Shape arguments (e.g. `256x784x300`, `NT:64x784x300`) run only the matching rows of the table below.
 *
 * Shapes (M×K)·(K×N), FLOPs = 2·M·N·K:
 *   NN 1×784·784×300 (GEMV), 64×784·784×300, 256×784·784×300, 1024×1024·1024×1024   — the A·B shapes
 *   NT 1×784·(300×784)ᵀ        inference x·Wᵀ at batch 1 (W stored [out, in])
 *   NT 64×784·(300×784)ᵀ       Linear forward at batch 64
 *   TN (64×300)ᵀ·64×784        weight gradient dYᵀ·X        (M=300, K=64, N=784)
 *   NN 64×300·300×784          input gradient dY·W
 * Implementations, all on the same seeded float32 operands:
 *   sparsegrad  ops.matmul(a, b, {transA, transB}) on Tensors made once (validation + output allocation
 *               included, as a user pays them);
 *   tfjs-cpu    @tensorflow/tfjs-core + tfjs-backend-cpu, tensors made once, timed call =
 *               tf.matMul(a, b, transA, transB) + dataSync() + dispose();
 *   naive       the textbook loop over Float32Array written below (i-k-j for NN, i-j-k dot products for
 *               NT, k-i-j for TN), accumulating in the float32 output.
 * Before timing, every implementation's output is checked against a float64 reference on sampled rows
 * (error bound 2·k·ε32·Σ|a·b|), so all three are known to agree. Timing uses benchmark.js (harness
 * `measure`) in `rounds` interleaved rounds, the order of implementations rotating each round; a row
 * reports the median round, and each ratio is the median of the per-round ratios, so both sides of a
 * ratio always come from the same moments of the same run (the machine is shared and noisy).
 */
import { createRequire } from 'node:module';
import { ops, Rng, Tensor } from '../src/index.ts';
import { consume, formatTable, measure, say, type BenchOptions } from './harness.ts';

type TF = typeof import('@tensorflow/tfjs-core');
type TFTensor = import('@tensorflow/tfjs-core').Tensor;

type Form = 'NN' | 'NT' | 'TN';
type Impl = 'sparsegrad' | 'tfjs-cpu' | 'naive';
const IMPLS: readonly Impl[] = ['sparsegrad', 'tfjs-cpu', 'naive'];

interface Shape {
  form: Form;
  m: number;
  k: number;
  n: number;
  role: string;
  /** Required sparsegrad / tfjs-cpu speed ratio (issue acceptance), if any. */
  target?: number;
}

const SHAPES: readonly Shape[] = [
  { form: 'NN', m: 1, k: 784, n: 300, role: 'GEMV, batch 1', target: 2.5 },
  { form: 'NN', m: 64, k: 784, n: 300, role: 'A·B, batch 64' },
  { form: 'NN', m: 256, k: 784, n: 300, role: 'A·B, batch 256', target: 4 },
  { form: 'NN', m: 1024, k: 1024, n: 1024, role: 'square 1024', target: 4 },
  { form: 'NT', m: 1, k: 784, n: 300, role: 'inference x·Wᵀ, batch 1' },
  { form: 'NT', m: 64, k: 784, n: 300, role: 'train forward x·Wᵀ' },
  { form: 'TN', m: 300, k: 64, n: 784, role: 'train weight grad dYᵀ·X' },
  { form: 'NN', m: 64, k: 300, n: 784, role: 'train input grad dY·W' },
];

export interface DenseRow {
  m: number;
  k: number;
  n: number;
  impl: Impl;
  gflops: number;
  /** Mean seconds per call in the median round (benchmark.js). */
  seconds: number;
  /** benchmark.js relative margin of error of that mean, percent. */
  rme: number;
  form: Form;
  role: string;
  /** GFLOP/s of every round, in round order. */
  rounds: number[];
}

export interface DenseRatio {
  m: number;
  k: number;
  n: number;
  form: Form;
  role: string;
  /** sparsegrad speed divided by the speed of `versus`. */
  versus: Exclude<Impl, 'sparsegrad'>;
  ratio: number;
  rounds: number[];
  target?: number;
  met?: boolean;
}

/** The textbook loops, over the operands as stored. C is overwritten. */
function naiveMatmul(form: Form, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array): void {
  if (form === 'NT') {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += a[i * k + p]! * b[j * k + p]!;
        c[i * n + j] = sum;
      }
    }
    return;
  }
  c.fill(0);
  if (form === 'NN') {
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < k; p++) {
        const aip = a[i * k + p]!;
        for (let j = 0; j < n; j++) c[i * n + j]! += aip * b[p * n + j]!;
      }
    }
  } else {
    for (let p = 0; p < k; p++) {
      for (let i = 0; i < m; i++) {
        const api = a[p * m + i]!;
        for (let j = 0; j < n; j++) c[i * n + j]! += api * b[p * n + j]!;
      }
    }
  }
}

/** Throws unless rows `rows` of `c` match a float64 reference within the dot-product error bound. */
function checkRows(impl: Impl, shape: Shape, a: Float32Array, b: Float32Array, c: ArrayLike<number>, rows: number[]): void {
  const { form, m, n, k } = shape;
  const A = (i: number, p: number): number => (form === 'TN' ? a[p * m + i]! : a[i * k + p]!);
  const B = (p: number, j: number): number => (form === 'NT' ? b[j * k + p]! : b[p * n + j]!);
  for (const i of rows) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      let scale = 0;
      for (let p = 0; p < k; p++) {
        const t = A(i, p) * B(p, j);
        sum += t;
        scale += Math.abs(t);
      }
      const got = c[i * n + j]!;
      if (!(Math.abs(got - sum) <= 2 * k * 2 ** -23 * scale + 1e-30)) {
        throw new Error(`dense bench: ${impl} ${form} ${m}×${k}·${k}×${n} is wrong at (${i}, ${j}): ${got} vs ${sum}`);
      }
    }
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function loadTfjs(): Promise<TF> {
  const require = createRequire(import.meta.url);
  const tf = require('@tensorflow/tfjs-core') as TF;
  require('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  await tf.ready();
  return tf;
}

export async function run(options: BenchOptions): Promise<{ rows: DenseRow[]; ratios: DenseRatio[]; settings: Record<string, unknown> }> {
  const rounds = options.quick ? 1 : 3;
  const maxTime = options.quick ? Math.min(options.maxTime, 0.1) : options.maxTime;
  // --quick only checks that the suite works: the 1024³ product shrinks to 256³.
  const wanted = (s: Shape): boolean =>
    options.args.length === 0 || options.args.some((arg) => arg === `${s.m}x${s.k}x${s.n}` || arg === `${s.form}:${s.m}x${s.k}x${s.n}`);
  const shapes = SHAPES.filter(wanted).map((s) =>
    options.quick && s.m === 1024 ? { ...s, m: 256, k: 256, n: 256, role: 'square 256 (quick)' } : s,
  );
  if (shapes.length === 0) throw new Error(`dense bench: no shape matches ${options.args.join(' ')}`);
  const shapeName = (r: { form: Form; m: number; k: number; n: number }): string => {
    const a = r.form === 'TN' ? `(${r.k}×${r.m})ᵀ` : `${r.m}×${r.k}`;
    const b = r.form === 'NT' ? `(${r.n}×${r.k})ᵀ` : `${r.k}×${r.n}`;
    return `${a}·${b}`;
  };
  const tf = await loadTfjs();
  const rng = new Rng(20240607);
  const rows: DenseRow[] = [];
  const ratios: DenseRatio[] = [];
  say(options, `dense matmul, float32, ${rounds} interleaved round(s) of benchmark.js (maxTime ${maxTime} s per measurement)`);

  for (const shape of shapes) {
    const { form, m, k, n } = shape;
    const flops = 2 * m * n * k;
    const a = new Float32Array(m * k).map(() => rng.normal());
    const b = new Float32Array(k * n).map(() => rng.normal());
    const transA = form === 'TN';
    const transB = form === 'NT';
    const aShape = transA ? [k, m] : [m, k];
    const bShape = transB ? [n, k] : [k, n];

    const ta = new Tensor(a, aShape);
    const tb = new Tensor(b, bShape);
    const tfa: TFTensor = tf.tensor2d(a, aShape as [number, number]);
    const tfb: TFTensor = tf.tensor2d(b, bShape as [number, number]);
    const naiveOut = new Float32Array(m * n);

    const calls: Record<Impl, () => ArrayLike<number>> = {
      sparsegrad: () => ops.matmul(ta, tb, { transA, transB }).data,
      'tfjs-cpu': () => {
        const out = tf.matMul(tfa, tfb, transA, transB);
        const data = out.dataSync();
        out.dispose();
        return data;
      },
      naive: () => {
        naiveMatmul(form, m, n, k, a, b, naiveOut);
        return naiveOut;
      },
    };

    // Correctness gate: all three agree with the float64 reference (hence with each other).
    const sampleRows = [...new Set([0, m - 1, rng.int(m), rng.int(m)])];
    for (const impl of IMPLS) checkRows(impl, shape, a, b, calls[impl](), sampleRows);

    const perRound: Record<Impl, { gflops: number; seconds: number; rme: number }[]> = { sparsegrad: [], 'tfjs-cpu': [], naive: [] };
    for (let round = 0; round < rounds; round++) {
      for (let s = 0; s < IMPLS.length; s++) {
        const impl = IMPLS[(s + round) % IMPLS.length]!;
        const call = calls[impl];
        const timing = measure(`${impl} ${form} ${m}x${k}x${n}`, () => consume(call()), {
          maxTime,
          minSamples: flops > 1e9 ? 2 : 5,
        });
        perRound[impl].push({ gflops: flops / timing.seconds / 1e9, seconds: timing.seconds, rme: timing.rme });
      }
    }
    tfa.dispose();
    tfb.dispose();

    for (const impl of IMPLS) {
      const results = perRound[impl];
      const gflops = results.map((r) => r.gflops);
      const mid = results.find((r) => r.gflops === median(gflops)) ?? results[0]!;
      rows.push({ m, k, n, impl, gflops: median(gflops), seconds: mid.seconds, rme: mid.rme, form, role: shape.role, rounds: gflops });
    }
    for (const versus of ['tfjs-cpu', 'naive'] as const) {
      const perRoundRatio = perRound.sparsegrad.map((r, i) => r.gflops / perRound[versus][i]!.gflops);
      const ratio = median(perRoundRatio);
      const entry: DenseRatio = { m, k, n, form, role: shape.role, versus, ratio, rounds: perRoundRatio };
      if (versus === 'tfjs-cpu' && shape.target !== undefined) {
        entry.target = shape.target;
        entry.met = ratio >= shape.target;
      }
      ratios.push(entry);
    }
    const last = rows.slice(-IMPLS.length).map((r) => `${r.impl} ${r.gflops.toFixed(2)}`).join(', ');
    say(options, `  ${form} ${shapeName(shape)} (${shape.role}): ${last} GFLOP/s`);
  }

  say(options, '');
  say(
    options,
    formatTable(
      rows.map((r) => ({
        shape: shapeName(r),
        role: r.role,
        impl: r.impl,
        gflops: r.gflops,
        ms: r.seconds * 1e3,
        'rme%': r.rme,
        rounds: r.rounds.map((g) => g.toFixed(2)).join(' / '),
      })),
      ['shape', 'role', 'impl', 'gflops', 'ms', 'rme%', 'rounds'],
    ),
  );
  say(options, '');
  say(
    options,
    formatTable(
      ratios.map((r) => ({
        shape: shapeName(r),
        'sparsegrad vs': r.versus,
        ratio: r.ratio,
        rounds: r.rounds.map((x) => x.toFixed(2)).join(' / '),
        target: r.target === undefined ? '' : `≥ ${r.target}`,
        met: r.met === undefined ? '' : r.met ? 'yes' : 'NO',
      })),
      ['shape', 'sparsegrad vs', 'ratio', 'rounds', 'target', 'met'],
    ),
  );
  return { rows, ratios, settings: { rounds, maxTime, quick: options.quick, dtype: 'float32' } };
}
