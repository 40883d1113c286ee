import { bsrFromDense } from '../../bsr-matrix.ts';
import { csrToDense, csrTranspose } from '../../convert.ts';
import type { CSRMatrix } from '../../csr-matrix.ts';
import type { InferenceStrategy } from '../../inference/backend.ts';
import { chooseKernel, preferSkipZeros, type KernelName } from '../../inference/cost-model.ts';
import type { CheckedLayer } from '../../inference/layers.ts';
import { CompiledNetwork, type LayerFacts, type Plan, type PlanStep } from '../../inference/model.ts';
import { applyActivationInPlace } from '../../kernels/activation.ts';
import { placeBsr, placeSell, WasmArena, type PlacedBsr, type PlacedSell } from './arena.ts';
import { cutBatch, WASM_COST_MODEL } from './cost-model.ts';
import type { WasmKernels } from './kernels.ts';
import { sellFromCsr, SELL_MAX_INPUTS } from './sell.ts';

/*
 * The WebAssembly SIMD backend's model: the same network, run by the kernels of kernels.ts on float32 data
 * in the model's own WebAssembly.Memory.
 *
 * A batch is cut into 16-sample panels plus a few single samples (cutBatch in cost-model.ts). Each layer
 * picks its kernel for the panel part and for the vector part separately, by the cost model: dense, CSR
 * (spmmPanel16 for panels; for vectors sellMatvec on the SELL-4 form, or spmv for layers wider than
 * SELL_MAX_INPUTS) or 4×1 BSR (kept for weights that are 4×1-block structured). A CSR vector additionally
 * skips zero inputs when that is cheaper for the input at hand (decided per call from scanVector's count,
 * like the TypeScript backend).
 *
 * Memory: the weights are placed once at compile time. Activations live in one scratch region that every
 * plan (batch size) shares — JavaScript runs one predict at a time — and that is replaced by a larger one
 * when a plan needs more, so memory stays bounded by ~2× the largest batch's needs.
 */

/** A layer placed in the arena (addresses are byte addresses). */
interface WasmLayer extends LayerFacts {
  readonly relu: number;
  readonly bias: number;
  readonly csr: CSRMatrix;
  readonly indptr: number;
  readonly panelOffsets: number;
  readonly values: number;
  /** The 4×1 BSR form, kept when the weights are (close to) 4×1-block structured or BSR is forced. */
  readonly bsr: PlacedBsr | null;
  /** The dense weight [out, in]: placed when a plan first runs the layer dense (0 = not yet). */
  dense: number;
  /** The forms single vectors read, placed when a plan first runs vectors as CSR: W by columns for the
   * skip-zeros kernel, and SELL-4 (or, past SELL_MAX_INPUTS inputs, column·4 offsets for spmv). */
  vectorForms: { colptr: number; rowOffsets: number; cscValues: number; sell: PlacedSell | null; spmvOffsets: number } | null;
}

interface WasmStep extends PlanStep<WasmLayer> {
  readonly panelKernel: KernelName;
  readonly vectorKernel: KernelName;
}

interface WasmPlan extends Plan<WasmStep> {
  readonly panels: number;
  readonly vectors: number;
}

/**
 * Places the validated layers' weights in the arena: bias and CSR always, 4×1 BSR when it stores at most 1.5×
 * CSR's entries (as the TypeScript backend decides) or `forceBsr`; the other forms on first use.
 */
export function placeLayers(arena: WasmArena, layers: readonly CheckedLayer[], forceBsr = false): WasmLayer[] {
  return layers.map((layer): WasmLayer => {
    const { csr } = layer;
    const bsr = bsrFromDense(layer.masked, layer.outFeatures, layer.inFeatures);
    const keepBsr = forceBsr || bsr.storedEntries <= 1.5 * csr.nnz;
    return {
      inFeatures: layer.inFeatures,
      outFeatures: layer.outFeatures,
      activation: layer.activation,
      relu: layer.activation === 'relu' ? 1 : 0,
      nnz: csr.nnz,
      density: csr.density,
      csrBytes: csr.bytes,
      bsrStored: keepBsr ? bsr.storedEntries : null,
      bsrBytes: keepBsr ? bsr.bytes : null,
      bias: layer.bias === null ? arena.alloc(4 * layer.outFeatures) : arena.allocF32(layer.bias),
      csr,
      indptr: arena.allocI32(csr.indptr),
      panelOffsets: arena.allocI32(csr.indices.map((c) => c * 64)),
      values: arena.allocF32(csr.values),
      bsr: keepBsr ? placeBsr(arena, bsr) : null,
      dense: 0,
      vectorForms: null,
    };
  });
}

/** Places what single vectors read for a CSR layer (once). */
function placeVectorForms(arena: WasmArena, layer: WasmLayer): void {
  if (layer.vectorForms !== null) return;
  const csc = csrTranspose(layer.csr);
  const wide = layer.inFeatures > SELL_MAX_INPUTS;
  layer.vectorForms = {
    colptr: arena.allocI32(csc.indptr),
    rowOffsets: arena.allocI32(csc.indices.map((r) => r * 4)),
    cscValues: arena.allocF32(csc.values),
    sell: wide ? null : placeSell(arena, sellFromCsr(layer.csr)),
    spmvOffsets: wide ? arena.allocI32(layer.csr.indices.map((c) => c * 4)) : 0,
  };
}

/** A compiled network run by the WebAssembly SIMD kernels; see compileInference. */
export class WasmSparseModel extends CompiledNetwork<WasmPlan> {
  readonly backend = 'wasm-simd';
  /** The most features any activation has (input or output of some layer): the ping-pong buffer width. */
  private readonly widest: number;
  private scratch = 0;
  private scratchBytes = 0;
  /** 8 bytes where scanVector writes its count and non-finite probe. */
  private readonly scanAt: number;
  /** At batch 1: the input's non-finite probe when the first layer's scanVector read it this call, else null. */
  private inputProbe: number | null = null;

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
    this.scanAt = arena.alloc(8);
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
      if (runsDense && layer.dense === 0) layer.dense = this.arena.allocF32(csrToDense(layer.csr));
      if (vectors > 0 && vectorKernel === 'csr') placeVectorForms(this.arena, layer);
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
    if (this.strategy === 'bsr4x1' && layer.bsr === null) return 'csr';
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
    this.inputProbe = null;
    for (const step of plan.steps) {
      const { layer } = step;
      const { inFeatures: fIn, outFeatures: fOut, bias, relu } = layer;
      const panelOut = panelIn === bufferA ? bufferB : bufferA;
      const vectorOut = panelOut + 4 * 16 * panels * fOut;
      for (let p = 0; p < panels; p++) {
        const xAt = panelIn + 4 * 16 * p * fIn;
        const yAt = panelOut + 4 * 16 * p * fOut;
        if (step.panelKernel === 'dense') k.densePanel16(fOut, fIn, layer.dense, bias, relu, xAt, yAt);
        else if (step.panelKernel === 'bsr4x1') k.bsrPanel16(fOut, layer.bsr!.indptr, layer.bsr!.panelOffsets, layer.bsr!.values, bias, relu, xAt, yAt);
        else k.spmmPanel16(fOut, layer.indptr, layer.panelOffsets, layer.values, bias, relu, xAt, yAt);
      }
      for (let t = 0; t < vectors; t++) {
        const xAt = vectorIn + 4 * t * fIn;
        const yAt = vectorOut + 4 * t * fOut;
        if (step.vectorKernel === 'dense') k.denseMatvec(fOut, fIn, layer.dense, bias, relu, xAt, yAt);
        else if (step.vectorKernel === 'bsr4x1') k.bsrMatvec(fOut, layer.bsr!.indptr, layer.bsr!.vectorOffsets, layer.bsr!.values, bias, relu, xAt, yAt);
        else this.csrVector(layer, xAt, yAt, batch === 1 && step === plan.steps[0]);
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

  /**
   * One vector through a CSR layer: skipping zero inputs when the cost model says so for this input. When the
   * vector is the model's input (`isInput`), the same scan's non-finite probe is kept for flagNonFinite.
   */
  private csrVector(layer: WasmLayer, xAt: number, yAt: number, isInput: boolean): void {
    const { inFeatures: fIn, outFeatures: fOut, bias, relu } = layer;
    const k = this.k;
    const forms = layer.vectorForms!;
    k.scanVector(fIn, xAt, this.scanAt);
    if (isInput) this.inputProbe = this.arena.f32()[this.scanAt / 4 + 1]!;
    if (preferSkipZeros(WASM_COST_MODEL, layer.nnz, fIn, this.arena.i32()[this.scanAt / 4]!)) {
      // A mostly-zero input (ReLU activations, image background): touch only its non-zero columns.
      k.cscMatvecSkipZeros(fOut, fIn, forms.colptr, forms.rowOffsets, forms.cscValues, bias, relu, xAt, yAt);
    } else if (forms.sell !== null) {
      const { nSlices, slicePtr, rowOffsets, slots } = forms.sell;
      k.sellMatvec(nSlices, slicePtr, rowOffsets, slots, bias, relu, xAt, yAt);
    } else k.spmv(fOut, layer.indptr, forms.spmvOffsets, layer.values, bias, relu, xAt, yAt);
  }

  /**
   * The probe kernel on the float32 copy of the input that run() left in the scratch; at batch 1 the first
   * layer's scanVector has usually read it already.
   */
  protected override flagNonFinite(plan: WasmPlan): number {
    if (plan.batch === 1 && this.inputProbe !== null) { // ±0 for a finite input, NaN otherwise
      plan.nonFinite[0] = this.inputProbe !== 0 ? 1 : 0;
      return plan.nonFinite[0];
    }
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
