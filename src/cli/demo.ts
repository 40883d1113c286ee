import os from 'node:os';
import type { DataSplit } from '../data/dataset.ts';
import { modelToRecord } from '../io/model-adapter.ts';
import { serializeModel } from '../io/model-file.ts';
import { cloneModel } from '../nn/clone.ts';
import { buildModel, mlp } from '../nn/build.ts';
import type { ModelSpec } from '../nn/spec.ts';
import { Adam } from '../nn/optim/adam.ts';
import type { Sequential } from '../nn/sequential.ts';
import { evaluate, fit, type EpochStats, type ProgressEvent } from '../nn/train.ts';
import { compileModel } from '../compile/index.ts';
import type { PruneConfig } from '../prune/config.ts';
import { runPruning } from '../prune/run.ts';
import { medianSecondsPerCall } from '../node/timer.ts';
import { DEFAULT_BACKEND, resolveBackend, withBackend } from '../tensor/backend.ts';
import { withThreads } from '../tensor/threads.ts';
import { Rng } from '../tensor/rng.ts';
import { compressionStages, quantizeAndFineTune, type CompressionStages, type QuantizeMethod } from '../quantize/index.ts';

/*
 * The main job, end to end: train LeNet-300-100 (or the network of `architecture`, e.g. LeNet-5) on the built-in digits, prune it several ways at several
 * sparsities, compile every model for sparse inference, time dense vs sparse inference at batch 1 and 64,
 * and collect everything the report shows. Pure pipeline: files and terminal output are the caller's.
 */

export interface DemoOptions {
  /**
   * The network to train: its spec and a name for the report (default LeNet-300-100, 784-300-100-10).
   * Its input must match the data's features and its output the classes (the caller checks).
   */
  architecture?: { readonly name: string; readonly spec: ModelSpec };
  epochs: number;
  pruneEpochs: number;
  sparsities: readonly number[];
  seed: number;
  /** Milliseconds per timing sample (smaller = faster demo, noisier timings). */
  timingMs: number;
  /** Kernels for training and pruning and for the timed inference, dense and sparse alike (default DEFAULT_BACKEND, where it runs). */
  backend?: 'js' | 'wasm-simd';
  /** Threads for training, pruning and the timed inference on wasm-simd (default 1; results do not depend on it). */
  threads?: number;
  /**
   * Also quantize every pruned model (a copy) and fine-tune it for `epochs` at Adam rate 1e-4, for the
   * report's compression axis (issue 14); absent: no quantization.
   */
  quantize?: { readonly method: QuantizeMethod; readonly bits?: number; readonly layerBits?: Readonly<Record<string, number>>; readonly float16?: boolean; readonly epochs: number };
  onStage?: (text: string) => void;
  onProgress?: (event: ProgressEvent, label: string) => void;
  onEpoch?: (stats: EpochStats, label: string) => void;
}

export interface DemoMethod {
  readonly id: string;
  readonly label: string;
  readonly config: Pick<PruneConfig, 'method' | 'criterion' | 'options'>;
}

/** Gradual magnitude pruning (the strong baseline) and gradient-based pruning (the mission's subject). */
export const DEMO_METHODS: readonly DemoMethod[] = [
  { id: 'gradual-magnitude', label: 'gradual, magnitude |w|', config: { method: 'gradual', criterion: 'magnitude' } },
  { id: 'iterative-gradient', label: 'iterative, gradient |∂L/∂w|', config: { method: 'iterative', criterion: 'gradient', options: { rounds: 2 } } },
  { id: 'gradual-taylor', label: 'gradual, Taylor |w·∂L/∂w|', config: { method: 'gradual', criterion: 'taylor' } },
];

export interface DemoRun {
  readonly method: string;
  readonly label: string;
  readonly targetSparsity: number;
  readonly sparsity: number;
  readonly testAccuracy: number;
  readonly fileBytes: number;
  readonly latency: readonly LatencyRow[];
  readonly trainSeconds: number;
  /** With `DemoOptions.quantize`: the file size after each stage and the quantized copy's test accuracy. */
  readonly compression?: { readonly stages: CompressionStages; readonly testAccuracy: number };
}

export interface LatencyRow {
  readonly batch: number;
  readonly denseUs: number;
  readonly sparseUs: number;
  readonly speedup: number;
  readonly ideal: number;
  readonly kernels: string;
}

export interface DemoResult {
  readonly machine: { cpu: string; cores: number; node: string; platform: string };
  /** The options that ran; `architecture` is the network's name (LeNet-300-100 by default). */
  readonly options: Omit<DemoOptions, 'onStage' | 'onProgress' | 'onEpoch' | 'architecture'> & { readonly architecture: string };
  readonly dense: { testAccuracy: number; testLoss: number; fileBytes: number; secondsPerEpoch: number; history: { epoch: number; loss: number; trainAccuracy: number }[]; latency: LatencyRow[] };
  readonly runs: DemoRun[];
  readonly seconds: number;
}

export const DEMO_BATCHES = [1, 64] as const;

export function runDemo(data: DataSplit, options: DemoOptions): DemoResult {
  const started = Date.now();
  const stage = (text: string): void => options.onStage?.(text);
  const architecture = options.architecture?.name ?? 'LeNet-300-100';
  stage(`training ${architecture} on ${data.train.name} (${data.train.count} samples) for ${options.epochs} epochs`);
  const model = options.architecture === undefined
    ? mlp([data.train.features, 300, 100, data.train.numClasses], { seed: options.seed })
    : buildModel(options.architecture.spec, new Rng(options.seed));
  const trainStarted = Date.now();
  const trainingBackend = options.backend ?? DEFAULT_BACKEND;
  // Inference is timed on the kernels that really run here (SIMD falls back to js without WebAssembly SIMD).
  const inferenceBackend = resolveBackend(trainingBackend).backend;
  const threads = options.threads ?? 1;
  const history = fit(model, data.train, {
    backend: trainingBackend,
    threads,
    epochs: options.epochs, batchSize: 128, optimizer: new Adam(model.parameters(), { lr: 1e-3 }), seed: options.seed,
    ...(options.onProgress ? { onProgress: (e: ProgressEvent) => options.onProgress!(e, 'dense') } : {}),
    ...(options.onEpoch ? { onEpoch: (s: EpochStats) => options.onEpoch!(s, 'dense') } : {}),
  });
  const secondsPerEpoch = (Date.now() - trainStarted) / 1000 / options.epochs;
  const denseTest = evaluate(model, data.test);
  stage(`dense model: test accuracy ${(denseTest.accuracy * 100).toFixed(2)}%; timing dense inference`);
  const sample = sampleInputs(data, Math.max(...DEMO_BATCHES), options.seed);
  const denseLatency = measureLatency(model, sample, options.timingMs, 0, inferenceBackend, threads);

  const runs: DemoRun[] = [];
  for (const method of DEMO_METHODS) {
    for (const sparsity of options.sparsities) {
      const label = `${method.id}@${sparsity}`;
      stage(`pruning: ${method.label} to ${(sparsity * 100).toFixed(0)}% (${options.pruneEpochs} epochs)`);
      const copy = cloneModel(model);
      const pruneStarted = Date.now();
      const result = withBackend(trainingBackend, () => withThreads(threads, () => runPruning(copy, { train: data.train }, {
        ...method.config, sparsity, scope: 'global', granularity: { kind: 'weight' }, epochs: options.pruneEpochs, batchSize: 128, lr: 1e-3, seed: options.seed,
      }, {
        ...(options.onProgress ? { onProgress: (e: ProgressEvent) => options.onProgress!(e, label) } : {}),
        ...(options.onEpoch ? { onEpoch: (s: EpochStats) => options.onEpoch!(s, label) } : {}),
      })));
      const trainSeconds = (Date.now() - pruneStarted) / 1000;
      let compression: DemoRun['compression'];
      if (options.quantize !== undefined) {
        const { method: quantizer, bits, layerBits, float16, epochs } = options.quantize;
        stage(`quantizing: ${quantizer}${bits === undefined ? '' : ` ${bits}-bit`}${float16 === true ? ', f16' : ''}, ${epochs} fine-tuning epoch${epochs === 1 ? '' : 's'}`);
        const quantized = cloneModel(result.model);
        const { quantization } = withThreads(threads, () => quantizeAndFineTune(quantized, data.train, {
          method: quantizer, ...(bits === undefined ? {} : { bits }), ...(layerBits === undefined ? {} : { layerBits }), float16: float16 === true, epochs, lr: 1e-4, seed: options.seed, fit: { backend: trainingBackend },
        }));
        compression = { stages: compressionStages(quantized, quantization), testAccuracy: evaluate(quantized, data.test).accuracy };
      }
      runs.push({
        method: method.id,
        label: method.label,
        targetSparsity: sparsity,
        sparsity: result.sparsity,
        testAccuracy: evaluate(result.model, data.test).accuracy,
        fileBytes: serializeModel(modelToRecord(result.model), { encoding: 'auto' }).length,
        latency: measureLatency(result.model, sample, options.timingMs, result.sparsity, inferenceBackend, threads),
        trainSeconds,
        ...(compression === undefined ? {} : { compression }),
      });
    }
  }
  return {
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.arch()}` },
    options: {
      architecture,
      epochs: options.epochs, pruneEpochs: options.pruneEpochs, sparsities: options.sparsities, seed: options.seed, timingMs: options.timingMs, backend: inferenceBackend, threads: history.threads,
      ...(options.quantize === undefined ? {} : { quantize: options.quantize }),
    },
    dense: {
      testAccuracy: denseTest.accuracy,
      testLoss: denseTest.loss,
      fileBytes: serializeModel(modelToRecord(model), { encoding: 'dense' }).length,
      secondsPerEpoch,
      history: history.epochs.map((e) => ({ epoch: e.epoch, loss: e.loss, trainAccuracy: e.accuracy })),
      latency: denseLatency,
    },
    runs,
    seconds: (Date.now() - started) / 1000,
  };
}

/** A fixed random batch of test images to time inference on. */
function sampleInputs(data: DataSplit, count: number, seed: number): Float32Array {
  const rng = new Rng(seed + 1);
  const f = data.test.features;
  const x = new Float32Array(count * f);
  for (let i = 0; i < count; i++) {
    const src = rng.int(data.test.count);
    x.set(data.test.x.subarray(src * f, (src + 1) * f), i * f);
  }
  return x;
}

/** Dense vs compiled sparse inference on the same backend, same weights, same inputs. */
function measureLatency(model: Sequential, sample: Float32Array, timingMs: number, sparsity: number, backend: 'js' | 'wasm-simd', threads: number): LatencyRow[] {
  const dense = compileModel(model, { backend, strategy: 'dense', threads });
  const sparse = compileModel(model, { backend, strategy: 'auto', threads });
  return DEMO_BATCHES.map((batch) => {
    const x = sample.subarray(0, batch * (sample.length / Math.max(...DEMO_BATCHES)));
    const denseSeconds = medianSecondsPerCall(() => dense.predict(x, batch), { minMs: timingMs });
    const sparseSeconds = medianSecondsPerCall(() => sparse.predict(x, batch), { minMs: timingMs });
    return {
      batch,
      denseUs: denseSeconds * 1e6,
      sparseUs: sparseSeconds * 1e6,
      speedup: denseSeconds / sparseSeconds,
      ideal: 1 / (1 - sparsity),
      kernels: sparse.kernels(batch).join(','),
    };
  });
}
