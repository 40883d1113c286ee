import { ConfigError, UnsupportedError } from '../../errors.ts';
import { csrToDense, csrTranspose } from '../convert.ts';
import type { CSRMatrix } from '../csr-matrix.ts';
import { checkLayers, CompiledNetwork, type Activation, type InferenceLayer, type LayerReport } from '../inference-layer.ts';
import type { KernelName } from '../select-kernel.ts';
import { placeCsr, WasmArena } from './arena.ts';
import { instantiateKernels, type WasmKernels } from './kernels.ts';

/*
 * The WebAssembly SIMD backend of compileInference: the same network, run by the kernels of kernels.ts on
 * float32 data in the model's own WebAssembly.Memory.
 *
 * A batch is cut into 16-sample panels plus a few single samples: batch = 16·P + r. A tail of r ≥ 4
 * samples is padded to one more panel whose extra lanes are computed and discarded (a panel is ~7× cheaper
 * per sample than a vector for sparse layers, ~1.6× for dense ones); a tail of r < 4 runs as r vectors. Each layer picks its kernel for the
 * panel part and for the vector part separately, by the cost model below (constants measured on the
 * project machine with `npx sparsegrad bench sparse`); a sparse vector additionally skips zero inputs
 * when that is cheaper for the input at hand (decided per call, like the TypeScript backend).
 *
 * Memory: the weights are placed once at compile time. Activations live in one scratch region that every
 * plan (batch size) shares — JavaScript runs one predict at a time — and that is replaced by a larger one
 * when a plan needs more, so memory stays bounded by ~2× the largest batch's needs.
 */

/** ns per multiply-add per sample (per stored nonzero for CSR), and per output row per kernel call. */
export const WASM_COST_MODEL = {
  // Averages of two full `npx sparsegrad bench sparse` runs ("cost model" line: wasm*Ns), 300×784 and
  // 1024×1024 rows. What decides is their ratio: CSR wins from ~20 % sparsity in panels and from ~80 % for
  // single vectors, where the dense kernel vectorises and the sparse gather does not.
  densePanelNs: 0.066,
  denseVectorNs: 0.11,
  csrPanelNs: 0.08,
  csrVectorNs: 0.6,
  rowNs: 0.5,
  /**
   * Batch 1, skip-zero inputs (cscMatvecSkipZeros): per stored entry of a non-zero input's column (a
   * scatter: load, add, store), per non-zero input column, and per input scanned. Measured on 300×784 and
   * 100×300 at 90–98 % sparsity with 20–100 % non-zero inputs.
   */
  cscNsTouched: 1.2,
  cscNsColumn: 1.0,
  scanNs: 0.3,
};

/** Batch 1: whether scattering the columns of the non-zero inputs beats gathering every nonzero. */
export function preferSkipZerosWasm(nnz: number, outFeatures: number, inFeatures: number, nonZeroInputs: number): boolean {
  const c = WASM_COST_MODEL;
  const gather = c.csrVectorNs * nnz;
  const scatter = c.cscNsTouched * nnz * (nonZeroInputs / Math.max(inFeatures, 1)) + c.cscNsColumn * nonZeroInputs + c.scanNs * inFeatures;
  return scatter < gather;
}

/** Below this many tail samples the tail runs as single vectors, from here on as one padded panel. */
export const TAIL_PANEL_MIN = 4;

export type WasmStrategy = 'auto' | 'dense' | 'csr';

export interface WasmCompileOptions {
  strategy?: string;
  batch?: number;
  maxPlans?: number;
}

interface WasmLayer {
  inFeatures: number;
  outFeatures: number;
  activation: Activation;
  relu: number;
  nnz: number;
  density: number;
  csrBytes: number;
  /** Byte addresses in the arena. */
  bias: number;
  indptr: number;
  panelOffsets: number;
  vectorOffsets: number;
  values: number;
  /** The dense weight [out, in]: placed when a plan first runs the layer dense (0 = not yet). */
  dense: number;
  denseSource: () => Float32Array;
  /** W by columns for the skip-zeros kernel: placed when a plan first runs single vectors sparse. */
  csc: { colptr: number; rowOffsets: number; values: number } | null;
  cscSource: () => CSRMatrix;
}

interface Step {
  layer: WasmLayer;
  panelKernel: KernelName;
  vectorKernel: KernelName;
}

interface Plan {
  batch: number;
  panels: number;
  vectors: number;
  steps: Step[];
  /** Scratch bytes this plan needs (see run). */
  scratchBytes: number;
  output: Float32Array;
  classes: Int32Array;
}

/** Called by compileInference for `backend: 'wasm-simd'`. */
export function compileWasm(layers: readonly InferenceLayer[], options: WasmCompileOptions): WasmSparseModel {
  const strategy = options.strategy ?? 'auto';
  if (!['auto', 'dense', 'csr'].includes(strategy)) {
    throw new ConfigError(`compileInference: strategy '${strategy}' is not available with backend 'wasm-simd' (auto, dense, csr)`);
  }
  const checked = checkLayers(layers, 'compileInference');
  const instance = instantiateKernels();
  if (instance === null) {
    throw new UnsupportedError("compileInference: backend 'wasm-simd' needs WebAssembly with SIMD, which this JavaScript engine does not provide; use backend 'js'");
  }
  const arena = new WasmArena(instance.memory);
  const compiled = checked.map((layer): WasmLayer => {
    const { csr } = layer;
    return {
      inFeatures: layer.inFeatures,
      outFeatures: layer.outFeatures,
      activation: layer.activation,
      relu: layer.activation === 'relu' ? 1 : 0,
      nnz: csr.nnz,
      density: csr.density,
      csrBytes: csr.bytes,
      bias: layer.bias === null ? arena.alloc(4 * layer.outFeatures) : arena.allocF32(layer.bias),
      ...placeCsr(arena, csr),
      dense: 0,
      denseSource: () => csrToDense(csr),
      csc: null,
      cscSource: () => csrTranspose(csr),
    };
  });
  const model = new WasmSparseModel(compiled, strategy as WasmStrategy, arena, instance.kernels, options.maxPlans ?? 8);
  model.prepare(options.batch ?? 1);
  return model;
}

/** Estimated ns of one kernel call on a panel of 16 samples or on one vector. */
export function estimateWasmNs(kernel: 'dense' | 'csr', part: 'panel' | 'vector', layer: { inFeatures: number; outFeatures: number; nnz: number }): number {
  const c = WASM_COST_MODEL;
  const macs = layer.inFeatures * layer.outFeatures;
  if (part === 'panel') return kernel === 'dense' ? 16 * c.densePanelNs * macs : 16 * c.csrPanelNs * layer.nnz + c.rowNs * layer.outFeatures;
  return kernel === 'dense' ? c.denseVectorNs * macs : c.csrVectorNs * layer.nnz + c.rowNs * layer.outFeatures;
}

/** A compiled network run by the WebAssembly SIMD kernels; see compileInference. */
export class WasmSparseModel extends CompiledNetwork<Plan> {
  readonly backend = 'wasm-simd';
  /** The most features any activation has (input or output of some layer): the ping-pong buffer width. */
  private readonly widest: number;
  private scratch = 0;
  private scratchBytes = 0;

  /** @internal use compileInference(layers, { backend: 'wasm-simd' }) */
  constructor(
    private readonly layers: WasmLayer[],
    readonly strategy: WasmStrategy,
    private readonly arena: WasmArena,
    private readonly k: WasmKernels,
    maxPlans: number,
  ) {
    super(layers[0]!.inFeatures, layers[layers.length - 1]!.outFeatures, maxPlans);
    this.widest = Math.max(...layers.map((l) => Math.max(l.inFeatures, l.outFeatures)));
  }

  /** Bytes of WebAssembly memory the model uses (weights and activation scratch). */
  get memoryBytes(): number {
    return this.arena.bytes;
  }

  kernels(batch = 1): KernelName[] {
    const plan = this.plans.get(batch);
    return plan.steps.map((s) => (plan.panels > 0 ? s.panelKernel : s.vectorKernel));
  }

  report(batch = 1): LayerReport[] {
    const plan = this.plans.get(batch);
    return plan.steps.map((step, index) => {
      const { layer } = step;
      const total = (kernel: 'dense' | 'csr'): number => plan.panels * estimateWasmNs(kernel, 'panel', layer) + plan.vectors * estimateWasmNs(kernel, 'vector', layer);
      return {
        index,
        inFeatures: layer.inFeatures,
        outFeatures: layer.outFeatures,
        nnz: layer.nnz,
        density: layer.density,
        denseBytes: 4 * layer.inFeatures * layer.outFeatures,
        csrBytes: layer.csrBytes,
        bsrBytes: null,
        denseFlops: 2 * layer.inFeatures * layer.outFeatures,
        sparseFlops: 2 * layer.nnz,
        kernel: plan.panels > 0 ? step.panelKernel : step.vectorKernel,
        estimatedNs: { dense: total('dense'), csr: total('csr'), bsr4x1: Infinity },
      };
    });
  }

  protected buildPlan(batch: number): Plan {
    let panels = Math.floor(batch / 16);
    let vectors = batch - 16 * panels;
    if (vectors >= TAIL_PANEL_MIN) {
      panels++;
      vectors = 0;
    }
    const steps = this.layers.map((layer): Step => {
      const step = { layer, panelKernel: this.pick(layer, 'panel'), vectorKernel: this.pick(layer, 'vector') };
      const runsDense = (panels > 0 && step.panelKernel === 'dense') || (vectors > 0 && step.vectorKernel === 'dense');
      if (runsDense && layer.dense === 0) layer.dense = this.arena.allocF32(layer.denseSource());
      if (vectors > 0 && step.vectorKernel === 'csr' && layer.csc === null) {
        const csc = layer.cscSource();
        layer.csc = { colptr: this.arena.allocI32(csc.indptr), rowOffsets: this.arena.allocI32(csc.indices.map((r) => r * 4)), values: this.arena.allocF32(csc.values) };
      }
      return step;
    });
    // Scratch: the row-major input, two ping-pong activation buffers, the row-major output.
    const samples = 16 * panels + vectors;
    const scratchBytes = 4 * samples * (this.inFeatures + 2 * this.widest + this.outFeatures);
    if (scratchBytes > this.scratchBytes) {
      this.scratch = this.arena.alloc(scratchBytes);
      this.scratchBytes = scratchBytes;
    }
    return { batch, panels, vectors, steps, scratchBytes, output: new Float32Array(batch * this.outFeatures), classes: new Int32Array(batch) };
  }

  private pick(layer: WasmLayer, part: 'panel' | 'vector'): KernelName {
    if (this.strategy !== 'auto') return this.strategy;
    return estimateWasmNs('csr', part, layer) < estimateWasmNs('dense', part, layer) ? 'csr' : 'dense';
  }

  protected run(plan: Plan, x: Float32Array | Float64Array): void {
    const { batch, panels, vectors } = plan;
    const k = this.k;
    const samples = 16 * panels + vectors;
    const rowsIn = this.scratch;
    const bufferA = rowsIn + 4 * samples * this.inFeatures;
    const bufferB = bufferA + 4 * samples * this.widest;
    const rowsOut = bufferB + 4 * samples * this.widest;

    // Input: copy (float64 is rounded to float32 here) and transpose the panels. The padding samples of a
    // padded panel keep whatever an earlier call left there: every sample is its own lane, and their outputs
    // are never read.
    this.arena.f32().set(x, rowsIn / 4);
    k.rowsToPanels16(panels, this.inFeatures, rowsIn, bufferA);
    // Panels of layer l's input are at the start of its buffer; its vectors follow the panels (for the first
    // layer they are still in rowsIn, right after the panel samples).
    let panelIn = bufferA;
    let vectorIn = rowsIn + 4 * 16 * panels * this.inFeatures;
    for (const step of plan.steps) {
      const { layer } = step;
      const { inFeatures: fIn, outFeatures: fOut, bias, relu } = layer;
      const panelOut = panelIn === bufferA ? bufferB : bufferA;
      const vectorOut = panelOut + 4 * 16 * panels * fOut;
      for (let p = 0; p < panels; p++) {
        const xAt = panelIn + 4 * 16 * p * fIn;
        const yAt = panelOut + 4 * 16 * p * fOut;
        if (step.panelKernel === 'dense') k.densePanel16(fOut, fIn, layer.dense, bias, relu, xAt, yAt);
        else k.spmmPanel16(fOut, layer.indptr, layer.panelOffsets, layer.values, bias, relu, xAt, yAt);
      }
      for (let t = 0; t < vectors; t++) {
        const xAt = vectorIn + 4 * t * fIn;
        const yAt = vectorOut + 4 * t * fOut;
        if (step.vectorKernel === 'dense') k.denseMatvec(fOut, fIn, layer.dense, bias, relu, xAt, yAt);
        else if (preferSkipZerosWasm(layer.nnz, fOut, fIn, countNonZeros(this.arena.f32(), xAt / 4, fIn))) {
          // A mostly-zero input (ReLU activations, image background): touch only its non-zero columns.
          const csc = layer.csc!;
          k.cscMatvecSkipZeros(fOut, fIn, csc.colptr, csc.rowOffsets, csc.values, bias, relu, xAt, yAt);
        } else k.spmv(fOut, layer.indptr, layer.vectorOffsets, layer.values, bias, relu, xAt, yAt);
      }
      if (layer.activation === 'sigmoid' || layer.activation === 'tanh') {
        applyActivation(layer.activation, this.arena.f32(), panelOut / 4, panelOut / 4 + samples * fOut);
      }
      panelIn = panelOut;
      vectorIn = vectorOut;
    }

    // Output: panels back to rows, the vectors' rows after them, then out of the module's memory.
    const last = panelIn;
    k.panelsToRows16(panels, this.outFeatures, last, rowsOut);
    const out = this.arena.f32();
    const panelFloats = 16 * panels * this.outFeatures;
    out.copyWithin(rowsOut / 4 + panelFloats, last / 4 + panelFloats, last / 4 + panelFloats + vectors * this.outFeatures);
    plan.output.set(out.subarray(rowsOut / 4, rowsOut / 4 + batch * this.outFeatures));
  }
}

function countNonZeros(data: Float32Array, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) if (data[i] !== 0) n++;
  return n;
}

function applyActivation(activation: 'sigmoid' | 'tanh', y: Float32Array, from: number, to: number): void {
  if (activation === 'sigmoid') for (let i = from; i < to; i++) y[i] = 1 / (1 + Math.exp(-y[i]!));
  else for (let i = from; i < to; i++) y[i] = Math.tanh(y[i]!);
}
