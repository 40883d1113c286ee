import { UnsupportedError } from '../errors.ts';
import { deserializeModel, type ModelLimits } from '../io/model-file.ts';
import { compileInference, defaultBackendName, prepareWasmSimd, type CompileOptions, type InferenceModel } from '../sparse/index.ts';
import { recordLayers } from './record-layers.ts';

/*
 * Model-file bytes → a compiled model, for pages and services that only run models: the file is checked by
 * the strict loader, its CSR weights stay CSR, and no training code is involved (see src/infer/index.ts).
 */

/** Options of compileModelBytes: those of compileInference, plus the loader's limits. */
export interface CompileModelBytesOptions extends CompileOptions {
  /** Limits for the untrusted file (sizes, layers, parameters); see ModelLimits. */
  readonly limits?: ModelLimits;
}

/**
 * Checks a sparsegrad model file and compiles it for inference, asynchronously: the WebAssembly SIMD kernels
 * are compiled and instantiated with the promise-based API, which browsers allow on their main thread for
 * any module size. The backend defaults to 'wasm-simd' where the engine runs it and 'js' (the TypeScript
 * kernels) elsewhere, also when the page forbids compiling WebAssembly (a Content-Security-Policy without
 * 'wasm-unsafe-eval'); `model.backend` tells which runs.
 * Rejects with ModelFormatError for a bad file, UnsupportedError when 'wasm-simd' was asked for and cannot
 * run, and compileInference's errors.
 */
export async function compileModelBytes(bytes: Uint8Array, options: CompileModelBytesOptions = {}): Promise<InferenceModel> {
  const { limits, ...compile } = options;
  const layers = recordLayers(deserializeModel(bytes, limits));
  let backend = compile.backend ?? defaultBackendName();
  if (backend === 'wasm-simd') {
    try {
      await prepareWasmSimd();
    } catch (error) {
      if (compile.backend !== undefined) throw new UnsupportedError(`backend 'wasm-simd': this page cannot compile WebAssembly (${error instanceof Error ? error.message : String(error)})`);
      backend = 'js';
    }
  }
  return compileInference(layers, { ...compile, backend });
}

/**
 * The same, synchronously: for Node, workers, and pages whose engine allows synchronous WebAssembly
 * compilation of the kernel module (or after `await prepareWasmSimd()`, which readies one instance).
 */
export function compileModelBytesSync(bytes: Uint8Array, options: CompileModelBytesOptions = {}): InferenceModel {
  const { limits, ...compile } = options;
  return compileInference(recordLayers(deserializeModel(bytes, limits)), compile);
}
