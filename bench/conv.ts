/**
 * Sparse against dense convolution at batch 1 (issue 15, stage 4): conv2 of LeNet-5 (50 filters of 20×5×5 on a
 * 20×12×12 input, 8×8 outputs, ReLU, no pooling) compiled alone, its weights pruned at random to `sparsity`
 * (default 0.9), input a real activation-like image (uniform [0, 1) pixels, seeded).
 *
 * Probes, run in interleaved rounds (default 7; each probe ~`ms` ms per round, CPU time): the wasm-simd backend
 * with the sparse convolution ('csr') and with its dense one ('dense', im2col + GEMM in tiles of 16 positions),
 * and the same two on the TypeScript backend. Each is one `predict(x, 1)` of the compiled layer, so the input
 * preparation (padding, phase split), the output copy and the non-finite check are included. The speedup is the
 * median over rounds of the per-round ratio dense/sparse, with its min–max. Target (issue 15): ≥ 5× on wasm-simd.
 *
 * Then the whole LeNet-5 (issue 15's second speed target): random He weights pruned by magnitude per layer to
 * Han et al.'s kept fractions (conv1 66 %, conv2 12 %, fc1 8 %, fc2 19 %), compiled for wasm-simd ('auto'), on
 * digits test images, against onnxruntime-node running the dense model exported by exportOnnx (CPU provider,
 * 1 intra-op and 1 inter-op thread), at batch 1 and 64: rounds interleave the two engines, each timed by
 * bench/onnx.ts's timeCall (wall clock, median of its loops); the ratio is the median of per-round ratios.
 *
 * Usage: tsx bench/run.ts conv [--quick] [--json] [sparsity=S] [rounds=R] [ms=M] [lenet=0 to skip the network]
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { compileModel } from '../src/compile/index.ts';
import { exportOnnx } from '../src/io/onnx/export.ts';
import { architectureSpec } from '../src/nn/arch.ts';
import { buildModel } from '../src/nn/build.ts';
import { loadDigits } from '../src/node/data.ts';
import { compileInference, wasmSimdSupported, type ConvInferenceLayer, type InferenceModel } from '../src/sparse/index.ts';
import { Rng } from '../src/tensor/rng.ts';
import { consume, formatTable, say, type BenchOptions } from './harness.ts';
import { timeCall } from './onnx.ts';
import { measureRounds, medianUs, probe, ratioSpread, type Probe } from './rounds.ts';

function argNumber(args: readonly string[], key: string, fallback: number): number {
  const a = args.find((x) => x.startsWith(`${key}=`));
  return a === undefined ? fallback : Number(a.slice(key.length + 1));
}

/** conv2 of LeNet-5 with a random `sparsity` of its weights pruned. */
export function lenetConv2(sparsity: number, rng: Rng): ConvInferenceLayer {
  const weight = Float32Array.from({ length: 50 * 20 * 25 }, () => (rng.uniform() < sparsity ? 0 : rng.normal() * 0.06));
  return {
    kind: 'conv2d', inChannels: 20, inHeight: 12, inWidth: 12, outChannels: 50, kernelSize: [5, 5],
    weight, bias: Float32Array.from({ length: 50 }, () => rng.normal() * 0.01), activation: 'relu',
  };
}

export async function run(options: BenchOptions): Promise<{ rows: Record<string, unknown>[] }> {
  const sparsity = argNumber(options.args, 'sparsity', 0.9);
  const rounds = argNumber(options.args, 'rounds', options.quick ? 5 : 7);
  const ms = argNumber(options.args, 'ms', options.quick ? 100 : 200);
  const rng = new Rng(15);
  const layer = lenetConv2(sparsity, rng);
  const x = Float32Array.from({ length: 20 * 12 * 12 }, () => rng.uniform());
  const backends = wasmSimdSupported() ? ['wasm-simd', 'js'] : ['js'];
  const cases: { backend: string; kernel: 'csr' | 'dense'; model: InferenceModel; probe: Probe }[] = [];
  for (const backend of backends) {
    for (const kernel of ['csr', 'dense'] as const) {
      const model = compileInference([layer], { backend, strategy: kernel });
      cases.push({ backend, kernel, model, probe: probe(() => model.predict(x, 1)) });
    }
  }
  // Same answers before timing: the two kernels of a backend agree to float32 rounding.
  for (const backend of backends) {
    const [sparse, dense] = cases.filter((c) => c.backend === backend).map((c) => c.model.predict(x, 1).slice());
    const worst = sparse!.reduce((m, v, i) => Math.max(m, Math.abs(v - dense![i]!)), 0);
    if (!(worst < 1e-4)) throw new Error(`${backend}: sparse and dense convolutions differ by ${worst}`);
  }
  const auto = Object.fromEntries(backends.map((b) => [b, compileInference([layer], { backend: b }).kernels(1)[0]]));
  measureRounds(cases.map((c) => c.probe), rounds, { minMs: ms, reps: 3, clock: 'cpu' });
  const rows: Record<string, unknown>[] = [];
  for (const backend of backends) {
    const [sparse, dense] = cases.filter((c) => c.backend === backend);
    const speedup = ratioSpread(dense!.probe.times, sparse!.probe.times);
    rows.push({
      backend, sparsity, 'sparse µs': medianUs(sparse!.probe).toFixed(1), 'dense µs': medianUs(dense!.probe).toFixed(1),
      speedup: `${speedup.median.toFixed(2)}× (${speedup.min.toFixed(2)}–${speedup.max.toFixed(2)})`, auto: auto[backend],
      ...(backend === 'wasm-simd' ? { target: '≥ 5×' } : {}),
    });
  }
  say(options, `conv2 of LeNet-5 (50×20×5×5 on 20×12×12), batch 1, ${rounds} interleaved rounds, CPU time, median (min–max)`);
  say(options, formatTable(rows, ['backend', 'sparsity', 'sparse µs', 'dense µs', 'speedup', 'auto', 'target']));
  const network = argNumber(options.args, 'lenet', 1) !== 0 && wasmSimdSupported() ? await lenetAgainstOnnxruntime(rounds, options) : [];
  return { rows: [...rows, ...network] };
}

/** Han et al. 2015's kept fraction per LeNet-5 weight (conv1, conv2, fc1, fc2). */
const HAN_KEPT: Readonly<Record<string, number>> = { 'layers.1.weight': 0.66, 'layers.4.weight': 0.12, 'layers.8.weight': 0.08, 'layers.10.weight': 0.19 };

async function lenetAgainstOnnxruntime(rounds: number, options: BenchOptions): Promise<Record<string, unknown>[]> {
  const model = buildModel(architectureSpec('lenet5'), new Rng(15));
  const params = new Map<string, Float32Array>();
  for (const [name, p] of model.namedParameters()) {
    params.set(name, Float32Array.from(p.value.data)); // the dense model, for onnxruntime
    const kept = HAN_KEPT[name];
    if (kept === undefined) continue;
    const data = p.value.data;
    const threshold = Float64Array.from(data, Math.abs).sort()[Math.floor((1 - kept) * data.length)]!;
    for (let i = 0; i < data.length; i++) if (Math.abs(data[i]!) < threshold) data[i] = 0;
  }
  const session = await InferenceSession.create(exportOnnx(model.spec(), params), {
    executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all',
  });
  const ours = compileModel(model, { backend: 'wasm-simd' });
  const { test } = loadDigits();
  const settings = { warmupCalls: 20, minLoopMs: options.quick ? 30 : 60, reps: 3 };
  const rows: Record<string, unknown>[] = [];
  for (const batch of [1, 64]) {
    const x = test.x.slice(0, batch * 784);
    const feeds = { x: new Tensor('float32', x, [batch, 784]) };
    const times = { ours: [] as number[], onnx: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      times.ours.push(await timeCall(() => consume(ours.predict(x, batch)), settings));
      times.onnx.push(await timeCall(async () => consume((await session.run(feeds))['logits']!.data as Float32Array), settings));
    }
    const speedup = ratioSpread(times.onnx, times.ours);
    const med = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;
    rows.push({ network: 'lenet5 (Han sparsities)', batch, 'sparsegrad µs': med(times.ours).toFixed(1), 'onnxruntime µs': med(times.onnx).toFixed(1),
      speedup: `${speedup.median.toFixed(2)}× (${speedup.min.toFixed(2)}–${speedup.max.toFixed(2)})`, kernels: ours.kernels(batch).join(',') });
  }
  await session.release();
  say(options, `LeNet-5 at Han's per-layer sparsities, wasm-simd (auto) vs onnxruntime-node (dense, 1 thread), digits test images, ${rounds} interleaved rounds, wall clock`);
  say(options, formatTable(rows, ['network', 'batch', 'sparsegrad µs', 'onnxruntime µs', 'speedup', 'kernels']));
  return rows;
}
