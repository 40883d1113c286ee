/**
 * Training speed: one epoch of LeNet-300-100 (784-300-100-10, ReLU, Adam lr 1e-3, batch 64, cross-entropy)
 * over 60,000 samples on one thread, on the same data (Fashion-MNIST's training set when installed,
 * otherwise the built-in digits repeated to 60,000):
 *
 *   js            sparsegrad on its TypeScript kernels — `jsBatches` batches (default 100) per round,
 *                 scaled to the 938 batches of an epoch (a full epoch takes ~17 s);
 *   wasm-simd     sparsegrad on its WebAssembly SIMD kernels, parameters and step tensors resident in the
 *                 kernels' memory (the library's way) — a full epoch;
 *   wasm-simd, N threads   the same on `--threads N` threads (default: one per core; skipped for 1) — a full
 *                 epoch; the target is ≥ 1.6× the one-thread SIMD speed with 2 threads;
 *   simd-copying  the same kernels on a memory that is not shared, so nothing is resident and every kernel
 *                 call copies its operands in and its results out — `copyBatches` batches (default 300),
 *                 scaled; the difference to wasm-simd is what the copies would cost per batch;
 *   pytorch       PyTorch on one CPU thread (bench/torch_train.py, a full epoch, timed inside Python), when
 *                 `python3` (or /usr/bin/python3) imports torch and the data is an IDX directory;
 *   tfjs-layers   TensorFlow.js's pure-JavaScript CPU backend, measured once after the rounds
 *                 (`tfjsBatches`, default 50; 0 skips it), scaled.
 *
 * The sparsegrad and PyTorch rows run in `rounds` interleaved rounds (default 5, the order rotating each
 * round); each row reports the median seconds per epoch with the min–max over rounds, and each ratio is the
 * median of the per-round ratios, so both sides of a ratio come from the same moments of a noisy machine.
 * Targets (issue "Fast by default"): wasm-simd ≥ 5× js, and within 1.5× of PyTorch on one thread.
 * Usage: tsx bench/run.ts train [--quick] [--json] [--threads N] [rounds=N] [jsBatches=N] [copyBatches=N] [tfjsBatches=N]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Dataset } from '../src/data/dataset.ts';
import { subset } from '../src/data/dataset.ts';
import { Adam, fit, mlp } from '../src/nn/index.ts';
import { FASHION_MNIST_DIR, loadDigits, loadIdxDirectory } from '../src/node/data.ts';
import { nodeThreadHost } from '../src/node/threads.ts';
import { closeThreads, setThreadHost } from '../src/tensor/threads.ts';
import { createSimdInstance, withSimdInstance } from '../src/tensor/wasm/index.ts';
import { formatTable, say, type BenchOptions } from './harness.ts';

const SAMPLES = 60_000;
const BATCH = 64;
type Impl = 'js' | 'wasm-simd' | 'simd-threads' | 'simd-copying' | 'pytorch';

function trainingData(): Dataset {
  if (existsSync(FASHION_MNIST_DIR)) return loadIdxDirectory(FASHION_MNIST_DIR, { name: 'fashion-mnist' }).train;
  const digits = loadDigits().train;
  return subset(digits, Int32Array.from({ length: SAMPLES }, (_, i) => i % digits.count), 'digits×7.5');
}

function argNumber(args: readonly string[], key: string, fallback: number): number {
  const a = args.find((x) => x.startsWith(`${key}=`));
  return a === undefined ? fallback : Number(a.slice(key.length + 1));
}

function minMax(values: readonly number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Seconds to train a fresh LeNet-300-100 for one pass over `data` (seed 0) on the given backend and threads. */
function timeSparsegrad(data: Dataset, backend: 'js' | 'wasm-simd', threads = 1): number {
  const model = mlp([784, 300, 100, 10], { seed: 0 });
  const started = performance.now();
  const history = fit(model, data, { epochs: 1, batchSize: BATCH, optimizer: new Adam(model.parameters(), { lr: 1e-3 }), seed: 0, backend, threads });
  if (history.threads !== threads) throw new Error(`asked for ${threads} threads, ran on ${history.threads}: ${history.threadsNote ?? ''}`);
  return (performance.now() - started) / 1000;
}

/** A Python that imports torch: `python3` on the PATH, else the system one (Debian's python3-torch). */
function torchPython(): string | null {
  for (const python of ['python3', '/usr/bin/python3']) {
    if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return python;
  }
  return null;
}

/** One PyTorch epoch in a fresh process: the seconds its training loop took (Python's own clock). */
function timeTorch(python: string, batches: number): { seconds: number; version: string } {
  const script = new URL('./torch_train.py', import.meta.url).pathname;
  const args = [script, '--data', FASHION_MNIST_DIR, '--threads', '1', ...(batches > 0 ? ['--batches', String(batches)] : [])];
  const run = spawnSync(python, args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (run.status !== 0) throw new Error(`torch_train.py failed: ${run.stderr}`);
  const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { seconds: number; torch: string };
  return { seconds: result.seconds, version: result.torch };
}

async function timeTfjs(data: Dataset, batches: number): Promise<number> {
  await tf.setBackend('cpu');
  const net = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 300, activation: 'relu', inputShape: [784] }),
      tfl.layers.dense({ units: 100, activation: 'relu' }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  net.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const n = batches * BATCH;
  const xs = tf.tensor2d(data.x.subarray(0, n * 784), [n, 784]);
  const ys = tf.oneHot(tf.tensor1d(Array.from(data.y.subarray(0, n)), 'int32'), 10);
  await net.fit(tf.slice(xs, [0, 0], [BATCH, 784]), tf.slice(ys, [0, 0], [BATCH, 10]), { batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0 });
  const started = performance.now();
  await net.fit(xs, ys, { batchSize: BATCH, epochs: 1, shuffle: true, verbose: 0, yieldEvery: 'never' });
  tf.dispose([xs, ys]);
  return (performance.now() - started) / 1000 / batches;
}

export async function run(options: BenchOptions): Promise<Record<string, unknown>> {
  setThreadHost(nodeThreadHost);
  const data = trainingData();
  const batchesPerEpoch = Math.ceil(data.count / BATCH);
  const rounds = argNumber(options.args, 'rounds', options.quick ? 1 : 5);
  const jsBatches = Math.min(argNumber(options.args, 'jsBatches', options.quick ? 10 : 100), batchesPerEpoch);
  const copyBatches = Math.min(argNumber(options.args, 'copyBatches', options.quick ? 20 : 300), batchesPerEpoch);
  const simdBatches = options.quick ? 50 : batchesPerEpoch;
  const tfjsBatches = argNumber(options.args, 'tfjsBatches', options.quick ? 0 : 50);
  const python = existsSync(FASHION_MNIST_DIR) ? torchPython() : null;
  const withTorch = python !== null;
  const firstBatches = (count: number): Dataset => subset(data, Int32Array.from({ length: count * BATCH }, (_, i) => i % data.count), data.name);
  const sets = { js: firstBatches(jsBatches), simd: simdBatches === batchesPerEpoch ? data : firstBatches(simdBatches), copy: firstBatches(copyBatches) };
  const copying = createSimdInstance({ shared: false })!;
  const batchesOf: Record<Impl, number> = { js: jsBatches, 'wasm-simd': simdBatches, 'simd-threads': simdBatches, 'simd-copying': copyBatches, pytorch: options.quick ? 50 : batchesPerEpoch };
  const threads = options.threads;
  const impls: Impl[] = ['js', 'wasm-simd', ...(threads > 1 ? ['simd-threads' as const] : []), 'simd-copying', ...(withTorch ? ['pytorch' as const] : [])];
  say(options, `data: ${data.name}, ${data.count} samples, batch ${BATCH}; ${rounds} interleaved round(s); batches timed per round: ${impls.map((i) => `${i} ${batchesOf[i]}`).join(', ')}${withTorch ? '' : ' (no PyTorch: no python3 imports torch, or no IDX data)'}`);

  // Warm-up outside the timing: JIT and WebAssembly tier-up.
  const warm = firstBatches(20);
  timeSparsegrad(warm, 'js');
  timeSparsegrad(warm, 'wasm-simd');
  if (threads > 1) timeSparsegrad(warm, 'wasm-simd', threads);
  withSimdInstance(copying, () => timeSparsegrad(warm, 'wasm-simd'));

  let torchVersion = '';
  const perBatch: Record<Impl, number[]> = { js: [], 'wasm-simd': [], 'simd-threads': [], 'simd-copying': [], pytorch: [] };
  for (let round = 0; round < rounds; round++) {
    for (let s = 0; s < impls.length; s++) {
      const impl = impls[(s + round) % impls.length]!;
      let seconds: number;
      if (impl === 'js') seconds = timeSparsegrad(sets.js, 'js');
      else if (impl === 'wasm-simd') seconds = timeSparsegrad(sets.simd, 'wasm-simd');
      else if (impl === 'simd-threads') seconds = timeSparsegrad(sets.simd, 'wasm-simd', threads);
      else if (impl === 'simd-copying') seconds = withSimdInstance(copying, () => timeSparsegrad(sets.copy, 'wasm-simd'));
      else {
        const torch = timeTorch(python!, options.quick ? batchesOf.pytorch : 0);
        seconds = torch.seconds;
        torchVersion = torch.version;
      }
      perBatch[impl].push(seconds / batchesOf[impl]);
      say(options, `  round ${round + 1}: ${impl} ${(seconds / batchesOf[impl] * batchesPerEpoch).toFixed(2)} s/epoch`);
    }
  }

  const rows: Record<string, unknown>[] = impls.map((impl) => {
    const epochs = perBatch[impl].map((s) => s * batchesPerEpoch);
    return {
      impl: impl === 'pytorch' ? `pytorch ${torchVersion} (1 thread)` : impl === 'simd-threads' ? `wasm-simd, ${threads} threads` : impl,
      batchesTimed: batchesOf[impl],
      msPerBatch: median(perBatch[impl]) * 1000,
      secondsPerEpoch: median(epochs),
      min: Math.min(...epochs),
      max: Math.max(...epochs),
      measured: batchesOf[impl] === batchesPerEpoch ? 'full epoch' : `scaled from ${batchesOf[impl]} batches`,
    };
  });
  if (tfjsBatches > 0) {
    const tfPerBatch = await timeTfjs(data, tfjsBatches);
    rows.push({ impl: 'tfjs-layers-cpu', batchesTimed: tfjsBatches, msPerBatch: tfPerBatch * 1000, secondsPerEpoch: tfPerBatch * batchesPerEpoch, measured: `scaled from ${tfjsBatches} batches, 1 run` });
  }
  const ratio = (a: Impl, b: Impl): number => median(perBatch[a].map((x, i) => perBatch[b][i]! / x));
  const summary = {
    simdSpeedupOverJs: ratio('wasm-simd', 'js'),
    simdVsPytorch: withTorch ? 1 / ratio('wasm-simd', 'pytorch') : null,
    threads,
    threadSpeedup: threads > 1 ? ratio('simd-threads', 'wasm-simd') : null,
    threadSpeedupRange: threads > 1 ? minMax(perBatch['simd-threads'].map((x, i) => perBatch['wasm-simd'][i]! / x)) : null,
    copyCostMsPerBatch: median(perBatch['simd-copying'].map((x, i) => (x - perBatch['wasm-simd'][i]!) * 1000)),
  };
  say(options, '\n' + formatTable(rows, ['impl', 'batchesTimed', 'msPerBatch', 'secondsPerEpoch', 'min', 'max', 'measured']));
  say(options, `wasm-simd is ${summary.simdSpeedupOverJs.toFixed(2)}× faster than js (target ≥ 5×)`);
  if (summary.threadSpeedup !== null) say(options, `wasm-simd on ${threads} threads is ${summary.threadSpeedup.toFixed(2)}× (${summary.threadSpeedupRange!.map((v) => v.toFixed(2)).join('–')}) its one-thread speed (target ≥ 1.6× with 2 threads)`);
  if (summary.simdVsPytorch !== null) say(options, `wasm-simd takes ${summary.simdVsPytorch.toFixed(2)}× PyTorch's time on one thread (target ≤ 1.5×)`);
  say(options, `copies between JavaScript and WebAssembly memory would cost ${summary.copyCostMsPerBatch.toFixed(2)} ms per batch (simd-copying − wasm-simd)`);
  closeThreads();
  return { data: data.name, samples: data.count, batch: BATCH, rounds, rows, ...summary };
}
