import { ConfigError } from '../../errors.ts';
import { currentBackend, DEFAULT_BACKEND } from '../../tensor/backend.ts';
import { jsBackend } from '../backends/js/backend.ts';
import { wasmInt8Backend } from '../backends/wasm-int8/backend.ts';
import { wasmSimdBackend } from '../backends/wasm-simd/backend.ts';
import { STRATEGIES, type InferenceBackend } from './backend.ts';

/*
 * Which inference backends exist. The built-in ones are listed once, below; users can add their own with
 * registerInferenceBackend (or pass a backend object to compileInference without registering it). The CLI's
 * `--backend` help and validation read this list.
 */

/** The backends that ship with the library, by name. A new backend is its folder plus one line here. */
const BUILTIN_BACKENDS = {
  js: jsBackend,
  'wasm-simd': wasmSimdBackend,
  'wasm-int8': wasmInt8Backend,
} as const;

/** The name of a built-in backend. */
export type BackendName = keyof typeof BUILTIN_BACKENDS;

/** The built-in backends' names, in the order `--help` lists them. */
export const BACKEND_NAMES = Object.keys(BUILTIN_BACKENDS) as BackendName[];

/** The model class a built-in backend compiles to (SparseModel for 'js', WasmSparseModel for 'wasm-simd'). */
export type BackendModel<B extends BackendName> = ReturnType<(typeof BUILTIN_BACKENDS)[B]['compile']>;

/**
 * The backend used when none is named is the library's one switch, DEFAULT_BACKEND of src/tensor/backend.ts
 * (or the scope of `withBackend`), so training and compiled inference always default to the same kernels.
 */
export { DEFAULT_BACKEND };

/** The backend every JavaScript engine runs: the reference, and the fallback for the default. */
export const FALLBACK_BACKEND: BackendName = 'js';

const backends = new Map<string, InferenceBackend>(Object.entries(BUILTIN_BACKENDS));

/**
 * Adds a backend, so compileInference and the CLI find it by name. Throws ConfigError when the name is taken
 * or the backend is malformed (see checkBackend). A backend written from scratch (a float64 reference, ~60
 * lines) is in test/sparse/inference/compile.test.ts; kernels and the cost model are in `sparsegrad/kernels`.
 *
 * @example
 * ```ts
 * import { compileModel, inferenceBackends, mlp, registerInferenceBackend } from 'sparsegrad';
 *
 * // A backend that runs the TypeScript kernels with every layer in CSR: the built-in 'js' one, constrained.
 * const js = inferenceBackends().find((b) => b.name === 'js')!;
 * registerInferenceBackend({
 *   ...js, name: 'js-csr', description: 'the TypeScript kernels, CSR for every layer', strategies: ['auto'],
 *   compile: (layers, options) => js.compile(layers, { ...options, strategy: 'csr' }),
 * });
 * const model = compileModel(mlp([784, 100, 10], { seed: 0 }), { backend: 'js-csr' });
 * console.log(model.backend, model.kernels(1)); // js [ 'csr', 'csr' ]
 * ```
 */
export function registerInferenceBackend(backend: InferenceBackend): void {
  checkBackend(backend, 'registerInferenceBackend');
  if (backends.has(backend.name)) throw new ConfigError(`registerInferenceBackend: a backend named '${backend.name}' exists already (${[...backends.keys()].join(', ')})`);
  backends.set(backend.name, backend);
}

/** Every backend compileInference knows by name, built-in first, in registration order. */
export function inferenceBackends(): InferenceBackend[] {
  return [...backends.values()];
}

/** The backend of this name; throws ConfigError naming the known ones (`who` prefixes the message). */
export function findInferenceBackend(name: string, who = 'findInferenceBackend'): InferenceBackend {
  const backend = backends.get(name);
  if (backend === undefined) throw new ConfigError(`${who}: unknown backend '${name}' (${[...backends.keys()].join(', ')})`);
  return backend;
}

/**
 * The backend of the current scope (`withBackend`, else DEFAULT_BACKEND) where this engine supports it,
 * FALLBACK_BACKEND elsewhere.
 */
export function defaultBackendName(): BackendName {
  const wanted = currentBackend();
  return BUILTIN_BACKENDS[wanted].supported() ? wanted : FALLBACK_BACKEND;
}

/**
 * Throws ConfigError unless `backend` has a name of lower-case letters, digits and dashes, strategies among
 * STRATEGIES that include 'auto', a cost model whose tables list width 1, and the functions of the contract.
 * `who` prefixes the messages.
 */
export function checkBackend(backend: InferenceBackend, who: string): void {
  const name = (backend as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new ConfigError(`${who}: a backend's name must be lower-case letters, digits and dashes, got ${JSON.stringify(name)}`);
  const where = `${who}: backend '${name}'`;
  if (typeof backend.supported !== 'function' || typeof backend.compile !== 'function') throw new ConfigError(`${where}: needs supported() and compile()`);
  const { strategies, costModel } = backend;
  if (!Array.isArray(strategies) || !strategies.includes('auto') || strategies.some((s) => !(STRATEGIES as readonly string[]).includes(s))) {
    throw new ConfigError(`${where}: strategies must include 'auto' and be among ${STRATEGIES.join(', ')}, got ${JSON.stringify(strategies)}`);
  }
  if (typeof costModel?.split !== 'function' || typeof costModel.macNs !== 'object') throw new ConfigError(`${where}: needs a cost model with macNs and split()`);
  for (const [kernel, table] of Object.entries(costModel.macNs)) {
    if (!(table !== undefined && Number.isFinite(table[1]))) throw new ConfigError(`${where}: cost model macNs.${kernel} must list width 1`);
  }
}
