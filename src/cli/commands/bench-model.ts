import { ConfigError, UnsupportedError } from '../../errors.ts';
import { recordLayers } from '../../infer/record-layers.ts';
import { csrToDense, type ModelRecord } from '../../io/model-file.ts';
import { exportOnnx } from '../../io/onnx/export.ts';
import { loadModelFile } from '../../node/model-io.ts';
import { compileInference, findInferenceBackend, inferenceBackends, type InferenceModel } from '../../sparse/index.ts';
import { Rng } from '../../tensor/rng.ts';
import { listFlag, numberFlag, numberListFlag, optionalString, parseCommand, stringFlag, UsageError } from '../args.ts';
import { loadData } from '../common.ts';
import { interleavedRounds, spread, type Contender } from '../interleaved.ts';
import { createOutput, table, type Output } from '../output.ts';

/** `sparsegrad bench model --help`. */
export const BENCH_MODEL_HELP = `usage: sparsegrad bench model --model FILE [options]

Times your own model: the same weights on dense kernels against the compiled sparse model (the kernels the
cost model picks per layer), per backend and batch size, and onnxruntime-node with --onnx. Results are the
median and min–max of interleaved rounds (every contender once per round, so a busy moment of the machine
hits all alike); speedups are medians of per-round ratios. Dense and sparse answers are checked to agree
before anything is timed. Works from an installed package (npm install sparsegrad): no source checkout.

  --model FILE        a sparsegrad model file (sparsegrad import turns PyTorch and ONNX models into one)
  --batch LIST        batch sizes, default 1,64
  --backend LIST      backends to time, default every one this engine runs (${inferenceBackends().map((b) => b.name).join(', ')})
  --onnx              also time onnxruntime-node (needs it installed: npm install onnxruntime-node)
  --rounds N          interleaved rounds, 5 to 100 (default 5)
  --data SPEC         inputs: the test images of SPEC (digits, fashion-mnist or an IDX directory);
                      default seeded uniform noise in [0, 1)
  --min-speedup X     exit with code 4 when the median sparse-over-dense speedup of any backend and batch
                      is below X
  --json              print one JSON object as the last stdout line
`;

/** How long one measurement of one contender takes, about (the loop is calibrated to it). */
const MEASUREMENT_MS = 25;

interface Row { backend: string; batch: number; engine: string; medianUs: number; minUs: number; maxUs: number }
interface Speedup { backend: string; batch: number; kernels: string[]; median: number; min: number; max: number; overOnnxruntime?: number }

/** `sparsegrad bench model`: times a model file (see BENCH_MODEL_HELP); sets exit code 4 for a failed --min-speedup. */
export async function benchModelCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, {
    model: { type: 'string' }, batch: { type: 'string' }, backend: { type: 'string' }, onnx: { type: 'boolean' }, rounds: { type: 'string' },
    data: { type: 'string' }, 'min-speedup': { type: 'string' }, json: { type: 'boolean' },
  });
  const out = createOutput({ json: values['json'] === true, quiet: false });
  const path = stringFlag(values, 'model');
  const batches = numberListFlag(values, 'batch', [1, 64]);
  for (const b of batches) if (!Number.isSafeInteger(b) || b < 1 || b > 4096) throw new UsageError(`--batch sizes must be integers from 1 to 4096, got ${b}`);
  const rounds = numberFlag(values, 'rounds', 5, { min: 5, max: 100, integer: true });
  const minSpeedup = values['min-speedup'] === undefined ? null : numberFlag(values, 'min-speedup', undefined, { min: 0, exclusiveMin: true });
  const backends = listFlag(values, 'backend', inferenceBackends().filter((b) => b.supported()).map((b) => b.name));
  for (const name of backends) {
    const backend = (() => {
      try {
        return findInferenceBackend(name, '--backend');
      } catch (error) {
        throw error instanceof ConfigError ? new UsageError(error.message) : error;
      }
    })();
    if (!backend.supported()) throw new UnsupportedError(`--backend ${name} needs ${backend.requirement}, which this JavaScript engine does not provide`);
  }
  const onnx = values['onnx'] === true ? await loadOnnxRuntime() : null;

  const record = await loadModelFile(path);
  const layers = recordLayers(record);
  const probe = compileInference(layers, { backend: 'js' });
  const maxBatch = Math.max(...batches);
  const { x, input } = inputs(optionalString(values, 'data'), probe.inFeatures, maxBatch, out);
  out.note(`${path}: ${probe.inFeatures} → ${probe.outFeatures}, inputs: ${input}; ${rounds} interleaved rounds per batch size`);

  const rows: Row[] = [];
  const speedups: Speedup[] = [];
  for (const batch of batches) {
    const xb = x.subarray(0, batch * probe.inFeatures);
    const contenders: Contender[] = [];
    const compiled = new Map<string, { dense: InferenceModel; sparse: InferenceModel }>();
    for (const backend of backends) {
      const dense = compileInference(layers, { backend, strategy: 'dense', batch });
      const sparse = compileInference(layers, { backend, strategy: 'auto', batch });
      checkAgreement(dense.predict(xb, batch).slice(), sparse.predict(xb, batch), `${backend}, batch ${batch}`);
      compiled.set(backend, { dense, sparse });
      contenders.push({ name: `${backend}/dense`, call: () => void dense.predict(xb, batch) }, { name: `${backend}/sparse`, call: () => void sparse.predict(xb, batch) });
    }
    const session = onnx === null ? null : await onnx.session(record, xb, batch, probe.inFeatures);
    try {
      if (session !== null) contenders.push({ name: 'onnxruntime', call: session.run });
      const times = await interleavedRounds(contenders, rounds, MEASUREMENT_MS);
      for (const { name, us } of times) {
        const [backend, engine] = name.includes('/') ? name.split('/') as [string, string] : ['onnxruntime-node', 'onnxruntime'];
        const { median, min, max } = spread(us);
        rows.push({ backend, batch, engine, medianUs: median, minUs: min, maxUs: max });
      }
      const usOf = (name: string): readonly number[] => times.find((t) => t.name === name)!.us;
      for (const backend of backends) {
        const dense = usOf(`${backend}/dense`);
        const sparse = usOf(`${backend}/sparse`);
        const ratio = spread(dense.map((d, r) => d / sparse[r]!));
        const speedup: Speedup = { backend, batch, kernels: compiled.get(backend)!.sparse.kernels(batch), ...ratio };
        if (session !== null) speedup.overOnnxruntime = spread(usOf('onnxruntime').map((o, r) => o / sparse[r]!)).median;
        speedups.push(speedup);
      }
    } finally {
      await session?.release();
    }
  }

  out.result(table(rows.map((r) => ({ ...r, 'median µs': r.medianUs.toFixed(1), 'min–max µs': `${r.minUs.toFixed(1)}–${r.maxUs.toFixed(1)}` })), ['backend', 'batch', 'engine', 'median µs', 'min–max µs']));
  out.result(table(speedups.map((s) => ({
    backend: s.backend, batch: s.batch, kernels: s.kernels.join(','), 'sparse/dense speedup': `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`,
    ...(s.overOnnxruntime === undefined ? {} : { 'vs onnxruntime': `${s.overOnnxruntime.toFixed(2)}×` }),
  })), ['backend', 'batch', 'kernels', 'sparse/dense speedup', ...(onnx === null ? [] : ['vs onnxruntime'])]));
  const result: Record<string, unknown> = { model: path, inFeatures: probe.inFeatures, outFeatures: probe.outFeatures, input, rounds, rows, speedups };
  if (minSpeedup !== null) {
    const failing = speedups.filter((s) => s.median < minSpeedup).map((s) => `${s.backend} batch ${s.batch}: ${s.median.toFixed(2)}×`);
    result['check'] = { minSpeedup, passed: failing.length === 0, failing };
    if (failing.length > 0) {
      out.note(`speedup below --min-speedup ${minSpeedup}: ${failing.join('; ')}`);
      process.exitCode = 4; // EXIT.benchCheck: the results are still printed, and the JSON says which rows failed
    } else out.note(`every speedup is at least ${minSpeedup}×`);
  }
  out.emitJson(result);
}

/** Inputs for the largest batch: test images of --data (when their size fits the model), else seeded noise. */
function inputs(data: string | undefined, features: number, batch: number, out: Output): { x: Float32Array; input: string } {
  if (data === undefined) {
    const rng = new Rng(1);
    return { x: Float32Array.from({ length: batch * features }, () => rng.uniform()), input: 'uniform noise in [0, 1), seed 1' };
  }
  const { test } = loadData(data, out);
  if (test.features !== features) throw new UsageError(`--data ${data} has ${test.features} features per sample; the model takes ${features}`);
  if (test.count < batch) throw new UsageError(`--data ${data} has ${test.count} test samples, fewer than the batch of ${batch}`);
  return { x: test.x.slice(0, batch * features), input: `${test.name} test images` };
}

/** Dense and sparse must answer alike before their speeds are compared (relative to the largest logit). */
function checkAgreement(dense: Float32Array, sparse: Float32Array, where: string): void {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < dense.length; i++) {
    scale = Math.max(scale, Math.abs(dense[i]!));
    worst = Math.max(worst, Math.abs(dense[i]! - sparse[i]!));
  }
  if (!(worst <= 1e-4 * Math.max(scale, 1e-30))) throw new Error(`bench model: dense and sparse logits differ by ${worst} (${where}); not timing a model that gives different answers`);
}

interface OnnxSession { run: () => Promise<unknown>; release: () => Promise<void> }

/** onnxruntime-node, when the user has it installed (not a dependency of sparsegrad). */
async function loadOnnxRuntime(): Promise<{ session(record: ModelRecord, x: Float32Array, batch: number, features: number): Promise<OnnxSession> }> {
  interface Ort {
    InferenceSession: { create(bytes: Uint8Array, options: object): Promise<{ run(feeds: object): Promise<Record<string, { data: unknown }>>; release(): Promise<void> }> };
    Tensor: new (type: string, data: Float32Array, dims: number[]) => object;
  }
  const name = 'onnxruntime-node';
  let ort: Ort;
  try {
    ort = (await import(name)) as Ort;
  } catch {
    throw new UsageError('--onnx needs onnxruntime-node, which is not installed here (npm install onnxruntime-node)');
  }
  return {
    async session(record, x, batch, features) {
      const params = new Map([...record.params].map(([n, p]) => [n, p.dense ?? csrToDense(p.csr!)] as const));
      const session = await ort.InferenceSession.create(exportOnnx(record.spec, params), { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
      const feeds = { x: new ort.Tensor('float32', x, [batch, features]) };
      return { run: async () => (await session.run(feeds))['logits']!.data, release: () => session.release() };
    },
  };
}
