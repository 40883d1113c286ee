import { ConfigError, ShapeError } from '../errors.ts';
import { csrFromDense } from './convert.ts';
import type { CSRMatrix } from './csr-matrix.ts';
import type { KernelName } from './select-kernel.ts';

/*
 * What both inference backends share: the plain layer data a model is compiled from, its validation, and
 * the public shape of a compiled model (the TypeScript SparseModel in inference.ts and the WebAssembly
 * SIMD WasmSparseModel in wasm/wasm-model.ts).
 */

export type Activation = 'relu' | 'sigmoid' | 'tanh' | 'none';

/** One fully connected layer, y = act(x·Wᵀ + b), as plain data (what the nn → sparse adapter produces). */
export interface InferenceLayer {
  /** [outFeatures, inFeatures] row-major; zeros are pruned weights. */
  weight: Float32Array;
  outFeatures: number;
  inFeatures: number;
  bias: Float32Array | null;
  activation: Activation;
  /** Optional keep-mask (1 = keep) of weight's length; masked-out weights are treated as pruned. */
  mask?: Uint8Array;
}

/** What compileInference reports about one layer at one batch size. */
export interface LayerReport {
  index: number;
  inFeatures: number;
  outFeatures: number;
  nnz: number;
  density: number;
  /** Dense float32 weight: 4·in·out. */
  denseBytes: number;
  /** CSR: values + indices + indptr. */
  csrBytes: number;
  /** 4×1 BSR (values + indices + indptr), or null when it stores more than 1.5× the nonzeros. */
  bsrBytes: number | null;
  /** Per sample: 2·in·out dense, 2·nnz sparse (bias and activation not counted). */
  denseFlops: number;
  sparseFlops: number;
  kernel: KernelName;
  /** The cost model's estimate per kernel at this batch size, in ns. */
  estimatedNs: Record<KernelName, number>;
}

/** A compiled, inference-only network, whichever backend runs it. */
export interface InferenceModel {
  readonly backend: 'js' | 'wasm-simd';
  readonly inFeatures: number;
  readonly outFeatures: number;
  /**
   * Logits for a batch: `x` is [batch × inFeatures] row-major, the result [batch × outFeatures] row-major.
   * The result is a buffer owned by the model and reused by the next call with the same batch size.
   */
  predict(x: Float32Array | Float64Array, batch: number): Float32Array;
  /** The arg-max class of each sample (first index on ties); a reused buffer like `predict`'s result. */
  predictClasses(x: Float32Array | Float64Array, batch: number): Int32Array;
  /** The kernel each layer runs at this batch size. */
  kernels(batch?: number): KernelName[];
  /** Per-layer sizes, bytes, FLOPs and the chosen kernel at this batch size. */
  report(batch?: number): LayerReport[];
  /** Builds the buffers and kernel choices for a batch size ahead of the first predict (optional warm-up). */
  prepare(batch: number): void;
}

/** A validated layer: its sizes, activation, a private copy of the bias, and the (masked) weight as CSR. */
export interface CheckedLayer {
  inFeatures: number;
  outFeatures: number;
  activation: Activation;
  bias: Float32Array | null;
  csr: CSRMatrix;
  /** The masked dense weight [out, in] (a private copy). */
  masked: Float32Array;
}

/**
 * Validates every layer and the chain (each layer's inputs = the previous layer's outputs) and copies the
 * data, so later changes to the caller's arrays do not reach the model. `who` prefixes the messages.
 */
export function checkLayers(layers: readonly InferenceLayer[], who: string): CheckedLayer[] {
  if (layers.length === 0) throw new ConfigError(`${who}: a model needs at least one layer`);
  const checked = layers.map((layer, index) => checkLayer(layer, `${who}: layer ${index}`));
  for (let l = 1; l < checked.length; l++) {
    if (checked[l]!.inFeatures !== checked[l - 1]!.outFeatures) {
      throw new ShapeError(`${who}: layer ${l} expects ${checked[l]!.inFeatures} inputs but layer ${l - 1} gives ${checked[l - 1]!.outFeatures}`);
    }
  }
  return checked;
}

function checkLayer(layer: InferenceLayer, where: string): CheckedLayer {
  const { inFeatures, outFeatures, weight, bias, activation, mask } = layer;
  for (const [name, n] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
    if (!Number.isSafeInteger(n) || n <= 0) throw new ShapeError(`${where}: ${name} must be a positive integer, got ${n}`);
  }
  if (!(weight instanceof Float32Array)) throw new ShapeError(`${where}: weight must be a Float32Array`);
  if (weight.length !== outFeatures * inFeatures) {
    throw new ShapeError(`${where}: weight has ${weight.length} elements, expected [${outFeatures}, ${inFeatures}] = ${outFeatures * inFeatures}`);
  }
  if (bias !== null && (!(bias instanceof Float32Array) || bias.length !== outFeatures)) {
    throw new ShapeError(`${where}: bias has ${bias?.length} elements, expected ${outFeatures}`);
  }
  if (mask !== undefined && mask.length !== weight.length) {
    throw new ShapeError(`${where}: mask has ${mask.length} elements, expected ${weight.length}`);
  }
  if (!['relu', 'sigmoid', 'tanh', 'none'].includes(activation)) {
    throw new ConfigError(`${where}: unknown activation '${String(activation)}' (relu, sigmoid, tanh, none)`);
  }
  const masked = weight.slice();
  if (mask !== undefined) for (let i = 0; i < masked.length; i++) if (mask[i] === 0) masked[i] = 0;
  return { inFeatures, outFeatures, activation, bias: bias === null ? null : bias.slice(), csr: csrFromDense(masked, outFeatures, inFeatures), masked };
}

/** Checks a predict call's input against the model's input size. */
export function checkInput(x: Float32Array | Float64Array, batch: number, inFeatures: number): void {
  if (!(x instanceof Float32Array) && !(x instanceof Float64Array)) throw new ShapeError('predict: x must be a Float32Array or Float64Array');
  if (!Number.isSafeInteger(batch) || batch <= 0) throw new ShapeError(`predict: batch must be a positive integer, got ${batch}`);
  const expected = batch * inFeatures;
  if (x.length !== expected) {
    throw new ShapeError(`predict: x has ${x.length} elements, expected batch × inFeatures = ${batch} × ${inFeatures} = ${expected}`);
  }
}

/** Arg-max per row of logits [batch × classes] into `out` (first index on ties). */
export function argmaxRows(logits: Float32Array, batch: number, classes: number, out: Int32Array): Int32Array {
  for (let s = 0; s < batch; s++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[s * classes + c]! > logits[s * classes + best]!) best = c;
    out[s] = best;
  }
  return out;
}

/**
 * Plans (buffers and kernel choices for one batch size) built on first use and kept; beyond `max` plans the
 * oldest is dropped. Both backends keep theirs here, so repeated calls at one batch size allocate nothing.
 */
export class PlanCache<P> {
  private readonly plans = new Map<number, P>();

  constructor(private readonly max: number, private readonly build: (batch: number) => P) {}

  get(batch: number): P {
    const existing = this.plans.get(batch);
    if (existing !== undefined) return existing;
    if (!Number.isSafeInteger(batch) || batch <= 0) throw new ShapeError(`batch must be a positive integer, got ${batch}`);
    const plan = this.build(batch);
    if (this.plans.size >= Math.max(1, this.max)) this.plans.delete(this.plans.keys().next().value!);
    this.plans.set(batch, plan);
    return plan;
  }
}

/**
 * What both backends' models share: input checks, the plan cache, predict / predictClasses / prepare.
 * A backend supplies how a plan for one batch size is built and how it runs.
 */
export abstract class CompiledNetwork<P extends { output: Float32Array; classes: Int32Array }> implements InferenceModel {
  abstract readonly backend: 'js' | 'wasm-simd';
  protected readonly plans: PlanCache<P>;

  constructor(readonly inFeatures: number, readonly outFeatures: number, maxPlans: number) {
    this.plans = new PlanCache(maxPlans, (batch) => this.buildPlan(batch));
  }

  /**
   * Logits for a batch: `x` is [batch × inFeatures] row-major, the result [batch × outFeatures] row-major.
   * NOTE: the result is a buffer owned by the model and reused by the next call with the same batch size
   * (that is what makes repeated calls allocation-free); copy it (`.slice()`) to keep it.
   */
  predict(x: Float32Array | Float64Array, batch: number): Float32Array {
    checkInput(x, batch, this.inFeatures);
    const plan = this.plans.get(batch);
    this.run(plan, x);
    return plan.output;
  }

  /** The arg-max class of each sample (first index on ties); a reused buffer like `predict`'s result. */
  predictClasses(x: Float32Array | Float64Array, batch: number): Int32Array {
    const logits = this.predict(x, batch);
    return argmaxRows(logits, batch, this.outFeatures, this.plans.get(batch).classes);
  }

  /** Builds the buffers and kernel choices for a batch size ahead of the first predict (optional warm-up). */
  prepare(batch: number): void {
    this.plans.get(batch);
  }

  abstract kernels(batch?: number): KernelName[];
  abstract report(batch?: number): LayerReport[];
  protected abstract buildPlan(batch: number): P;
  protected abstract run(plan: P, x: Float32Array | Float64Array): void;
}
