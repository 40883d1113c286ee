/*
 * The inference kernels as WebAssembly SIMD (128-bit vectors of 4 float32), hand-assembled by src/wasm/assembler.ts,
 * and the module that holds them. They are the algorithms of the TypeScript kernels (csr-matvec.ts,
 * csr-matmul-panel.ts, bsr-*.ts, gemm.ts) plus SELL-4 for batch 1, on float32 data in one WebAssembly.Memory;
 * every argument is a size, a flag or a byte address. One file per kind of kernel:
 *
 *   kernels-dense.ts   densePanel16, denseMatvec                     dense W
 *   kernels-csr.ts     spmmPanel16, spmv, cscMatvecSkipZeros         CSR (and CSC for skipping zero inputs)
 *   kernels-sell.ts    sellMatvec                                    SELL-4 (sell.ts): the batch-1 sparse kernel
 *   kernels-bsr.ts     bsrMatvec, bsrPanel16                         4×1 blocks
 *   kernels-layout.ts  rowsToPanels16, panelsToRows16, nonFiniteProbe, scanVector
 *   kernels-conv.ts    convCsrTiles, im2colTile16, scatterTile16, pool2d, pool2x2   convolution layers (conv.ts)
 *
 * Why: scalar V8 code spends one bounds-checked load per multiply-add and has no vector instructions. In
 * WebAssembly the loads are unchecked (the memory is guarded) and one f32x4 instruction does four
 * multiply-adds (measured by `npx sparsegrad bench sparse`; README "The WebAssembly SIMD backend").
 *
 * Layouts (as in ../../layout.ts, but float32 and only 16-wide panels):
 *   a 16-sample panel of F features stores feature j of sample t at float index j·16 + t;
 *   a vector (one sample) stores feature j at index j.
 * Every product kernel computes y = act(W·x + bias) for its output rows, with act = ReLU when `relu` ≠ 0 (NaN
 * stays NaN) and the identity otherwise; `bias` is the address of nRows floats (callers pass zeros for "no
 * bias"). Accumulation is in float32 (the TypeScript kernels accumulate in float64), so results agree to
 * float32 rounding of a dot product, not bit for bit.
 */
import { assembleModule } from '../../../wasm/assembler.ts';
import { wasmApi, type WasmMemory } from '../../../wasm/runtime.ts';
import { bsrMatvec, bsrPanel16 } from './kernels-bsr.ts';
import { convCsrTiles, im2colTile16, pool2d, pool2x2, scatterTile16 } from './kernels-conv.ts';
import { cscMatvecSkipZeros, spmmPanel16, spmv } from './kernels-csr.ts';
import { denseMatvec, densePanel16 } from './kernels-dense.ts';
import { nonFiniteProbe, scanVector, transpose16 } from './kernels-layout.ts';
import { sellMatvec } from './kernels-sell.ts';

/** The kernels of one instance, bound to its memory (signatures explained in the kernels-*.ts files). */
export interface WasmKernels {
  spmmPanel16(nRows: number, indptr: number, offsets: number, values: number, bias: number, relu: number, x: number, y: number): void;
  spmv(nRows: number, indptr: number, offsets: number, values: number, bias: number, relu: number, x: number, y: number): void;
  cscMatvecSkipZeros(nRows: number, nCols: number, colptr: number, rowOffsets: number, values: number, bias: number, relu: number, x: number, y: number): void;
  sellMatvec(nSlices: number, slicePtr: number, rowOffsets: number, slots: number, bias: number, relu: number, x: number, y: number): void;
  bsrMatvec(nRows: number, indptr: number, offsets: number, values: number, bias: number, relu: number, x: number, y: number): void;
  bsrPanel16(nRows: number, indptr: number, offsets: number, values: number, bias: number, relu: number, x: number, y: number): void;
  densePanel16(nRows: number, nCols: number, w: number, bias: number, relu: number, x: number, y: number): void;
  denseMatvec(nRows: number, nCols: number, w: number, bias: number, relu: number, x: number, y: number): void;
  rowsToPanels16(nPanels: number, nFeatures: number, rows: number, panels: number): void;
  panelsToRows16(nPanels: number, nFeatures: number, panels: number, rows: number): void;
  nonFiniteProbe(nRows: number, nCols: number, x: number, probe: number): void;
  scanVector(n: number, x: number, out: number): void;
  convCsrTiles(nRows: number, indptr: number, offsets: number, values: number, bias: number, relu: number, nTiles: number, tiles: number, x: number, y: number, planeBytes: number): void;
  im2colTile16(nRows: number, rowOffsets: number, tile: number, x: number, panel: number): void;
  scatterTile16(nRows: number, tile: number, panel: number, y: number, planeBytes: number): void;
  pool2d(max: number, planes: number, kh: number, kw: number, sh: number, sw: number, outH: number, outW: number, inRowBytes: number, inPlaneBytes: number, x: number, y: number, scale: number): void;
  pool2x2(max: number, planes: number, outH: number, outW: number, inRowBytes: number, inPlaneBytes: number, x: number, y: number): void;
}

let moduleBytes: Uint8Array | null = null;
let compiledModule: object | null = null;

/** The assembled module's bytes (built once): every kernel of WasmKernels, exported by its name. */
export function kernelModuleBytes(): Uint8Array {
  moduleBytes ??= assembleModule([
    spmmPanel16(), spmv(), cscMatvecSkipZeros(), sellMatvec(), bsrMatvec(), bsrPanel16(), densePanel16(), denseMatvec(),
    transpose16('rowsToPanels16'), transpose16('panelsToRows16'), nonFiniteProbe(), scanVector(),
    convCsrTiles(), im2colTile16(), scatterTile16(), pool2d(), pool2x2(),
  ], 1);
  return moduleBytes;
}

/** True when this JavaScript engine runs WebAssembly with the SIMD extension (Node ≥ 16.4, current browsers). */
export function wasmSimdSupported(): boolean {
  const api = wasmApi();
  if (api === undefined) return false;
  try {
    return api.validate(kernelModuleBytes());
  } catch {
    return false;
  }
}

/**
 * A new instance of the kernels with its own memory (initially `pages` × 64 KiB). Returns null when the
 * engine has no WebAssembly SIMD; callers turn that into a typed error.
 */
export function instantiateKernels(pages = 1): { memory: WasmMemory; kernels: WasmKernels } | null {
  const api = wasmApi();
  if (api === undefined || !wasmSimdSupported()) return null;
  compiledModule ??= new api.Module(kernelModuleBytes());
  const memory = new api.Memory({ initial: Math.max(1, pages) });
  const exports = new api.Instance(compiledModule, { env: { memory } }).exports as unknown as WasmKernels;
  return { memory, kernels: exports };
}
