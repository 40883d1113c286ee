import { ConfigError, UnsupportedError } from '../../errors.ts';
import { STRATEGIES, type InferenceBackend, type InferenceStrategy } from './backend.ts';
import { checkLayers, type CsrInferenceLayer, type InferenceLayer } from './layers.ts';
import type { InferenceModel } from './model.ts';
import { checkBackend, defaultBackendName, findInferenceBackend, inferenceBackends, type BackendModel, type BackendName } from './registry.ts';

/** Options of compileInference (and compileModel). */
export interface CompileOptions {
  /**
   * Which kernels run the model: a backend name ('js', the TypeScript kernels, the default; 'wasm-simd',
   * WebAssembly SIMD kernels; or one registered with registerInferenceBackend), or a backend object.
   */
  backend?: BackendName | (string & {}) | InferenceBackend;
  /** 'auto' (default: the backend's cost model), 'autotune', or one forced kernel; each backend lists its own. */
  strategy?: InferenceStrategy;
  /** Batch size to build a plan for right away (others are built on first use). Default 1. */
  batch?: number;
  /** How many batch sizes keep their buffers at once (oldest plan dropped first). Default 8. */
  maxPlans?: number;
}

/**
 * Compiles `layers` (input first; each with a dense `weight`, or a `csr` weight that stays sparse) into an
 * inference model on the chosen backend. Validates every shape, the layer chain and the weights (finite),
 * and copies them, so later changes to the caller's arrays do not reach the model. Knows no backend's kernels: it checks the options against the backend's contract
 * (inference/backend.ts) and hands it the validated layers.
 * Throws ConfigError (unknown backend or strategy, bad maxPlans or layers), UnsupportedError (a backend this
 * engine cannot run, naming the ones it can), ShapeError and NonFiniteError (layers).
 */
export function compileInference<B extends BackendName>(layers: readonly (InferenceLayer | CsrInferenceLayer)[], options: CompileOptions & { backend: B }): BackendModel<B>;
export function compileInference(layers: readonly (InferenceLayer | CsrInferenceLayer)[], options?: CompileOptions): InferenceModel;
export function compileInference(layers: readonly (InferenceLayer | CsrInferenceLayer)[], options: CompileOptions = {}): InferenceModel {
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
  const model = backend.compile(checkLayers(layers, 'compileInference'), { strategy, maxPlans });
  model.prepare(options.batch ?? 1);
  return model;
}

function resolveBackend(backend: CompileOptions['backend']): InferenceBackend {
  if (backend === undefined) return findInferenceBackend(defaultBackendName());
  if (typeof backend === 'string') return findInferenceBackend(backend, 'compileInference');
  checkBackend(backend, 'compileInference');
  return backend;
}
