/*
 * The int8 inference kernels as one WebAssembly module (assembled by src/wasm/assembler.ts), with the float
 * panel transposes and the non-finite probe of the float SIMD backend:
 *
 *   kernels-quantize.ts     quantizePanelWords16, quantizePanelPairs16, quantizeVector  activations → int8
 *   kernels-int8.ts         denseInt8Panel16, denseInt8Matvec, csrPairsPanel16          int8 × int8 → int32 → float
 *   kernels-int8-swizzle.ts swizzleInt8Matvec                                           batch-1 sparse, swizzle gathers
 *   kernels-int8-sell.ts    codesToF32, sellInt8Matvec                                  batch-1 SELL-4, exact in float32
 *   ../wasm-simd/kernels-layout.ts  rowsToPanels16, panelsToRows16, nonFiniteProbe
 *
 * Every argument is a size, a flag or a byte address in the instance's memory.
 */
import { assembleModule } from '../../../wasm/assembler.ts';
import { wasmApi, type WasmMemory } from '../../../wasm/runtime.ts';
import { nonFiniteProbe, transpose16 } from '../wasm-simd/kernels-layout.ts';
import { instantiateShared, type ThreadSetup } from '../wasm-simd/panel-threads.ts';
import { csrPairsPanel16, denseInt8Matvec, denseInt8Panel16 } from './kernels-int8.ts';
import { codesToF32, sellInt8Matvec } from './kernels-int8-sell.ts';
import { swizzleInt8Matvec } from './kernels-int8-swizzle.ts';
import { quantizePanelPairs16, quantizePanelWords16, quantizeVector } from './kernels-quantize.ts';

/** The kernels of one instance, bound to its memory (signatures in kernels-quantize.ts and kernels-int8.ts). */
export interface Int8Kernels {
  quantizePanelWords16(nFeatures: number, x: number, q: number, scales: number): void;
  quantizePanelPairs16(nFeatures: number, x: number, q: number, scales: number): void;
  quantizeVector(n: number, x: number, q: number, scale: number): void;
  denseInt8Panel16(nRows: number, nPairs: number, w: number, wScales: number, bias: number, relu: number, q: number, xScales: number, y: number): void;
  denseInt8Matvec(nRows: number, nGroups: number, w: number, wScales: number, bias: number, relu: number, q: number, xScale: number, y: number): void;
  csrPairsPanel16(nRows: number, pairPtr: number, pairOffsets: number, pairWeights: number, wScales: number, bias: number, relu: number, q: number, xScales: number, y: number): void;
  codesToF32(n: number, q: number, out: number): void;
  sellInt8Matvec(nSlices: number, slicePtr: number, rowOffsets: number, slots: number, wScales: number, bias: number, relu: number, qf: number, xScale: number, y: number): void;
  swizzleInt8Matvec(nSlices: number, slicePtr: number, slots: number, sliceScales: number, sliceBias: number, rows: number, relu: number, q: number, xScale: number, y: number): void;
  rowsToPanels16(nPanels: number, nFeatures: number, rows: number, panels: number): void;
  panelsToRows16(nPanels: number, nFeatures: number, panels: number, rows: number): void;
  nonFiniteProbe(nRows: number, nCols: number, x: number, probe: number): void;
}

let moduleBytes: Uint8Array | null = null;
let compiledModule: object | null = null;

/** The assembled module's bytes (built once). */
export function int8ModuleBytes(): Uint8Array {
  moduleBytes ??= assembleModule([
    quantizePanelWords16(), quantizePanelPairs16(), quantizeVector(), denseInt8Panel16(), denseInt8Matvec(), csrPairsPanel16(), codesToF32(), sellInt8Matvec(), swizzleInt8Matvec(),
    transpose16('rowsToPanels16'), transpose16('panelsToRows16'), nonFiniteProbe(),
  ], 1);
  return moduleBytes;
}

/** True when this engine runs WebAssembly with SIMD, including the integer dot product (Node ≥ 16.4, current browsers). */
export function int8KernelsSupported(): boolean {
  const api = wasmApi();
  if (api === undefined) return false;
  try {
    return api.validate(int8ModuleBytes());
  } catch {
    return false;
  }
}

/** A new instance with its own memory, or null where the engine cannot run it. */
export function instantiateInt8Kernels(): { memory: WasmMemory; kernels: Int8Kernels } | null {
  const api = wasmApi();
  if (api === undefined || !int8KernelsSupported()) return null;
  compiledModule ??= new api.Module(int8ModuleBytes());
  const memory = new api.Memory({ initial: 1 });
  const exports = new api.Instance(compiledModule, { env: { memory } }).exports as unknown as Int8Kernels;
  return { memory, kernels: exports };
}

/**
 * A new instance on a shared memory, with what the model needs to run `threads` threads on it (the realm's
 * workers instantiate the same module; ../wasm-simd/panel-threads.ts); null where the engine cannot run the
 * kernels or cannot share memory (the model then uses one thread).
 */
export function instantiateSharedInt8Kernels(threads: number): { memory: WasmMemory; kernels: Int8Kernels; setup: ThreadSetup } | null {
  return int8KernelsSupported() ? instantiateShared<Int8Kernels>(int8ModuleBytes(), threads) : null;
}
