import { ConfigError, UnsupportedError } from '../../errors.ts';
import { resolveThreads } from '../../wasm/threads.ts';
import { STRATEGIES, type InferenceBackend, type InferenceStrategy } from './backend.ts';
import { checkLayers, type AnyInferenceLayer, type CsrInferenceLayer, type InferenceLayer } from './layers.ts';
import type { InferenceModel } from './model.ts';
import { checkBackend, defaultBackendName, findInferenceBackend, inferenceBackends, type BackendModel, type BackendName } from './registry.ts';

/** Options of compileInference (and compileModel). */
export interface CompileOptions {
  /**
   * Which kernels run the model: a backend name ('js', the TypeScript kernels; 'wasm-simd', WebAssembly SIMD
   * kernels; or one registered with registerInferenceBackend), or a backend object. Default: the backend of
   * the `withBackend` scope, else DEFAULT_BACKEND, where this engine supports it, else 'js'.
   */
  backend?: BackendName | (string & {}) | InferenceBackend;
  /** 'auto' (default: the backend's cost model), 'autotune', or one forced kernel; each backend lists its own. */
  strategy?: InferenceStrategy;
  /** Batch size to build a plan for right away (others are built on first use). Default 1. */
  batch?: number;
  /** How many batch sizes keep their buffers at once (oldest plan dropped first). Default 8. */
  maxPlans?: number;
  /**
   * Threads a predict may split a large batch over (default 1): 'wasm-simd' and 'wasm-int8' split their 16-sample
   * panels between them (same results as one thread); small batches stay on one. Where threads cannot run (see
   * resolveThreads) the model uses one; `model.threads` says how many it got. ConfigError outside 1…MAX_THREADS.
   */
  threads?: number;
}

/**
 * Compiles `layers` (input first; each with a dense `weight`, or a `csr` weight that stays sparse) into an
 * inference model on the chosen backend. A network may start with convolution layers (`kind: 'conv2d'`, see
 * ConvInferenceLayer; each with its pooling fused) and continue with fully connected ones. Validates every shape, the layer chain and the weights (finite),
 * and copies them, so later changes to the caller's arrays do not reach the model. Knows no backend's kernels: it checks the options against the backend's contract
 * (inference/backend.ts) and hands it the validated layers.
 * Throws ConfigError (unknown backend or strategy, bad maxPlans, threads or layers), UnsupportedError (a backend this
 * engine cannot run, naming the ones it can, or one without convolutions for a conv layer), ShapeError and NonFiniteError (layers).
 *
 * @example
 * ```ts
 * import { compileInference } from 'sparsegrad';
 *
 * // y = relu(x·W1ᵀ + b1)·W2ᵀ for a 4 → 3 → 2 network; weights are [out × in], row-major.
 * const model = compileInference([
 *   { inFeatures: 4, outFeatures: 3, weight: new Float32Array(12).fill(0.1), bias: new Float32Array(3), activation: 'relu' },
 *   { inFeatures: 3, outFeatures: 2, weight: new Float32Array(6).fill(1), bias: null, activation: 'none' },
 * ], { backend: 'js' });
 * console.log(Array.from(model.predict(new Float32Array([1, 2, 3, 4]), 1))); // [ 3, 3 ] (up to rounding)
 * ```
 */
export function compileInference<B extends BackendName>(layers: readonly (InferenceLayer | CsrInferenceLayer)[], options: CompileOptions & { backend: B }): BackendModel<B>;
export function compileInference(layers: readonly AnyInferenceLayer[], options?: CompileOptions): InferenceModel;
export function compileInference(layers: readonly AnyInferenceLayer[], options: CompileOptions = {}): InferenceModel {
  const backend = resolveBackend(options.backend);
  const strategy = options.strategy ?? 'auto';
  if (!(STRATEGIES as readonly string[]).includes(strategy)) throw new ConfigError(`compileInference: unknown strategy '${String(strategy)}' (${STRATEGIES.join(', ')})`);
  if (!backend.strategies.includes(strategy)) {
    throw new ConfigError(`compileInference: strategy '${strategy}' is not available with backend '${backend.name}' (${backend.strategies.join(', ')})`);
  }
  const maxPlans = options.maxPlans ?? 8;
  if (!Number.isSafeInteger(maxPlans) || maxPlans < 1) throw new ConfigError(`compileInference: maxPlans must be a positive integer, got ${maxPlans}`);
  if (!backend.supported()) {
    const usable = inferenceBackends().filter((b) => b.supported()).map((b) => `'${b.name}'`);
    throw new UnsupportedError(`compileInference: backend '${backend.name}' needs ${backend.requirement}, which this JavaScript engine does not provide; use backend ${usable.join(' or ')}`);
  }
  const { threads } = resolveThreads(options.threads ?? 1);
  const checked = checkLayers(layers, 'compileInference');
  const convCount = checked.filter((layer) => layer.conv !== undefined).length; // checkLayers puts them first
  let model: InferenceModel;
  if (convCount === 0) model = backend.compile(checked, { strategy, maxPlans, threads });
  else if (backend.compileConv === undefined) throw new UnsupportedError(`compileInference: backend '${backend.name}' does not run convolution layers`);
  else model = backend.compileConv(checked.slice(0, convCount), checked.slice(convCount), { strategy, maxPlans, threads });
  model.prepare(options.batch ?? 1);
  return model;
}

function resolveBackend(backend: CompileOptions['backend']): InferenceBackend {
  if (backend === undefined) return findInferenceBackend(defaultBackendName());
  if (typeof backend === 'string') return findInferenceBackend(backend, 'compileInference');
  checkBackend(backend, 'compileInference');
  return backend;
}
