import { assembleModule, FunctionBuilder, op } from './assembler.ts';

/*
 * The slice of the WebAssembly JavaScript API this library uses, typed here because the browser-safe core is
 * type-checked with neither DOM nor Node types. `wasmApi()` is undefined on engines without WebAssembly.
 */

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

export interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: {
    new (bytes: Uint8Array): object;
    /** The module's exports in declaration order (functions and the like, by name). */
    exports(module: object): { name: string; kind: string }[];
  };
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
  /** Compiles off the calling thread: the way browsers allow on their main thread for any module size. */
  compile(bytes: Uint8Array): Promise<object>;
  /** Instantiates a compiled module asynchronously (the synchronous `Instance` is size-limited on some main threads). */
  instantiate(module: object, imports: object): Promise<{ exports: Record<string, unknown> }>;
}

export function wasmApi(): WasmApi | undefined {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
}

let simdProbeResult: boolean | undefined;

/**
 * True when this JavaScript engine runs WebAssembly with the SIMD extension (Node ≥ 16.4, current browsers)
 * and lets this page compile modules (a Content-Security-Policy without 'wasm-unsafe-eval' does not): it
 * compiles and instantiates a one-function module that adds two f32x4 vectors.
 */
export function simdSupported(): boolean {
  if (simdProbeResult === undefined) {
    const api = wasmApi();
    const probe = new FunctionBuilder('probe', 0);
    probe.emit(op.v128Zero, op.v128Zero, op.f32x4Add, op.drop);
    try {
      const bytes = assembleModule([probe], 1);
      simdProbeResult = api !== undefined && api.validate(bytes) && new api.Instance(new api.Module(bytes), { env: { memory: new api.Memory({ initial: 1 }) } }) !== null;
    } catch {
      simdProbeResult = false;
    }
  }
  return simdProbeResult;
}
