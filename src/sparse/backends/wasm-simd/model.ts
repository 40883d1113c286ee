import { csrToDense, csrTranspose } from '../../convert.ts';
import type { CSRMatrix } from '../../csr-matrix.ts';
import type { InferenceStrategy } from '../../inference/backend.ts';
import { chooseKernel, preferSkipZeros, type KernelName } from '../../inference/cost-model.ts';
import type { CheckedLayer } from '../../inference/layers.ts';
import { CompiledNetwork, type LayerFacts, type Plan, type PlanStep } from '../../inference/model.ts';
import { applyActivationInPlace } from '../../kernels/activation.ts';
import { countNonZeros } from '../../kernels/csc-matvec.ts';
import { placeCsr, WasmArena } from './arena.ts';
import { cutBatch, WASM_COST_MODEL } from './cost-model.ts';
import type { WasmKernels } from './kernels.ts';

/*
 * The WebAssembly SIMD backend's model: the same network, run by the kernels of kernels.ts on float32 data
 * in the model's own WebAssembly.Memory.
 *
 * A batch is cut into 16-sample panels plus a few single samples (cutBatch in cost-model.ts). Each layer
 * picks its kernel for the panel part and for the vector part separately, by the cost model; a sparse
 * vector additionally skips zero inputs when that is cheaper for the input at hand (decided per call, like
 * the TypeScript backend).
 *
 * Memory: the weights are placed once at compile time. Activations live in one scratch region that every
 * plan (batch size) shares — JavaScript runs one predict at a time — and that is replaced by a larger one
 * when a plan needs more, so memory stays bounded by ~2× the largest batch's needs.
 */

/** A layer placed in the arena (addresses are byte addresses). */
interface WasmLayer extends LayerFacts {
  readonly relu: number;
  readonly bias: number;
  readonly indptr: number;
  readonly panelOffsets: number;
  readonly vectorOffsets: number;
  readonly values: number;
  /** The dense weight [out, in]: placed when a plan first runs the layer dense (0 = not yet). */
  dense: number;
  readonly denseSource: () => Float32Array;
  /** W by columns for the skip-zeros kernel: placed when a plan first runs single vectors sparse. */
  csc: { colptr: number; rowOffsets: number; values: number } | null;
  readonly cscSource: () => CSRMatrix;
}

interface WasmStep extends PlanStep<WasmLayer> {
  readonly panelKernel: KernelName;
  readonly vectorKernel: KernelName;
}

interface WasmPlan extends Plan<WasmStep> {
  readonly panels: number;
  readonly vectors: number;
}

/** Places the validated layers' weights in the arena. */
export function placeLayers(arena: WasmArena, layers: readonly CheckedLayer[]): WasmLayer[] {
  return layers.map((layer): WasmLayer => {
    const { csr } = layer;
    return {
      inFeatures: layer.inFeatures,
      outFeatures: layer.outFeatures,
      activation: layer.activation,
      relu: layer.activation === 'relu' ? 1 : 0,
      nnz: csr.nnz,
      density: csr.density,
      csrBytes: csr.bytes,
      bsrStored: null,
      bsrBytes: null,
      bias: layer.bias === null ? arena.alloc(4 * layer.outFeatures) : arena.allocF32(layer.bias),
      ...placeCsr(arena, csr),
      dense: 0,
      denseSource: () => csrToDense(csr),
      csc: null,
      cscSource: () => csrTranspose(csr),
    };
  });
}

/** A compiled network run by the WebAssembly SIMD kernels; see compileInference. */
export class WasmSparseModel extends CompiledNetwork<WasmPlan> {
  readonly backend = 'wasm-simd';
  /** The most features any activation has (input or output of some layer): the ping-pong buffer width. */
  private readonly widest: number;
  private scratch = 0;
  private scratchBytes = 0;

  /** @internal use compileInference(layers, { backend: 'wasm-simd' }) */
  constructor(
    private readonly layers: WasmLayer[],
    strategy: InferenceStrategy,
    private readonly arena: WasmArena,
    private readonly k: WasmKernels,
    maxPlans: number,
  ) {
    super(layers[0]!.inFeatures, layers[layers.length - 1]!.outFeatures, strategy, WASM_COST_MODEL, maxPlans);
    this.widest = Math.max(...layers.map((l) => Math.max(l.inFeatures, l.outFeatures)));
  }

  /** Bytes of WebAssembly memory the model uses (weights and activation scratch). */
  get memoryBytes(): number {
    return this.arena.bytes;
  }

  protected buildPlan(batch: number): WasmPlan {
    const { panels, vectors } = cutBatch(batch);
    const steps = this.layers.map((layer): WasmStep => {
      const panelKernel = this.pick(layer, 16);
      const vectorKernel = this.pick(layer, 1);
      const runsDense = (panels > 0 && panelKernel === 'dense') || (vectors > 0 && vectorKernel === 'dense');
      if (runsDense && layer.dense === 0) layer.dense = this.arena.allocF32(layer.denseSource());
      if (vectors > 0 && vectorKernel === 'csr' && layer.csc === null) {
        const csc = layer.cscSource();
        layer.csc = { colptr: this.arena.allocI32(csc.indptr), rowOffsets: this.arena.allocI32(csc.indices.map((r) => r * 4)), values: this.arena.allocF32(csc.values) };
      }
      return { layer, kernel: panels > 0 ? panelKernel : vectorKernel, panelKernel, vectorKernel };
    });
    const scratchBytes = 4 * (16 * panels + vectors) * (this.inFeatures + 2 * this.widest + this.outFeatures + 1); // see probeAt
    if (scratchBytes > this.scratchBytes) {
      this.scratch = this.arena.alloc(scratchBytes);
      this.scratchBytes = scratchBytes;
    }
    return { batch, panels, vectors, steps, output: new Float32Array(batch * this.outFeatures), classes: new Int32Array(batch), nonFinite: new Uint8Array(batch) };
  }

  /** The kernel for one 16-sample panel (width 16) or one vector (width 1). */
  private pick(layer: WasmLayer, width: 16 | 1): KernelName {
    // 'autotune' is not among this backend's strategies; compileInference refuses it before a model exists.
    if (this.strategy === 'auto' || this.strategy === 'autotune') return chooseKernel(WASM_COST_MODEL, layer, width);
    return this.strategy;
  }

  /**
   * Scratch, for `samples` = 16·panels + vectors: the row-major input, two ping-pong activation buffers, the
   * row-major output, then one float per sample for the non-finite probe (its byte address, returned here).
   */
  private probeAt(samples: number): number {
    return this.scratch + 4 * samples * (this.inFeatures + 2 * this.widest + this.outFeatures);
  }

  protected run(plan: WasmPlan, x: Float32Array | Float64Array): void {
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
        else if (preferSkipZeros(WASM_COST_MODEL, layer.nnz, fIn, countNonZeros(fIn, this.arena.f32(), xAt / 4))) {
          // A mostly-zero input (ReLU activations, image background): touch only its non-zero columns.
          const csc = layer.csc!;
          k.cscMatvecSkipZeros(fOut, fIn, csc.colptr, csc.rowOffsets, csc.values, bias, relu, xAt, yAt);
        } else k.spmv(fOut, layer.indptr, layer.vectorOffsets, layer.values, bias, relu, xAt, yAt);
      }
      if (layer.activation === 'sigmoid' || layer.activation === 'tanh') {
        applyActivationInPlace(layer.activation, this.arena.f32(), panelOut / 4, panelOut / 4 + samples * fOut);
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

  /** The probe kernel on the float32 copy of the input that run() left in the scratch. */
  protected override flagNonFinite(plan: WasmPlan): number {
    const probe = this.probeAt(16 * plan.panels + plan.vectors);
    this.k.nonFiniteProbe(plan.batch, this.inFeatures, this.scratch, probe);
    const f32 = this.arena.f32();
    let flagged = 0;
    for (let s = 0; s < plan.batch; s++) {
      const bad = f32[probe / 4 + s] !== 0; // ±0 for a finite row, NaN otherwise
      plan.nonFinite[s] = bad ? 1 : 0;
      if (bad) flagged++;
    }
    return flagged;
  }
}
