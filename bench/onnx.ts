/**
 * Inference benchmark on LeNet-300-100 (784-300-100-10, ReLU): µs per forward call at batch 1 and 64.
 *
 *   tsx bench/run.ts onnx [--quick] [--json] [sparsity=0,0.9] [batch=1,64] [input=noise]
 *
 * Engines are a list of `{ name, prepare(model, batch) }` (ENGINES below): `prepare` builds whatever the
 * engine needs once (session, compiled kernels, input buffers) and returns the call to time: onnxruntime,
 * sparsegrad on its TypeScript kernels, and sparsegrad on its WebAssembly SIMD kernels (backends 'wasm-simd' and
 * 'wasm-int8').
 *
 * The model has random He-normal weights (seeded Rng); for sparsity s, a random exact fraction s of every
 * weight matrix is set to zero (biases kept). onnxruntime runs dense kernels, so its time should not
 * depend on s; its rows are the reference that sparse engines are compared against at the same s.
 *
 * Timing is a hand-rolled calibrated loop rather than benchmark.js (bench/harness.ts), because benchmark.js
 * handles async functions poorly and `session.run` is async: warm-up calls, then the inner loop count is
 * doubled until one loop takes ≥ 50 ms, then that loop is timed 7 times and the median µs/call is kept.
 * A call that returns no Promise is timed in a plain loop, without an `await` per call.
 *
 * onnxruntime-node: CPU execution provider, intraOpNumThreads 1, interOpNumThreads 1, graphOptimizationLevel
 * 'all'; the session is created from the bytes of `exportOnnx`; the timed call is `await session.run(feeds)`
 * plus reading the output's `.data`.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { exportOnnx } from '../src/io/onnx/export.ts';
import type { ModelSpec } from '../src/nn/spec.ts';
import { loadDigits } from '../src/node/data.ts';
import { Rng } from '../src/tensor/rng.ts';
import { compileInference, wasmSimdSupported, type InferenceLayer } from '../src/sparse/index.ts';
import { consume, formatTable, say, type BenchOptions } from './harness.ts';

// ---- models --------------------------------------------------------------------------------------------

export interface BenchModel {
  /** Row label, e.g. 'lenet-300-100'. */
  readonly name: string;
  readonly spec: ModelSpec;
  /** `layers.<i>.weight` [out, in] and `layers.<i>.bias` [out], with pruned weights already zero. */
  readonly params: Map<string, Float32Array>;
  /** Fraction of zero weights in every weight matrix. */
  readonly sparsity: number;
  readonly inFeatures: number;
  readonly outFeatures: number;
}

export const LENET_300_100: ModelSpec = {
  layers: [
    { type: 'linear', inFeatures: 784, outFeatures: 300, bias: true },
    { type: 'relu' },
    { type: 'linear', inFeatures: 300, outFeatures: 100, bias: true },
    { type: 'relu' },
    { type: 'linear', inFeatures: 100, outFeatures: 10, bias: true },
  ],
};

/** Random He-normal weights, then exactly round(s·size) entries of each weight matrix set to zero. */
export function makeLenet(sparsity: number, seed = 1): BenchModel {
  const rng = new Rng(seed);
  const params = new Map<string, Float32Array>();
  LENET_300_100.layers.forEach((layer, i) => {
    if (layer.type !== 'linear') return;
    const w = new Float32Array(layer.outFeatures * layer.inFeatures);
    const std = Math.sqrt(2 / layer.inFeatures);
    for (let j = 0; j < w.length; j++) w[j] = rng.normal() * std;
    const order = rng.shuffle(Array.from(w.keys()));
    const zeros = Math.round(sparsity * w.length);
    for (let j = 0; j < zeros; j++) w[order[j]!] = 0;
    const b = new Float32Array(layer.outFeatures);
    for (let j = 0; j < b.length; j++) b[j] = rng.normal() * 0.1;
    params.set(`layers.${i}.weight`, w);
    params.set(`layers.${i}.bias`, b);
  });
  return { name: 'lenet-300-100', spec: LENET_300_100, params, sparsity, inFeatures: 784, outFeatures: 10 };
}

/** Which inputs the engines get: real digits (the workload; ~80 % background zeros) or uniform noise. */
let inputKind: 'digits' | 'noise' = 'digits';

/**
 * A [batch, features] input: the first `batch` images of the built-in digits test split (784 features),
 * or seeded uniform noise in [0, 1) (no zeros at all) with `input=noise`. Both engines get the same one.
 */
export function makeInput(batch: number, features: number, seed = 2): Float32Array {
  if (inputKind === 'digits' && features === 784) return loadDigits().test.x.slice(0, batch * features);
  const rng = new Rng(seed);
  const x = new Float32Array(batch * features);
  for (let j = 0; j < x.length; j++) x[j] = rng.uniform();
  return x;
}

// ---- engines -------------------------------------------------------------------------------------------

export interface PreparedCall {
  /** One forward pass of `batch` rows, including reading the output values. */
  readonly call: () => void | Promise<void>;
  /** Frees what `prepare` built. */
  readonly dispose?: () => void | Promise<void>;
}

export interface InferenceEngine {
  readonly name: string;
  prepare(model: BenchModel, batch: number): Promise<PreparedCall>;
}

const onnxruntimeEngine: InferenceEngine = {
  name: 'onnxruntime-node',
  async prepare(model, batch) {
    const session = await InferenceSession.create(exportOnnx(model.spec, model.params), {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const feeds = { x: new Tensor('float32', makeInput(batch, model.inFeatures), [batch, model.inFeatures]) };
    return {
      call: async () => {
        const results = await session.run(feeds);
        consume(results['logits']!.data as Float32Array);
      },
      dispose: () => session.release(),
    };
  },
};

/** The model as compileInference layers (weights already pruned to zero). */
function inferenceLayersOf(model: BenchModel): InferenceLayer[] {
  const layers: InferenceLayer[] = [];
  model.spec.layers.forEach((layer, i) => {
    if (layer.type === 'linear') {
      layers.push({
        weight: model.params.get(`layers.${i}.weight`)!,
        bias: layer.bias ? model.params.get(`layers.${i}.bias`)! : null,
        inFeatures: layer.inFeatures,
        outFeatures: layer.outFeatures,
        activation: 'none',
      });
    } else if (layer.type === 'relu' || layer.type === 'sigmoid' || layer.type === 'tanh') {
      layers[layers.length - 1]!.activation = layer.type;
    }
  });
  return layers;
}

/** sparsegrad's own compiled inference (src/sparse): per-layer dense or sparse kernels by the cost model. */
function sparsegradEngine(backend: 'js' | 'wasm-simd' | 'wasm-int8'): InferenceEngine {
  return {
    name: backend === 'js' ? 'sparsegrad' : `sparsegrad-${backend}`,
    async prepare(model, batch) {
      const compiled = compileInference(inferenceLayersOf(model), { backend, strategy: 'auto', batch });
      const x = makeInput(batch, model.inFeatures);
      return { call: () => void compiled.predict(x, batch) };
    },
  };
}

/**
 * Every engine this suite times, in table order (the SIMD backends only where the engine has WebAssembly SIMD).
 * 'wasm-int8' quantizes the float weights to int8 per row when it compiles them (post-training, what
 * `quantize --method int8 --epochs 0` stores): issue 14's "quantized model against onnxruntime's dense float one".
 */
export const ENGINES: InferenceEngine[] = [onnxruntimeEngine, sparsegradEngine('js'), ...(wasmSimdSupported() ? [sparsegradEngine('wasm-simd'), sparsegradEngine('wasm-int8')] : [])];

// ---- timing --------------------------------------------------------------------------------------------

export interface TimerSettings {
  warmupCalls: number;
  /** The inner loop is lengthened until one loop takes at least this long. */
  minLoopMs: number;
  /** Timed loops; the median is reported. */
  reps: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median microseconds per call of `fn`, sync or async (see the file header). */
export async function timeCall(fn: () => void | Promise<void>, settings: TimerSettings): Promise<number> {
  const first = fn();
  const isAsync = first instanceof Promise;
  if (isAsync) await first;
  const loop = isAsync
    ? async (n: number): Promise<number> => {
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await fn();
        return performance.now() - t0;
      }
    : (n: number): Promise<number> => {
        const t0 = performance.now();
        for (let i = 0; i < n; i++) void fn();
        return Promise.resolve(performance.now() - t0);
      };
  await loop(settings.warmupCalls);
  let n = 1;
  while ((await loop(n)) < settings.minLoopMs) n *= 2;
  const perCall: number[] = [];
  for (let r = 0; r < settings.reps; r++) perCall.push(((await loop(n)) * 1000) / n);
  return median(perCall);
}

// ---- suite ---------------------------------------------------------------------------------------------

export interface OnnxBenchRow {
  engine: string;
  model: string;
  sparsity: number;
  batch: number;
  us: number;
}

function listArg(args: readonly string[], key: string, fallback: number[]): number[] {
  const arg = args.find((a) => a.startsWith(`${key}=`));
  if (arg === undefined) return fallback;
  const values = arg.slice(key.length + 1).split(',').map(Number);
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) throw new Error(`bad ${key}= list: ${arg}`);
  return values;
}

export async function run(options: BenchOptions): Promise<{ input: string; rows: OnnxBenchRow[]; ratios: Record<string, number | string>[] }> {
  const sparsities = listArg(options.args, 'sparsity', options.quick ? [0.95] : [0, 0.9, 0.95, 0.98]);
  const batches = listArg(options.args, 'batch', [1, 64]);
  if (options.args.includes('input=noise')) inputKind = 'noise';
  say(options, `inputs: ${inputKind === 'digits' ? 'built-in digits test images' : 'uniform noise'}`);
  const settings: TimerSettings = options.quick ? { warmupCalls: 5, minLoopMs: 10, reps: 3 } : { warmupCalls: 50, minLoopMs: 50, reps: 7 };
  if (sparsities.some((s) => s < 0 || s >= 1)) throw new Error('sparsity must be in [0, 1)');
  if (batches.some((b) => !Number.isInteger(b) || b < 1)) throw new Error('batch must be a positive integer');

  const rows: OnnxBenchRow[] = [];
  for (const sparsity of sparsities) {
    const model = makeLenet(sparsity);
    for (const batch of batches) {
      for (const engine of ENGINES) {
        const prepared = await engine.prepare(model, batch);
        try {
          const us = await timeCall(prepared.call, settings);
          rows.push({ engine: engine.name, model: model.name, sparsity, batch, us });
          say(options, `${engine.name} ${model.name} s=${sparsity} batch=${batch}: ${us.toFixed(1)} µs/call`);
        } finally {
          await prepared.dispose?.();
        }
      }
    }
  }
  say(options, '\n' + formatTable(rows as unknown as Record<string, unknown>[], ['engine', 'model', 'sparsity', 'batch', 'us']));
  // onnxruntime densifies sparse weights, so its time at any sparsity is its dense time: compare sparsegrad
  // at each sparsity with onnxruntime on the same model in the same run.
  const ratios = rows
    .filter((r) => r.engine.startsWith('sparsegrad'))
    .map((r) => {
      const ort = rows.find((o) => o.engine === 'onnxruntime-node' && o.sparsity === r.sparsity && o.batch === r.batch)!;
      return { engine: r.engine, sparsity: r.sparsity, batch: r.batch, sparsegradUs: r.us, onnxruntimeUs: ort.us, speedupOverOnnxruntime: ort.us / r.us };
    });
  say(options, '\n' + formatTable(ratios, ['engine', 'sparsity', 'batch', 'sparsegradUs', 'onnxruntimeUs', 'speedupOverOnnxruntime']));
  return { input: inputKind, rows, ratios };
}
