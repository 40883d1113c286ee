import { currentBackend } from '../backend.ts';
import { assembleModule } from '../../wasm/assembler.ts';
import { exportedFunctions } from '../../wasm/kernel-program.ts';
import { simdSupported, wasmApi, type WasmMemory } from '../../wasm/runtime.ts';
import { TrainingArena } from './arena.ts';
import { elementwiseKernels } from './elementwise-kernels.ts';
import { macroKernel, packA, packB } from './gemm-kernels.ts';
import { optimizerKernels } from './optimizer-kernels.ts';

/*
 * The one instance of the training kernels in this JavaScript realm (a worker has its own): the assembled
 * module, its memory and the arena over it, created on first use. The memory is shared when the engine
 * allows it (Node; browsers when cross-origin isolated), which lets tensors live in it (arena.ts) and lets
 * worker threads share it later; otherwise it is an ordinary memory and every kernel call copies.
 */

/** The exported kernels; every address is a byte offset into the memory. See the kernel files' headers. */
export interface TrainingKernels {
  packA(mc: number, kc: number, a: number, ars: number, acs: number, out: number): void;
  packB(kc: number, nc: number, b: number, brs: number, bcs: number, out: number): void;
  macroKernel(mc: number, nc: number, kc: number, pa: number, pb: number, c: number, ldc: number, overwrite: number, tile: number): void;
  relu(n: number, x: number, out: number): void;
  reluBackward(n: number, x: number, dy: number, dx: number): void;
  add(n: number, a: number, b: number, out: number): void;
  addRowVector(rows: number, cols: number, y: number, bias: number): void;
  sumRows(rows: number, cols: number, x: number, out: number): void;
  adam(n: number, w: number, g: number, m: number, v: number, mask: number, decoupled: number,
    lr: number, stepSize: number, beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, eps: number, weightDecay: number): void;
  sgd(n: number, w: number, g: number, velocity: number, mask: number, nesterov: number, lr: number, momentum: number, weightDecay: number): void;
}

/** The kernels bound to their memory. */
export interface SimdInstance {
  readonly kernels: TrainingKernels;
  readonly arena: TrainingArena;
  /** The compiled module (worker threads instantiate it on the same shared memory, see parallel.ts). */
  readonly module: object;
  /** The exported functions' names in export order, and each name's index (for KernelProgram). */
  readonly exportNames: readonly string[];
  readonly functionIndex: ReadonlyMap<string, number>;
}

/** 64 KiB pages: the initial size, and the maximum a shared memory must declare (4 GiB, the wasm32 limit). */
const INITIAL_PAGES = 64;
const SHARED_MAX_PAGES = [65536, 16384];

/** The module's bytes for a shared or an ordinary memory (the import must say which). */
export function trainingModuleBytes(memory: { shared: boolean; maxPages?: number }): Uint8Array {
  const functions = [packA(), packB(), macroKernel(), ...elementwiseKernels(), ...optimizerKernels()];
  return assembleModule(functions, INITIAL_PAGES, memory.shared ? { shared: true, maxPages: memory.maxPages! } : {});
}

let instance: SimdInstance | null | undefined;

/** A shared memory if this engine can make one (trying a smaller maximum when 4 GiB is refused). */
function sharedMemory(): { memory: WasmMemory; maxPages: number } | null {
  const api = wasmApi()!;
  for (const maxPages of SHARED_MAX_PAGES) {
    try {
      const memory = new api.Memory({ initial: INITIAL_PAGES, maximum: maxPages, shared: true });
      // Without cross-origin isolation some engines hand out a plain ArrayBuffer (or throw).
      if (Object.prototype.toString.call(memory.buffer) === '[object SharedArrayBuffer]') return { memory, maxPages };
    } catch {
      // try the next size, then an ordinary memory
    }
  }
  return null;
}

/**
 * A new instance of the kernels with its own memory: shared when `shared` allows and the engine can (the
 * default), else ordinary (every call then copies its operands, see arena.ts). Null without WebAssembly SIMD.
 * Library code uses the realm's instance (`simdInstance`); this is for tests and benchmarks.
 */
export function createSimdInstance(options: { shared?: boolean } = {}): SimdInstance | null {
  const api = wasmApi();
  if (api === undefined || !simdSupported()) return null;
  const shared = options.shared === false ? null : sharedMemory();
  const memory = shared?.memory ?? new api.Memory({ initial: INITIAL_PAGES });
  const bytes = trainingModuleBytes(shared === null ? { shared: false } : { shared: true, maxPages: shared.maxPages });
  let exports: TrainingKernels;
  let module: object;
  try {
    module = new api.Module(bytes);
    exports = new api.Instance(module, { env: { memory } }).exports as unknown as TrainingKernels;
  } catch {
    return null; // e.g. an engine whose SIMD lacks an instruction used here: the TypeScript kernels run
  }
  const { names, index } = exportedFunctions(api.Module.exports(module));
  return { kernels: exports, arena: new TrainingArena(memory, shared !== null), module, exportNames: names, functionIndex: index };
}

/** The realm's kernel instance, created on first use; null when this engine has no WebAssembly SIMD. */
export function simdInstance(): SimdInstance | null {
  if (instance === undefined) instance = createSimdInstance();
  return instance;
}

/**
 * Runs `fn` with `simd` as the realm's kernel instance, then restores the previous one. For tests and
 * benchmarks: training on an instance without shared memory measures and checks the copying fallback.
 */
export function withSimdInstance<T>(simd: SimdInstance, fn: () => T): T {
  const previous = simdInstance();
  instance = simd;
  try {
    return fn();
  } finally {
    instance = previous;
  }
}

/**
 * The kernel instance when the current backend is 'wasm-simd' and this engine runs it, else null: the
 * callers (tensor ops, optimizers) then use the TypeScript kernels.
 */
export function activeSimd(): SimdInstance | null {
  return currentBackend() === 'wasm-simd' ? simdInstance() : null;
}

/**
 * A float32 array (zeroed if asked) in the kernels' memory when a scratch region is running (a training step on the
 * 'wasm-simd' backend, see ScratchRegion), else null: `allocate` then uses the JavaScript heap.
 */
export function scratchF32(length: number, zeroed: boolean): Float32Array | null {
  return instance === undefined || instance === null ? null : instance.arena.scratchF32(length, zeroed);
}
