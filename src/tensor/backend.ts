import { ConfigError } from '../errors.ts';
import { simdSupported } from '../wasm/runtime.ts';

/*
 * Which kernels the dense float32 work of training runs on: 'js' (the TypeScript kernels, the reference
 * and the fallback) or 'wasm-simd' (the WebAssembly SIMD kernels of src/tensor/wasm). The choice is scoped
 * like `noGrad`: `withBackend(name, fn)` runs fn on that backend and restores the previous one, and `fit`
 * takes a `backend` option that does the same for one training run. float64 work (gradient checks) always
 * runs on the TypeScript kernels.
 */

/** Every backend name, in the order help texts list them. */
export const BACKENDS = ['js', 'wasm-simd'] as const;

/** A backend name. */
export type Backend = (typeof BACKENDS)[number];

/**
 * The backend used when none is chosen, for training and for compiled inference alike: the SIMD kernels,
 * which are several times faster. Engines without WebAssembly SIMD fall back to 'js' (see `resolveBackend`);
 * the TypeScript kernels stay the reference.
 */
export const DEFAULT_BACKEND: Backend = 'wasm-simd';

let current: Backend = DEFAULT_BACKEND;

/** True for the names in BACKENDS. */
export function isBackend(name: unknown): name is Backend {
  return typeof name === 'string' && (BACKENDS as readonly string[]).includes(name);
}

/** The backend chosen for the current scope (by `withBackend`, or DEFAULT_BACKEND). */
export function currentBackend(): Backend {
  return current;
}

/**
 * Runs `fn` with `backend` as the current backend and restores the previous one afterwards (also when fn
 * throws). Throws ConfigError for an unknown name. A backend this engine cannot run ('wasm-simd' without
 * WebAssembly SIMD) is accepted; the kernels then fall back to 'js' (see `resolveBackend`).
 *
 * @example
 * ```ts
 * import { Adam, fit, mlp, withBackend } from 'sparsegrad';
 * import { loadDigits } from 'sparsegrad/node';
 *
 * const model = mlp([784, 32, 10], { seed: 0 });
 * const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
 * // This run on the TypeScript reference kernels (the default is 'wasm-simd' where the engine has SIMD).
 * const history = withBackend('js', () => fit(model, loadDigits().train, { epochs: 1, batchSize: 128, optimizer, seed: 0 }));
 * console.log(history.backend); // js
 * ```
 */
export function withBackend<T>(backend: Backend, fn: () => T): T {
  if (!isBackend(backend)) throw new ConfigError(`unknown backend '${String(backend)}' (expected one of ${BACKENDS.join(', ')})`);
  const previous = current;
  current = backend;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/**
 * The backend that will actually run for a requested one: 'wasm-simd' becomes 'js' on an engine without
 * WebAssembly SIMD, with a note saying so (for reports and `--json`).
 */
export function resolveBackend(requested: Backend = current): { backend: Backend; note?: string } {
  if (!isBackend(requested)) throw new ConfigError(`unknown backend '${String(requested)}' (expected one of ${BACKENDS.join(', ')})`);
  if (requested === 'wasm-simd' && !simdSupported()) {
    return { backend: 'js', note: 'WebAssembly SIMD is not available in this JavaScript engine: running on the TypeScript kernels (js)' };
  }
  return { backend: requested };
}
