import type { InferenceStrategy } from '../../inference/backend.ts';
import { chooseKernel, type KernelName } from '../../inference/cost-model.ts';
import type { CheckedLayer } from '../../inference/layers.ts';
import { CompiledNetwork, type LayerFacts, type Plan, type PlanStep } from '../../inference/model.ts';
import { applyActivationInPlace } from '../../kernels/activation.ts';
import type { WasmArena } from '../wasm-simd/arena.ts';
import { cutBatch } from '../wasm-simd/cost-model.ts';
import { INT8_COST_MODEL } from './cost-model.ts';
import type { Int8Kernels } from './kernels.ts';
import { placeDensePairs, placeDenseRows, placeInt8Layer, placeVectorCsr, type PlacedInt8Layer } from './weights.ts';

/*
 * The int8 backend's model: weights as int8 codes with per-row scales, activations quantized per sample right
 * before each layer, int8 × int8 products summed in int32 and rescaled once per output (kernels-int8.ts).
 *
 * A batch is cut like the float SIMD backend's (16-sample panels, a few single vectors), and each layer picks
 * dense or CSR for panels and for vectors by the cost model (CSR vectors run the swizzle kernel or SELL-4 on
 * the codes as float32, whichever the layer's slot counts favour; weights.ts, placeVectorCsr). A panel goes through all layers before the next
 * panel starts, so the activations of one panel (float, then int8) stay in the cache and the scratch holds one
 * panel's worth, not the batch's. It runs on one thread: the `threads` option is accepted and ignored
 * (model.threads is 1) — the float backend's thread pool shares its own kernel instance and memory layout.
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
}

/** A compiled network run by the int8 WebAssembly SIMD kernels; see compileInference with backend 'wasm-int8'. */
export class Int8Model extends CompiledNetwork<Int8Plan> {
  readonly backend = 'wasm-int8';
  private readonly layers: Int8LayerFacts[];
  private readonly widest: number;
  /** One panel's float activations (two ping-pong slots), its int8 codes, its 16 scales. */
  private readonly panelA: number;
  private readonly panelB: number;
  private readonly codes: number;
  /** One vector's codes as float32, for sellInt8Matvec. */
  private readonly codesF32: number;
  private readonly scales: number;
  private scratch = 0;
  private scratchBytes = 0;

  /** @internal use compileInference(layers, { backend: 'wasm-int8' }) */
  constructor(layers: readonly CheckedLayer[], strategy: InferenceStrategy, private readonly arena: WasmArena, private readonly k: Int8Kernels, maxPlans: number) {
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
    this.panelA = arena.alloc(64 * (this.widest + 16));
    this.panelB = arena.alloc(64 * (this.widest + 16));
    this.codes = arena.alloc(32 * (this.widest + 16));
    this.codesF32 = arena.alloc(4 * (this.widest + 16));
    this.scales = arena.alloc(64);
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
    const samples = 16 * panels + vectors;
    // Input rows, output rows, two vector buffers, the probe; 16 floats of slack that quantizeVector may read.
    const scratchBytes = 4 * (samples * (this.inFeatures + this.outFeatures + 1) + 2 * (this.widest + 16) + 16);
    if (scratchBytes > this.scratchBytes) {
      this.scratch = this.arena.alloc(scratchBytes);
      this.scratchBytes = scratchBytes;
    }
    return { batch, panels, vectors, steps, output: new Float32Array(batch * this.outFeatures), classes: new Int32Array(batch), nonFinite: new Uint8Array(batch) };
  }

  private pick(layer: Int8LayerFacts, width: 16 | 1): KernelName {
    if (this.strategy === 'auto' || this.strategy === 'autotune') return chooseKernel(INT8_COST_MODEL, layer, width);
    return this.strategy === 'bsr4x1' ? 'csr' : this.strategy;
  }

  /** Scratch addresses for `samples` samples. */
  private buffers(samples: number): { rowsIn: number; rowsOut: number; vectorA: number; vectorB: number; probe: number } {
    const rowsIn = this.scratch;
    const rowsOut = rowsIn + 4 * samples * this.inFeatures;
    const vectorA = rowsOut + 4 * samples * this.outFeatures;
    const vectorB = vectorA + 4 * (this.widest + 16);
    return { rowsIn, rowsOut, vectorA, vectorB, probe: vectorB + 4 * (this.widest + 16) };
  }

  protected run(plan: Int8Plan, x: Float32Array | Float64Array): void {
    const { batch, panels, vectors } = plan;
    const at = this.buffers(16 * panels + vectors);
    this.arena.f32().set(x, at.rowsIn / 4);
    const k = this.k;
    for (let p = 0; p < panels; p++) {
      k.rowsToPanels16(1, this.inFeatures, at.rowsIn + 64 * p * this.inFeatures, this.panelA);
      let [input, output] = [this.panelA, this.panelB];
      for (const step of plan.steps) {
        const { placed } = step.layer;
        if (step.panelKernel === 'dense') {
          k.quantizePanelPairs16(placed.inFeatures, input, this.codes, this.scales);
          k.denseInt8Panel16(placed.outFeatures, Math.ceil(placed.inFeatures / 2), placed.densePairs, placed.scales, placed.bias, placed.relu, this.codes, this.scales, output);
        } else {
          k.quantizePanelWords16(placed.inFeatures, input, this.codes, this.scales);
          k.csrPairsPanel16(placed.outFeatures, placed.pairPtr, placed.pairOffsets, placed.pairWeights, placed.scales, placed.bias, placed.relu, this.codes, this.scales, output);
        }
        this.activate(step, output, 16 * placed.outFeatures);
        [input, output] = [output, input];
      }
      k.panelsToRows16(1, this.outFeatures, input, at.rowsOut + 64 * p * this.outFeatures);
    }
    for (let t = 0; t < vectors; t++) {
      const sample = 16 * panels + t;
      let input = at.rowsIn + 4 * sample * this.inFeatures;
      let spare = at.vectorA;
      plan.steps.forEach((step, l) => {
        const { placed } = step.layer;
        const output = l === plan.steps.length - 1 ? at.rowsOut + 4 * sample * this.outFeatures : spare;
        k.quantizeVector(placed.inFeatures, input, this.codes, this.scales);
        if (step.vectorKernel === 'dense') {
          k.denseInt8Matvec(placed.outFeatures, Math.ceil(placed.inFeatures / 8), placed.denseRows, placed.scales, placed.bias, placed.relu, this.codes, this.scales, output);
        } else if (placed.vector!.kernel === 'swizzle') {
          const { nSlices, slicePtr, slots, sliceScales, sliceBias, rows } = placed.vector!;
          k.swizzleInt8Matvec(nSlices, slicePtr, slots, sliceScales, sliceBias, rows, placed.relu, this.codes, this.scales, output);
        } else {
          k.codesToF32(placed.inFeatures, this.codes, this.codesF32);
          const { nSlices, slicePtr, rowOffsets, slots } = placed.vector!.sell;
          k.sellInt8Matvec(nSlices, slicePtr, rowOffsets, slots, placed.scales, placed.bias, placed.relu, this.codesF32, this.scales, output);
        }
        this.activate(step, output, placed.outFeatures);
        input = output;
        spare = spare === at.vectorA ? at.vectorB : at.vectorA;
      });
    }
    plan.output.set(this.arena.f32().subarray(at.rowsOut / 4, at.rowsOut / 4 + batch * this.outFeatures));
  }

  /** Sigmoid and tanh are not fused into the kernels: applied here, element by element. */
  private activate(step: Int8Step, address: number, count: number): void {
    const { activation } = step.layer;
    if (activation === 'sigmoid' || activation === 'tanh') applyActivationInPlace(activation, this.arena.f32(), address / 4, address / 4 + count);
  }

  protected override flagNonFinite(plan: Int8Plan): number {
    const at = this.buffers(16 * plan.panels + plan.vectors);
    this.k.nonFiniteProbe(plan.batch, this.inFeatures, at.rowsIn, at.probe);
    const f32 = this.arena.f32();
    let flagged = 0;
    for (let s = 0; s < plan.batch; s++) {
      const bad = f32[at.probe / 4 + s] !== 0;
      plan.nonFinite[s] = bad ? 1 : 0;
      if (bad) flagged++;
    }
    return flagged;
  }
}
