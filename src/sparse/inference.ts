import { ConfigError } from '../errors.ts';
import { gemmNT } from '../tensor/kernels/gemm.ts';
import type { FloatArray } from '../tensor/tensor.ts';
import { BSRMatrix, bsrFromDense } from './bsr-matrix.ts';
import { csrToDense, csrTranspose } from './convert.ts';
import { countNonZeros, cscMatvecSkipZeros } from './kernels/csc-matvec.ts';
import type { CSRMatrix } from './csr-matrix.ts';
import { bsrMatmulPanel } from './kernels/bsr-matmul-panel.ts';
import { csrMatmulPanel } from './kernels/csr-matmul-panel.ts';
import { panelViews, panelWidths, panelsToRows, rowsToPanels } from './layout.ts';
import { checkLayers, CompiledNetwork, type Activation, type CheckedLayer, type InferenceLayer, type InferenceModel, type LayerReport } from './inference-layer.ts';
import { chooseKernel, estimateKernelNs, preferSkipZeros, type KernelName } from './select-kernel.ts';
import { compileWasm, type WasmSparseModel } from './wasm/wasm-model.ts';

export type { Activation, InferenceLayer, InferenceModel, LayerReport } from './inference-layer.ts';

/*
 * Sparse inference: an inference-only network compiled from plain layer data. Per layer and batch size it
 * runs the dense kernel (gemmNT on row-major activations) or a sparse one (CSR or 4×1 BSR on panel-layout
 * activations, layout.ts), keeps activations in the layout the next kernel wants, and converts only where
 * the layout changes (at most once at the input and once at the output for an all-sparse network).
 */

/**
 * How kernels are chosen: 'auto' = the measured cost model in select-kernel.ts (deterministic);
 * 'autotune' = time every candidate kernel on the layer at the batch size when a plan is built (adapts to
 * the machine, not deterministic); or one kernel forced for every layer.
 */
export type InferenceStrategy = 'auto' | 'autotune' | KernelName;

export interface CompileOptions {
  /** 'js' (default): the TypeScript kernels. 'wasm-simd': WebAssembly SIMD kernels (wasm/wasm-model.ts). */
  backend?: 'js' | 'wasm-simd';
  /** The wasm-simd backend supports 'auto', 'dense' and 'csr'. */
  strategy?: InferenceStrategy;
  /** Batch size to build a plan for right away (others are built on first use). Default 1. */
  batch?: number;
  /** How many batch sizes keep their buffers at once (oldest plan dropped first). Default 8. */
  maxPlans?: number;
}

interface CompiledLayer {
  inFeatures: number;
  outFeatures: number;
  activation: Activation;
  bias: Float32Array | null;
  /** The dense weight, made from the CSR form only when some plan runs this layer dense (see denseWeight). */
  dense: Float32Array | null;
  csr: CSRMatrix;
  /** The same weights by columns (CSC), for batch-1 calls whose input is mostly zeros. */
  csc: CSRMatrix;
  bsr: BSRMatrix | null;
}

interface Step {
  layer: CompiledLayer;
  kernel: KernelName;
  /** Dense steps: row-major input when the previous layer left panels (else null: read the previous output). */
  rowsIn: Float32Array | null;
  /** Sparse steps: panel input when the previous layer left rows (else null). */
  panelsIn: Float64Array | null;
  output: Float32Array | Float64Array;
  /** Sparse steps: one input and one output view per panel. */
  xViews: Float64Array[];
  yViews: Float64Array[];
}

interface Plan {
  batch: number;
  widths: number[];
  steps: Step[];
  output: Float32Array;
  classes: Int32Array;
}

/**
 * Compiles `layers` (input first) into an inference model. Validates every shape and the layer chain; copies
 * the weights, so later changes to the caller's arrays do not reach the model. `backend: 'wasm-simd'` runs
 * the WebAssembly SIMD kernels (wasm/wasm-model.ts) instead of the TypeScript ones.
 */
export function compileInference(layers: readonly InferenceLayer[], options?: CompileOptions & { backend?: 'js' }): SparseModel;
export function compileInference(layers: readonly InferenceLayer[], options: CompileOptions & { backend: 'wasm-simd' }): WasmSparseModel;
export function compileInference(layers: readonly InferenceLayer[], options?: CompileOptions): InferenceModel;
export function compileInference(layers: readonly InferenceLayer[], options: CompileOptions = {}): InferenceModel {
  const backend = options.backend ?? 'js';
  if (backend === 'wasm-simd') return compileWasm(layers, options);
  if (backend !== 'js') throw new ConfigError(`compileInference: unknown backend '${String(backend)}' (js, wasm-simd)`);
  const strategy = options.strategy ?? 'auto';
  if (!['auto', 'autotune', 'dense', 'csr', 'bsr4x1'].includes(strategy)) {
    throw new ConfigError(`compileInference: unknown strategy '${String(strategy)}' (auto, autotune, dense, csr, bsr4x1)`);
  }
  const compiled = checkLayers(layers, 'compileInference').map((layer) => compileLayer(layer, strategy === 'bsr4x1'));
  const model = new SparseModel(compiled, strategy, options.maxPlans ?? 8);
  model.prepare(options.batch ?? 1);
  return model;
}

function compileLayer(layer: CheckedLayer, forceBsr: boolean): CompiledLayer {
  const { inFeatures, outFeatures, activation, bias, csr, masked } = layer;
  // BSR is a candidate only for weights that are (close to) 4×1-block structured: on unstructured sparsity
  // its blocks are mostly zeros and it would do several times CSR's work.
  let bsr: BSRMatrix | null = bsrFromDense(masked, outFeatures, inFeatures);
  if (!forceBsr && bsr.storedEntries > 1.5 * csr.nnz) bsr = null;
  // No dense copy is kept: it is rebuilt from CSR only if a plan picks the dense kernel, so a model that
  // runs sparse holds only its sparse form.
  return { inFeatures, outFeatures, activation, bias, dense: null, csr, csc: csrTranspose(csr), bsr };
}

/** The layer's dense weight [out, in], rebuilt from CSR on first use and kept from then on. */
function denseWeight(layer: CompiledLayer): Float32Array {
  if (layer.dense === null) layer.dense = csrToDense(layer.csr);
  return layer.dense;
}

/** A compiled network run by the TypeScript kernels; see compileInference. */
export class SparseModel extends CompiledNetwork<Plan> {
  readonly backend = 'js';
  readonly strategy: InferenceStrategy;
  private readonly layers: CompiledLayer[];

  /** @internal use compileInference */
  constructor(layers: CompiledLayer[], strategy: InferenceStrategy, maxPlans: number) {
    super(layers[0]!.inFeatures, layers[layers.length - 1]!.outFeatures, maxPlans);
    this.layers = layers;
    this.strategy = strategy;
  }

  /** The kernel each layer runs at this batch size. */
  kernels(batch = 1): KernelName[] {
    return this.plans.get(batch).steps.map((s) => s.kernel);
  }

  /** Per-layer sizes, bytes, FLOPs and the chosen kernel at this batch size. */
  report(batch = 1): LayerReport[] {
    const plan = this.plans.get(batch);
    return plan.steps.map((step, index) => {
      const { layer } = step;
      const { csr, bsr } = layer;
      const cost = costInput(layer);
      return {
        index,
        inFeatures: layer.inFeatures,
        outFeatures: layer.outFeatures,
        nnz: csr.nnz,
        density: csr.density,
        denseBytes: 4 * layer.inFeatures * layer.outFeatures,
        csrBytes: csr.bytes,
        bsrBytes: bsr === null ? null : bsr.bytes,
        denseFlops: 2 * layer.inFeatures * layer.outFeatures,
        sparseFlops: 2 * csr.nnz,
        kernel: step.kernel,
        estimatedNs: {
          dense: estimateKernelNs('dense', cost, plan.widths),
          csr: estimateKernelNs('csr', cost, plan.widths),
          bsr4x1: estimateKernelNs('bsr4x1', cost, plan.widths),
        },
      };
    });
  }

  protected buildPlan(batch: number): Plan {
    const widths = panelWidths(batch);
    const output = new Float32Array(batch * this.outFeatures);
    const steps: Step[] = [];
    let previous: Float32Array | Float64Array | null = null; // null = the caller's x (row-major)
    let layout: 'rows' | 'panels' = 'rows';
    this.layers.forEach((layer, index) => {
      const kernel = this.pickKernel(layer, batch, widths);
      const last = index === this.layers.length - 1;
      if (kernel === 'dense') {
        denseWeight(layer); // built now, so predict never allocates
        const rowsIn = layout === 'panels' ? new Float32Array(batch * layer.inFeatures) : null;
        const out = last ? output : new Float32Array(batch * layer.outFeatures);
        steps.push({ layer, kernel, rowsIn, panelsIn: null, output: out, xViews: [], yViews: [] });
        previous = out;
        layout = 'rows';
      } else {
        const panelsIn = layout === 'rows' ? new Float64Array(batch * layer.inFeatures) : null;
        const input = (panelsIn ?? previous) as Float64Array;
        const out = new Float64Array(batch * layer.outFeatures);
        steps.push({
          layer, kernel, rowsIn: null, panelsIn, output: out,
          xViews: panelViews(input, layer.inFeatures, widths),
          yViews: panelViews(out, layer.outFeatures, widths),
        });
        previous = out;
        layout = 'panels';
      }
    });
    return { batch, widths, steps, output, classes: new Int32Array(batch) };
  }

  private pickKernel(layer: CompiledLayer, batch: number, widths: readonly number[]): KernelName {
    switch (this.strategy) {
      case 'auto': return chooseKernel(costInput(layer), widths);
      case 'autotune': return autotune(layer, batch, widths);
      case 'bsr4x1': return layer.bsr === null ? 'csr' : 'bsr4x1';
      default: return this.strategy;
    }
  }

  protected run(plan: Plan, x: Float32Array | Float64Array): void {
    const { batch, widths } = plan;
    let current: FloatArray = x;
    for (const step of plan.steps) {
      const { layer } = step;
      if (step.kernel === 'dense') {
        let input: FloatArray = current;
        if (step.rowsIn !== null) {
          panelsToRows(current as Float64Array, layer.inFeatures, widths, step.rowsIn);
          input = step.rowsIn;
        }
        runDense(layer, batch, input, step.output);
      } else {
        if (step.panelsIn !== null) rowsToPanels(current, layer.inFeatures, widths, step.panelsIn);
        runSparse(layer, step.kernel, widths, step.xViews, step.yViews);
        if (layer.activation === 'sigmoid' || layer.activation === 'tanh') applyActivation(layer.activation, step.output as Float64Array);
      }
      current = step.output;
    }
    const last = plan.steps[plan.steps.length - 1]!;
    if (last.kernel !== 'dense') panelsToRows(current as Float64Array, this.outFeatures, widths, plan.output);
  }
}

function costInput(layer: CompiledLayer): { inFeatures: number; outFeatures: number; nnz: number; bsrStored: number | null } {
  return { inFeatures: layer.inFeatures, outFeatures: layer.outFeatures, nnz: layer.csr.nnz, bsrStored: layer.bsr === null ? null : layer.bsr.storedEntries };
}

/** y = act(x·Wᵀ + b) with gemmNT, the project's dense kernel; bias and activation in one pass after it. */
function runDense(layer: CompiledLayer, batch: number, x: FloatArray, y: FloatArray): void {
  const { inFeatures, outFeatures, bias, activation } = layer;
  gemmNT(batch, outFeatures, inFeatures, x, denseWeight(layer), y);
  if (bias === null && activation === 'none') return;
  for (let s = 0; s < batch; s++) {
    const row = s * outFeatures;
    for (let o = 0; o < outFeatures; o++) {
      const z = y[row + o]! + (bias === null ? 0 : bias[o]!);
      y[row + o] = activation === 'relu' ? (z > 0 ? z : 0) : activation === 'sigmoid' ? 1 / (1 + Math.exp(-z)) : activation === 'tanh' ? Math.tanh(z) : z;
    }
  }
}

/** One sparse layer over all panels; ReLU is fused into the kernels, sigmoid and tanh run after. */
function runSparse(layer: CompiledLayer, kernel: KernelName, widths: readonly number[], xViews: Float64Array[], yViews: Float64Array[]): void {
  const relu = layer.activation === 'relu';
  const { outFeatures, bias } = layer;
  if (kernel === 'bsr4x1') {
    const { indptr, indices, values } = layer.bsr!;
    for (let p = 0; p < widths.length; p++) bsrMatmulPanel(outFeatures, widths[p]!, indptr, indices, values, bias, relu, xViews[p]!, yViews[p]!);
  } else if (widths.length === 1 && widths[0] === 1 && preferSkipZeros(layer.csr.nnz, outFeatures, layer.inFeatures, countNonZeros(layer.inFeatures, xViews[0]!))) {
    // Batch 1 with a mostly-zero input (ReLU activations, image background): touch only the weights of
    // the non-zero inputs. Exact for finite weights; see csc-matvec.ts.
    const { indptr, indices, values } = layer.csc;
    cscMatvecSkipZeros(outFeatures, layer.inFeatures, indptr, indices, values, bias, relu, xViews[0]!, yViews[0]!);
  } else {
    const { indptr, indices, values } = layer.csr;
    for (let p = 0; p < widths.length; p++) csrMatmulPanel(outFeatures, widths[p]!, indptr, indices, values, bias, relu, xViews[p]!, yViews[p]!);
  }
}

function applyActivation(activation: 'sigmoid' | 'tanh', y: Float64Array): void {
  if (activation === 'sigmoid') for (let i = 0; i < y.length; i++) y[i] = 1 / (1 + Math.exp(-y[i]!));
  else for (let i = 0; i < y.length; i++) y[i] = Math.tanh(y[i]!);
}

/** Times each candidate kernel on this layer at this batch size (zero inputs, best of a few runs). */
function autotune(layer: CompiledLayer, batch: number, widths: readonly number[]): KernelName {
  const now = (globalThis as { performance?: { now(): number } }).performance;
  if (now === undefined) return chooseKernel(costInput(layer), widths);
  const rows = new Float32Array(batch * layer.inFeatures);
  const rowsOut = new Float32Array(batch * layer.outFeatures);
  const panels = new Float64Array(batch * layer.inFeatures);
  const panelsOut = new Float64Array(batch * layer.outFeatures);
  const xViews = panelViews(panels, layer.inFeatures, widths);
  const yViews = panelViews(panelsOut, layer.outFeatures, widths);
  const candidates: KernelName[] = layer.bsr === null ? ['dense', 'csr'] : ['dense', 'csr', 'bsr4x1'];
  let best: KernelName = 'dense';
  let bestTime = Infinity;
  for (const kernel of candidates) {
    const once = kernel === 'dense' ? () => runDense(layer, batch, rows, rowsOut) : () => runSparse(layer, kernel, widths, xViews, yViews);
    once(); // warm-up
    let fastest = Infinity;
    for (let rep = 0; rep < 5; rep++) {
      const t0 = now.now();
      once();
      fastest = Math.min(fastest, now.now() - t0);
    }
    if (fastest < bestTime) {
      best = kernel;
      bestTime = fastest;
    }
  }
  return best;
}
