import { bsrFromDense } from '../../bsr-matrix.ts';
import { csrToDense, csrTranspose } from '../../convert.ts';
import type { CSRMatrix } from '../../csr-matrix.ts';
import type { InferenceStrategy } from '../../inference/backend.ts';
import { chooseKernel, estimateKernelNs, preferSkipZeros, type KernelName } from '../../inference/cost-model.ts';
import type { CheckedLayer } from '../../inference/layers.ts';
import { CompiledNetwork, type LayerFacts, type Plan, type PlanStep } from '../../inference/model.ts';
import { applyActivationInPlace } from '../../kernels/activation.ts';
import { flagNonFiniteSums } from '../../kernels/non-finite.ts';
import { placeBsr, placeSell, WasmArena, type PlacedBsr, type PlacedSell } from './arena.ts';
import { cutBatch, WASM_COST_MODEL } from './cost-model.ts';
import type { WasmKernels } from './kernels.ts';
import { activatePanels, PANEL_KERNELS, PanelThreads, type Buffers, type PanelKernels, type ThreadSetup } from './panel-threads.ts';
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
 *
 * Order of work in a predict: the single vectors go through every layer first (their outputs straight to
 * the output rows), then the panels (transposed in, every layer, transposed out). With `threads` > 1 the
 * panels are split into ranges that the threads claim (panel-threads.ts): each thread runs every layer on
 * its own samples, so no thread waits for another between layers, and every sample is computed by the same
 * calls as on one thread — the same bits. Batches whose panels are estimated below MIN_NS_PER_SHARE per
 * thread, and batches without panels (batch 1–3), run on one thread.
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
  /** Threads the panels are split over (1: not split). */
  readonly shares: number;
}

/**
 * The smallest share of a batch's panels worth a thread, by the cost model's estimate: 25 µs (the hand-off
 * costs ~5–15 µs; see `bench threads`). LeNet-300-100 dense or 90 % sparse (~35 µs a panel) splits from two
 * panels (batch 20) on; at 98 % (~7 µs a panel) from eight (batch ~116).
 */
export const MIN_NS_PER_SHARE = 25_000;

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
  private readonly panelThreads: PanelThreads<WasmPlan> | null;
  /**
   * 8 bytes where scanVector writes its count and non-finite probe. Only the calling thread runs single
   * vectors (runVectors), so one slot per model is enough.
   */
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
    threads: ThreadSetup | null = null,
  ) {
    super(layers[0]!.inFeatures, layers[layers.length - 1]!.outFeatures, strategy, WASM_COST_MODEL, maxPlans);
    this.widest = Math.max(...layers.map((l) => Math.max(l.inFeatures, l.outFeatures)));
    this.panelThreads = threads === null ? null : new PanelThreads<WasmPlan>(threads, arena, this, k, PANEL_KERNELS);
    this.scanAt = arena.alloc(8);
  }

  /** How many threads predict splits a batch's panels over (the model's memory is shared when > 1). */
  override get threads(): number {
    return this.panelThreads?.threads ?? 1;
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
    const panelNs = steps.reduce((ns, step) => ns + estimateKernelNs(WASM_COST_MODEL, step.panelKernel, step.layer, 16), 0);
    const shares = Math.max(1, Math.min(this.threads, panels, Math.floor((panels * panelNs) / MIN_NS_PER_SHARE)));
    const scratchBytes = 4 * (16 * panels + vectors) * (this.inFeatures + 2 * this.widest + this.outFeatures + 1); // see probeAt
    if (scratchBytes > this.scratchBytes) {
      this.scratch = this.arena.alloc(scratchBytes);
      this.scratchBytes = scratchBytes;
    }
    return { batch, panels, vectors, shares, steps, output: new Float32Array(batch * this.outFeatures), classes: new Int32Array(batch), nonFinite: new Uint8Array(batch) };
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

  /** The scratch addresses for `samples` = 16·panels + vectors (see probeAt). */
  private buffers(samples: number): Buffers {
    const rowsIn = this.scratch;
    const bufferA = rowsIn + 4 * samples * this.inFeatures;
    const bufferB = bufferA + 4 * samples * this.widest;
    return { rowsIn, bufferA, bufferB, rowsOut: bufferB + 4 * samples * this.widest, probe: this.probeAt(samples) };
  }

  protected run(plan: WasmPlan, x: Float32Array | Float64Array): void {
    const { batch, panels, vectors } = plan;
    const at = this.buffers(16 * panels + vectors);
    // Input: copied (float64 is rounded to float32 here). The padding samples of a padded panel keep whatever
    // an earlier call left there: every sample is its own lane, and their outputs are never read. On threads
    // the panels' rows are copied chunk by chunk while the other threads start on the first ones; otherwise
    // (and always at batch 1, where every nanosecond shows) in one copy.
    const threaded = panels > 0 && plan.shares > 1;
    if (!threaded) this.arena.f32().set(x, at.rowsIn / 4);
    else if (vectors > 0) this.arena.copyRows(x, at.rowsIn, this.inFeatures, 16 * panels, batch);
    this.inputProbe = null;
    if (vectors > 0) this.runVectors(plan, at);
    if (threaded) this.panelThreads!.run(plan, at, this.scratch, (p0, p1) => this.arena.copyRows(x, at.rowsIn, this.inFeatures, 16 * p0, Math.min(16 * p1, batch)));
    else if (panels > 0) this.runPanels(this.k, plan, at, 0, plan.steps.length, 0, panels);
    plan.output.set(this.arena.f32().subarray(at.rowsOut / 4, at.rowsOut / 4 + batch * this.outFeatures));
  }

  /**
   * The single vectors (samples after the panels) through every layer; their outputs go to their rows of
   * rowsOut. They run before the panels, in the buffers' space past 16·panels samples of each layer's width,
   * which the panels reuse afterwards: only the copy in rowsOut has to survive.
   */
  private runVectors(plan: WasmPlan, at: Buffers): void {
    const { panels, vectors } = plan;
    const k = this.k;
    let vectorIn = at.rowsIn + 4 * 16 * panels * this.inFeatures;
    let buffer = at.bufferB;
    for (const step of plan.steps) {
      const { layer } = step;
      const { inFeatures: fIn, outFeatures: fOut, bias, relu } = layer;
      const vectorOut = buffer + 4 * 16 * panels * fOut;
      for (let t = 0; t < vectors; t++) {
        const xAt = vectorIn + 4 * t * fIn;
        const yAt = vectorOut + 4 * t * fOut;
        if (step.vectorKernel === 'dense') k.denseMatvec(fOut, fIn, layer.dense, bias, relu, xAt, yAt);
        else if (step.vectorKernel === 'bsr4x1') k.bsrMatvec(fOut, layer.bsr!.indptr, layer.bsr!.vectorOffsets, layer.bsr!.values, bias, relu, xAt, yAt);
        else this.csrVector(layer, xAt, yAt, plan.batch === 1 && step === plan.steps[0]);
      }
      if (layer.activation === 'sigmoid' || layer.activation === 'tanh') {
        applyActivationInPlace(layer.activation, this.arena.f32(), vectorOut / 4, vectorOut / 4 + vectors * fOut);
      }
      vectorIn = vectorOut;
      buffer = buffer === at.bufferA ? at.bufferB : at.bufferA;
    }
    const out = this.arena.f32();
    const vectorFloats = vectors * this.outFeatures;
    out.copyWithin(at.rowsOut / 4 + 16 * panels * this.outFeatures, vectorIn / 4, vectorIn / 4 + vectorFloats);
  }

  /**
   * Layers [from, to) of the panels [p0, p1), with the kernels `K` (the instance's, or a recorder for a
   * thread's share): layer 0 starts by transposing the input rows into panels, and the last layer ends by
   * transposing its panels into rowsOut. Layer l reads buffer A when l is even, B when odd, and writes the
   * other; panel p of every layer lives in its own slot of a buffer (64·widest bytes at 64·p·widest), so a
   * thread that is a layer ahead never overwrites a panel another thread still reads. A sigmoid or tanh
   * activation (not a kernel) is applied here on one thread, or left to the caller for a thread's share
   * (the share then ends right after that layer; see PanelThreads).
   *
   * @internal Called by this backend's thread shares (panel-threads.ts); not part of the public model.
   */
  runPanels(K: PanelKernels, plan: WasmPlan, at: Buffers, from: number, to: number, p0: number, p1: number): void {
    const slot = 64 * this.widest;
    if (from === 0) {
      // The non-finite probe of these samples' input rows (flagNonFinite reads it), here so threads share it.
      K.nonFiniteProbe(16 * (p1 - p0), this.inFeatures, at.rowsIn + 64 * p0 * this.inFeatures, at.probe + 64 * p0);
      for (let p = p0; p < p1; p++) K.rowsToPanels16(1, this.inFeatures, at.rowsIn + 64 * p * this.inFeatures, at.bufferA + p * slot);
    }
    for (let l = from; l < to; l++) {
      const step = plan.steps[l]!;
      const { layer } = step;
      const { inFeatures: fIn, outFeatures: fOut, bias, relu } = layer;
      const [panelIn, panelOut] = l % 2 === 0 ? [at.bufferA, at.bufferB] : [at.bufferB, at.bufferA];
      for (let p = p0; p < p1; p++) {
        const [xAt, yAt] = [panelIn + p * slot, panelOut + p * slot];
        if (step.panelKernel === 'dense') K.densePanel16(fOut, fIn, layer.dense, bias, relu, xAt, yAt);
        else if (step.panelKernel === 'bsr4x1') K.bsrPanel16(fOut, layer.bsr!.indptr, layer.bsr!.panelOffsets, layer.bsr!.values, bias, relu, xAt, yAt);
        else K.spmmPanel16(fOut, layer.indptr, layer.panelOffsets, layer.values, bias, relu, xAt, yAt);
        if (K === this.k && (layer.activation === 'sigmoid' || layer.activation === 'tanh')) {
          applyActivationInPlace(layer.activation, this.arena.f32(), yAt / 4, yAt / 4 + 16 * fOut);
        }
      }
    }
    if (to === plan.steps.length) {
      const last = plan.steps.length % 2 === 1 ? at.bufferB : at.bufferA;
      for (let p = p0; p < p1; p++) K.panelsToRows16(1, this.outFeatures, last + p * slot, at.rowsOut + 64 * p * this.outFeatures);
    }
  }

  /**
   * Layer l's sigmoid or tanh on every panel slot, or on the output rows after the last layer (elementwise: same bits).
   *
   * @internal Called by this backend's thread shares (panel-threads.ts); not part of the public model.
   */
  applyPanelActivation(plan: WasmPlan, at: Buffers, l: number): void {
    activatePanels(this.arena, plan, at, l, 64 * this.widest);
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
   * The probe kernel's results on the float32 copy of the input that run() left in the scratch: runPanels
   * probed the panels' rows, the vectors are probed here; at batch 1 the first layer's scanVector has
   * usually read the input already.
   */
  protected override flagNonFinite(plan: WasmPlan): number {
    if (plan.batch === 1 && this.inputProbe !== null) { // ±0 for a finite input, NaN otherwise
      plan.nonFinite[0] = this.inputProbe !== 0 ? 1 : 0;
      return plan.nonFinite[0];
    }
    const probe = this.probeAt(16 * plan.panels + plan.vectors);
    const first = 16 * plan.panels; // the first vector sample; the input rows start at this.scratch
    if (plan.vectors > 0) this.k.nonFiniteProbe(plan.vectors, this.inFeatures, this.scratch + 4 * first * this.inFeatures, probe + 4 * first);
    return flagNonFiniteSums(plan.batch, this.arena.f32().subarray(probe / 4, probe / 4 + plan.batch), plan.nonFinite);
  }
}
