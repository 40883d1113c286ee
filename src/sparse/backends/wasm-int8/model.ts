import type { InferenceStrategy } from '../../inference/backend.ts';
import { chooseKernel, estimateKernelNs, type KernelName } from '../../inference/cost-model.ts';
import type { CheckedLayer } from '../../inference/layers.ts';
import { CompiledNetwork, type LayerFacts, type Plan, type PlanStep } from '../../inference/model.ts';
import { applyActivationInPlace } from '../../kernels/activation.ts';
import { flagNonFiniteSums } from '../../kernels/non-finite.ts';
import type { WasmArena } from '../wasm-simd/arena.ts';
import { cutBatch } from '../wasm-simd/cost-model.ts';
import { MIN_NS_PER_SHARE } from '../wasm-simd/model.ts';
import { activatePanels, PanelThreads, type ThreadSetup } from '../wasm-simd/panel-threads.ts';
import { INT8_COST_MODEL } from './cost-model.ts';
import type { Int8Kernels } from './kernels.ts';
import { placeDensePairs, placeDenseRows, placeInt8Layer, placeVectorCsr, type PlacedInt8Layer } from './weights.ts';

/*
 * The int8 backend's model: weights as int8 codes with per-row scales, activations quantized per sample right
 * before each layer, int8 × int8 products summed in int32 and rescaled once per output (kernels-int8.ts).
 *
 * A batch is cut like the float SIMD backend's (16-sample panels, a few single vectors), and each layer picks
 * dense or CSR for panels and for vectors by the cost model (CSR vectors run the swizzle kernel or SELL-4 on
 * the codes as float32, whichever the layer's slot counts favour; weights.ts, placeVectorCsr).
 *
 * Order of work in a predict: the single vectors go through every layer first, on the calling thread (their
 * own buffers and codes), then the panels. A panel goes through all layers before the next panel starts, so
 * its activations (float, then int8) stay in the cache. Each panel has its own slots in the scratch (two
 * float buffers, codes, 16 scales; a range of panels run by one call shares its first panel's unless the
 * activations must outlive the call), so with `threads` > 1 the panels are split into ranges that the threads
 * claim (../wasm-simd/panel-threads.ts, as the float model does): each thread runs every layer on its own
 * panels, with no barrier between layers, and every sample is computed by the same calls as on one thread —
 * the same bits. Sigmoid and tanh are not kernels: a thread's job ends after such a layer and the caller
 * applies it to every panel. Batches whose panels are estimated below MIN_NS_PER_SHARE per thread, and
 * batches without panels (batch 1–5), run on one thread.
 *
 * Accuracy: the result differs from the float model by the rounding of weights and activations to 8 bits;
 * the tests hold every output within 5 % of the largest |logit| of the float64 network and a digits model's
 * accuracy within 0.3 points of the float model's (test/sparse/backends/wasm-int8-model.test.ts); on
 * Fashion-MNIST LeNet-300-100, 9 of 10,000 classes differ from the float model (README, Quantization).
 */

interface Int8LayerFacts extends LayerFacts {
  readonly placed: PlacedInt8Layer;
}

interface Int8Step extends PlanStep<Int8LayerFacts> {
  readonly panelKernel: KernelName;
  readonly vectorKernel: KernelName;
}

interface Int8Plan extends Plan<Int8Step> {
  readonly panels: number;
  readonly vectors: number;
  /** Threads the panels are split over (1: not split). */
  readonly shares: number;
}

/** The kernels a range of panels calls (on the instance, or recorded for a thread's share). */
type Int8PanelKernels = Pick<Int8Kernels, 'rowsToPanels16' | 'panelsToRows16' | 'quantizePanelPairs16' | 'quantizePanelWords16' | 'denseInt8Panel16' | 'csrPairsPanel16' | 'nonFiniteProbe'>;
const INT8_PANEL_KERNELS: readonly (keyof Int8PanelKernels)[] = ['rowsToPanels16', 'panelsToRows16', 'quantizePanelPairs16', 'quantizePanelWords16', 'denseInt8Panel16', 'csrPairsPanel16', 'nonFiniteProbe'];

/**
 * Byte addresses of a plan's buffers in the scratch region (see buffers()): input and output rows, one probe
 * float per sample, two vector buffers, and per panel p two float slots (at bufferA/B + p·panelSlot), its
 * int8 codes (at codes + p·codeSlot) and its 16 scales (at scales + 64·p).
 */
interface Int8Buffers {
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly probe: number;
  readonly vectorA: number;
  readonly vectorB: number;
  readonly bufferA: number;
  readonly bufferB: number;
  readonly codes: number;
  readonly scales: number;
}

/** A compiled network run by the int8 WebAssembly SIMD kernels; see compileInference with backend 'wasm-int8'. */
export class Int8Model extends CompiledNetwork<Int8Plan> {
  readonly backend = 'wasm-int8';
  private readonly layers: Int8LayerFacts[];
  private readonly widest: number;
  /** Bytes of one panel's float activations (16 samples of the widest layer, 16 floats of slack) and of its codes. */
  private readonly panelSlot: number;
  private readonly codeSlot: number;
  /** One vector's int8 codes, its scale, and its codes as float32 (for sellInt8Matvec): vectors run on the caller. */
  private readonly vectorCodes: number;
  private readonly vectorScale: number;
  private readonly codesF32: number;
  private readonly panelThreads: PanelThreads<Int8Plan, Int8PanelKernels, Int8Buffers> | null;
  private scratch = 0;
  private scratchBytes = 0;

  /** @internal use compileInference(layers, { backend: 'wasm-int8' }); `threads` is null for one thread. */
  constructor(layers: readonly CheckedLayer[], strategy: InferenceStrategy, private readonly arena: WasmArena, private readonly k: Int8Kernels, maxPlans: number, threads: ThreadSetup | null = null) {
    super(layers[0]!.inFeatures, layers[layers.length - 1]!.outFeatures, strategy, INT8_COST_MODEL, maxPlans);
    this.layers = layers.map((layer, index) => {
      const placed = placeInt8Layer(arena, layer, index);
      const nnz = layer.csr.nnz;
      return {
        inFeatures: layer.inFeatures, outFeatures: layer.outFeatures, activation: layer.activation, nnz, density: layer.csr.density,
        csrBytes: nnz * 5 + 4 * (layer.outFeatures + 1) + 4 * layer.outFeatures, bsrStored: null, bsrBytes: null, placed,
      };
    });
    this.widest = Math.max(...layers.map((l) => Math.max(l.inFeatures, l.outFeatures))) + 1; // +1: an odd width's pair partner
    this.panelSlot = 64 * (this.widest + 16);
    this.codeSlot = Math.ceil((32 * (this.widest + 16)) / 64) * 64;
    this.vectorCodes = arena.alloc(this.codeSlot);
    this.vectorScale = arena.alloc(64);
    this.codesF32 = arena.alloc(4 * (this.widest + 16));
    this.panelThreads = threads === null ? null : new PanelThreads<Int8Plan, Int8PanelKernels, Int8Buffers>(threads, arena, this, k, INT8_PANEL_KERNELS);
  }

  /** How many threads predict splits a batch's panels over (the model's memory is shared when > 1). */
  override get threads(): number {
    return this.panelThreads?.threads ?? 1;
  }

  /** Bytes of WebAssembly memory the model uses (weights and activation scratch). */
  get memoryBytes(): number {
    return this.arena.bytes;
  }

  protected buildPlan(batch: number): Int8Plan {
    const { panels, vectors } = cutBatch(batch);
    const steps = this.layers.map((layer): Int8Step => {
      const panelKernel = this.pick(layer, 16);
      const vectorKernel = this.pick(layer, 1);
      if (panels > 0 && panelKernel === 'dense') placeDensePairs(this.arena, layer.placed);
      if (vectors > 0 && vectorKernel === 'dense') placeDenseRows(this.arena, layer.placed);
      if (vectors > 0 && vectorKernel === 'csr') placeVectorCsr(this.arena, layer.placed);
      return { layer, kernel: panels > 0 ? panelKernel : vectorKernel, panelKernel, vectorKernel };
    });
    // The products only: quantizing a layer's input costs O(features) per panel, small beside them.
    const panelNs = steps.reduce((ns, step) => ns + estimateKernelNs(INT8_COST_MODEL, step.panelKernel, step.layer, 16), 0);
    const shares = Math.max(1, Math.min(this.threads, panels, Math.floor((panels * panelNs) / MIN_NS_PER_SHARE)));
    const scratchBytes = this.buffers(panels, vectors, 0).end;
    if (scratchBytes > this.scratchBytes) {
      this.scratch = this.arena.alloc(scratchBytes);
      this.scratchBytes = scratchBytes;
    }
    return { batch, panels, vectors, shares, steps, output: new Float32Array(batch * this.outFeatures), classes: new Int32Array(batch), nonFinite: new Uint8Array(batch) };
  }

  private pick(layer: Int8LayerFacts, width: 16 | 1): KernelName {
    if (this.strategy === 'auto' || this.strategy === 'autotune') return chooseKernel(INT8_COST_MODEL, layer, width);
    return this.strategy === 'bsr4x1' ? 'csr' : this.strategy;
  }

  /**
   * The buffers of a plan with `panels` panels and `vectors` vectors in a scratch region at byte address
   * `base`, and where they end. 64 bytes of slack at the end: quantizeVector reads up to 15 floats past its input.
   */
  private buffers(panels: number, vectors: number, base: number): Int8Buffers & { end: number } {
    const samples = 16 * panels + vectors;
    const vectorBytes = 4 * (this.widest + 16);
    const rowsIn = base;
    const rowsOut = rowsIn + 4 * samples * this.inFeatures;
    const probe = rowsOut + 4 * samples * this.outFeatures;
    const vectorA = probe + 4 * samples;
    const vectorB = vectorA + vectorBytes;
    // The panels' slots on cache lines: the kernels' v128 loads of a misaligned panel cost ~5 % at batch 64.
    // (Aligning the buffers before them as well made batch 1 slower, 4.4 → 5.4 µs on a 90 %-sparse LeNet-300-100.)
    const bufferA = Math.ceil((vectorB + vectorBytes) / 64) * 64;
    const bufferB = bufferA + panels * this.panelSlot;
    const codes = bufferB + panels * this.panelSlot;
    const scales = codes + panels * this.codeSlot;
    return { rowsIn, rowsOut, probe, vectorA, vectorB, bufferA, bufferB, codes, scales, end: scales + 64 * panels + 64 };
  }

  protected run(plan: Int8Plan, x: Float32Array | Float64Array): void {
    const { batch, panels, vectors } = plan;
    const at = this.buffers(panels, vectors, this.scratch);
    // Input: copied (float64 is rounded to float32 here). On threads the panels' rows are copied chunk by
    // chunk while the other threads start on the first ones; otherwise in one copy. The padding samples of
    // a padded panel keep whatever an earlier call left there: each is its own lane, with its own scale.
    const threaded = panels > 0 && plan.shares > 1;
    if (!threaded) this.arena.f32().set(x, at.rowsIn / 4);
    else if (vectors > 0) this.arena.copyRows(x, at.rowsIn, this.inFeatures, 16 * panels, batch);
    if (vectors > 0) this.runVectors(plan, at);
    if (threaded) this.panelThreads!.run(plan, at, this.scratch, (p0, p1) => this.arena.copyRows(x, at.rowsIn, this.inFeatures, 16 * p0, Math.min(16 * p1, batch)));
    else if (panels > 0) this.runPanels(this.k, plan, at, 0, plan.steps.length, 0, panels);
    plan.output.set(this.arena.f32().subarray(at.rowsOut / 4, at.rowsOut / 4 + batch * this.outFeatures));
  }


  /**
   * Layers [from, to) of the panels [p0, p1), with the kernels `K` (the instance's, or a recorder for a
   * thread's share): layer 0 starts by probing and transposing the input rows into panels, the last layer
   * ends by transposing into rowsOut. Each panel goes through the layers before the next one starts (its
   * data stays in the cache); layer l reads slot A when l is even, B when odd, and writes the other,
   * quantizing into the slot's codes and scales. Slots are per panel in the scratch, and a call uses only
   * those of its own panels, so threads never share one. A sigmoid or tanh is applied here on one thread,
   * or left to the caller for a thread's share (which then ends right after that layer; see PanelThreads).
   *
   * @internal Called by this backend's thread shares (panel-threads.ts); not part of the public model.
   */
  runPanels(K: Int8PanelKernels, plan: Int8Plan, at: Int8Buffers, from: number, to: number, p0: number, p1: number): void {
    const fIn0 = this.inFeatures;
    const oneThread = K === this.k;
    // Activations outlive this call only when the layers are cut into jobs (a sigmoid/tanh before the last
    // layer): then each panel keeps its own slot. Otherwise the panels of [p0, p1), which run one after the
    // other on one thread, share the slot of p0 (one panel's scratch in the cache, not p1 − p0 cold ones).
    const perPanel = from > 0 || to < plan.steps.length;
    // The non-finite probe of these samples' input rows (flagNonFinite reads it), here so threads share it.
    if (from === 0) K.nonFiniteProbe(16 * (p1 - p0), fIn0, at.rowsIn + 64 * p0 * fIn0, at.probe + 64 * p0);
    for (let p = p0; p < p1; p++) {
      const slot = perPanel ? p : p0; // one thread: p0 = 0
      const [slotA, slotB] = [at.bufferA + slot * this.panelSlot, at.bufferB + slot * this.panelSlot];
      const [codes, scales] = [at.codes + slot * this.codeSlot, at.scales + 64 * slot];
      if (from === 0) K.rowsToPanels16(1, fIn0, at.rowsIn + 64 * p * fIn0, slotA);
      for (let l = from; l < to; l++) {
        const step = plan.steps[l]!;
        const { placed, activation } = step.layer;
        const [input, output] = l % 2 === 0 ? [slotA, slotB] : [slotB, slotA];
        if (step.panelKernel === 'dense') {
          K.quantizePanelPairs16(placed.inFeatures, input, codes, scales);
          K.denseInt8Panel16(placed.outFeatures, Math.ceil(placed.inFeatures / 2), placed.densePairs, placed.scales, placed.bias, placed.relu, codes, scales, output);
        } else {
          K.quantizePanelWords16(placed.inFeatures, input, codes, scales);
          K.csrPairsPanel16(placed.outFeatures, placed.pairPtr, placed.pairOffsets, placed.pairWeights, placed.scales, placed.bias, placed.relu, codes, scales, output);
        }
        if (oneThread && (activation === 'sigmoid' || activation === 'tanh')) {
          applyActivationInPlace(activation, this.arena.f32(), output / 4, output / 4 + 16 * placed.outFeatures);
        }
      }
      if (to === plan.steps.length) K.panelsToRows16(1, this.outFeatures, plan.steps.length % 2 === 1 ? slotB : slotA, at.rowsOut + 64 * p * this.outFeatures);
    }
  }

  /**
   * Layer l's sigmoid or tanh on every panel slot, or on the output rows after the last layer (elementwise: same bits).
   *
   * @internal Called by this backend's thread shares (panel-threads.ts); not part of the public model.
   */
  applyPanelActivation(plan: Int8Plan, at: Int8Buffers, l: number): void {
    activatePanels(this.arena, plan, at, l, this.panelSlot);
  }

  /** The single vectors (samples after the panels) through every layer, on the calling thread, into their rows of rowsOut. */
  private runVectors(plan: Int8Plan, at: Int8Buffers): void {
    const k = this.k;
    const [codes, scale] = [this.vectorCodes, this.vectorScale];
    for (let t = 0; t < plan.vectors; t++) {
      const sample = 16 * plan.panels + t;
      let input = at.rowsIn + 4 * sample * this.inFeatures;
      let spare = at.vectorA;
      plan.steps.forEach((step, l) => {
        const { placed, activation } = step.layer;
        const output = l === plan.steps.length - 1 ? at.rowsOut + 4 * sample * this.outFeatures : spare;
        k.quantizeVector(placed.inFeatures, input, codes, scale);
        if (step.vectorKernel === 'dense') {
          k.denseInt8Matvec(placed.outFeatures, Math.ceil(placed.inFeatures / 8), placed.denseRows, placed.scales, placed.bias, placed.relu, codes, scale, output);
        } else if (placed.vector!.kernel === 'swizzle') {
          const { nSlices, slicePtr, slots, sliceScales, sliceBias, rows } = placed.vector!;
          k.swizzleInt8Matvec(nSlices, slicePtr, slots, sliceScales, sliceBias, rows, placed.relu, codes, scale, output);
        } else {
          k.codesToF32(placed.inFeatures, codes, this.codesF32);
          const { nSlices, slicePtr, rowOffsets, slots } = placed.vector!.sell;
          k.sellInt8Matvec(nSlices, slicePtr, rowOffsets, slots, placed.scales, placed.bias, placed.relu, this.codesF32, scale, output);
        }
        if (activation === 'sigmoid' || activation === 'tanh') applyActivationInPlace(activation, this.arena.f32(), output / 4, output / 4 + placed.outFeatures);
        input = output;
        spare = spare === at.vectorA ? at.vectorB : at.vectorA;
      });
    }
  }

  /** The probe kernel's results on the float32 copy of the input: runPanels probed the panels' rows, the vectors are probed here. */
  protected override flagNonFinite(plan: Int8Plan): number {
    const at = this.buffers(plan.panels, plan.vectors, this.scratch);
    const first = 16 * plan.panels;
    if (plan.vectors > 0) this.k.nonFiniteProbe(plan.vectors, this.inFeatures, at.rowsIn + 4 * first * this.inFeatures, at.probe + 4 * first);
    return flagNonFiniteSums(plan.batch, this.arena.f32().subarray(at.probe / 4, at.probe / 4 + plan.batch), plan.nonFinite);
  }
}
