import { wasmApi, type WasmMemory } from '../../../wasm/runtime.ts';
import { kernelModuleBytes, wasmSimdSupported, type WasmKernels } from './kernels.ts';

/*
 * The asynchronous way to the SIMD kernels. Browsers refuse synchronous compilation (`new
 * WebAssembly.Module`) and instantiation (`new WebAssembly.Instance`) of modules above a size limit on their
 * main thread: 4 KB in some Chromium, Electron and WebView builds, 8 MB in current Chrome. The kernel module is
 * about that small limit, and growing. `prepareWasmSimd()` compiles and instantiates with the promise-based
 * API and keeps the instance; the backend's (synchronous) compile takes a prepared instance when there is one
 * and falls back to the synchronous path otherwise, which is always allowed in Node and in workers.
 */

/** A kernel instance with its own memory, as instantiateKernels returns it. */
export interface KernelInstance {
  readonly memory: WasmMemory;
  readonly kernels: WasmKernels;
}

let compiled: Promise<object> | null = null;
const prepared: KernelInstance[] = [];

/**
 * Compiles (once) and instantiates one instance of the SIMD kernels asynchronously, for the next model the
 * 'wasm-simd' backend compiles. Resolves false, preparing nothing, on an engine without WebAssembly SIMD.
 * Rejects only if the engine refuses a module it validated (e.g. a Content-Security-Policy without
 * 'wasm-unsafe-eval').
 */
export async function prepareWasmSimd(): Promise<boolean> {
  const api = wasmApi();
  if (api === undefined || !wasmSimdSupported()) return false;
  compiled ??= api.compile(kernelModuleBytes());
  const module = await compiled;
  const memory = new api.Memory({ initial: 1 });
  const instance = await api.instantiate(module, { env: { memory } });
  prepared.push({ memory, kernels: instance.exports as unknown as WasmKernels });
  return true;
}

/** A prepared instance (each is used by one model), or null when none is waiting. */
export function takePreparedInstance(): KernelInstance | null {
  return prepared.shift() ?? null;
}
