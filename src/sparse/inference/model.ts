import { ShapeError } from '../../errors.ts';
import { isFloat32Array, isFloat64Array } from '../../tensor/typed-array.ts';
import { fillFlaggedRowsNaN, flagNonFiniteRows } from '../kernels/non-finite.ts';
import type { Activation } from './layers.ts';
import { estimateKernelNs, KERNELS, type CostModel, type KernelName, type LayerCostInput } from './cost-model.ts';
import type { InferenceStrategy } from './backend.ts';

/*
 * The plan/step model every backend shares, and the public shape of a compiled model.
 *
 * A compiled model keeps one Plan per batch size it has seen: the kernel each layer runs at that size and
 * the buffers it needs, built on first use (PlanCache), so repeated calls at one size allocate nothing. A
 * backend says how to build a plan and how to run one; everything else — input checks, the plan cache,
 * predict/predictClasses, kernels() and report() from its cost model, and the non-finite input rule — is
 * here, once.
 *
 * Non-finite inputs: a sample whose input holds a NaN or ±Infinity gets NaN for every output, on every
 * kernel and backend (kernels/non-finite.ts says why). Overflow inside the network (finite inputs whose
 * activations exceed the float range) follows IEEE arithmetic and may differ between kernels: the
 * TypeScript sparse kernels keep activations in float64, the others in float32.
 */

/** What a plan reports about one compiled layer: sizes and the stored forms' sizes (see LayerReport). */
export interface LayerFacts extends LayerCostInput {
  readonly activation: Activation;
  readonly density: number;
  readonly csrBytes: number;
  readonly bsrBytes: number | null;
}

/** One layer's part of a plan. */
export interface PlanStep<L extends LayerFacts = LayerFacts> {
  readonly layer: L;
  /** The kernel this layer runs at the plan's batch size (for a backend that splits a batch, the one that
   * runs its largest part; its own step type says what runs the rest). */
  readonly kernel: KernelName;
}

/** Kernel choices and buffers for one batch size. */
export interface Plan<S extends PlanStep = PlanStep> {
  readonly batch: number;
  readonly steps: readonly S[];
  /** The logits [batch × outFeatures] row-major that predict returns. */
  readonly output: Float32Array;
  readonly classes: Int32Array;
  /** Per sample: 1 when its input holds a NaN or ±Infinity (set by each predict). */
  readonly nonFinite: Uint8Array;
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
  /** 4×1 BSR (values + indices + indptr), or null when the backend keeps no BSR form of this layer. */
  bsrBytes: number | null;
  /** Per sample: 2·in·out dense, 2·nnz sparse (bias and activation not counted). */
  denseFlops: number;
  sparseFlops: number;
  kernel: KernelName;
  /** The backend's cost-model estimate per kernel at this batch size, in ns (Infinity: not a candidate). */
  estimatedNs: Record<KernelName, number>;
}

/** A compiled, inference-only network, whichever backend runs it. */
export interface InferenceModel {
  /** The name of the backend that runs it (see inference/registry.ts). */
  readonly backend: string;
  readonly strategy: InferenceStrategy;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /**
   * Logits for a batch: `x` is [batch × inFeatures] row-major, the result [batch × outFeatures] row-major.
   * The result is a buffer owned by the model and reused by the next call with the same batch size.
   * A sample whose input holds a NaN or ±Infinity gets NaN logits. Throws ShapeError for a wrong size.
   */
  predict(x: Float32Array | Float64Array, batch: number): Float32Array;
  /**
   * The arg-max class of each sample (first index on ties), or -1 for a sample whose logits are NaN (a non-finite
   * input); a reused buffer like `predict`'s result.
   */
  predictClasses(x: Float32Array | Float64Array, batch: number): Int32Array;
  /** The kernel each layer runs at this batch size. */
  kernels(batch?: number): KernelName[];
  /** Per-layer sizes, bytes, FLOPs, the chosen kernel and the cost model's estimates at this batch size. */
  report(batch?: number): LayerReport[];
  /** Builds the buffers and kernel choices for a batch size ahead of the first predict (optional warm-up). */
  prepare(batch: number): void;
  /** How many threads predict may split a batch over (absent: one). */
  readonly threads?: number;
}

/** Checks a predict call's input against the model's input size (ShapeError naming both sizes). */
export function checkInput(x: Float32Array | Float64Array, batch: number, inFeatures: number): void {
  if (!isFloat32Array(x) && !isFloat64Array(x)) throw new ShapeError('predict: x must be a Float32Array or Float64Array');
  if (!Number.isSafeInteger(batch) || batch <= 0) throw new ShapeError(`predict: batch must be a positive integer, got ${batch}`);
  const expected = batch * inFeatures;
  if (x.length !== expected) {
    throw new ShapeError(`predict: x has ${x.length} elements, expected batch × inFeatures = ${batch} × ${inFeatures} = ${expected}`);
  }
}

/**
 * Arg-max per row of logits [batch × classes] into `out` (first index on ties). A row holding a NaN gets -1:
 * a NaN logit means the sample had no answer, and class 0 would be a silent wrong one.
 */
export function argmaxRows(logits: Float32Array, batch: number, classes: number, out: Int32Array): Int32Array {
  for (let s = 0; s < batch; s++) {
    let best = 0;
    for (let c = 0; c < classes; c++) {
      const v = logits[s * classes + c]!;
      if (v !== v) {
        best = -1;
        break;
      }
      if (v > logits[s * classes + best]!) best = c;
    }
    out[s] = best;
  }
  return out;
}

/**
 * Plans built on first use and kept; beyond `max` plans the oldest is dropped. Throws ShapeError for a batch
 * that is not a positive integer.
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
 * The base of every backend's model. A backend supplies `buildPlan` (kernel choices and buffers for one batch
 * size) and `run` (the layers, writing plan.output); it may override `flagNonFinite` with a faster scan.
 */
export abstract class CompiledNetwork<P extends Plan> implements InferenceModel {
  abstract readonly backend: string;
  /** @internal The plans built so far, by batch size (a backend only supplies buildPlan). */
  protected readonly plans: PlanCache<P>;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly strategy: InferenceStrategy,
    /** The backend's cost model, for report(). */
    protected readonly costModel: CostModel,
    maxPlans: number,
  ) {
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
    if (this.flagNonFinite(plan, x) > 0) fillFlaggedRowsNaN(batch, this.outFeatures, plan.nonFinite, plan.output);
    return plan.output;
  }

  /**
   * The arg-max class of each sample (first index on ties), or -1 for a sample whose logits are NaN (a non-finite
   * input); a reused buffer like `predict`'s result.
   */
  predictClasses(x: Float32Array | Float64Array, batch: number): Int32Array {
    const logits = this.predict(x, batch);
    return argmaxRows(logits, batch, this.outFeatures, this.plans.get(batch).classes);
  }

  /** How many threads predict may split a batch over: one, unless the backend runs threads. */
  get threads(): number {
    return 1;
  }

  /** Builds the buffers and kernel choices for a batch size ahead of the first predict (optional warm-up). */
  prepare(batch: number): void {
    this.plans.get(batch);
  }

  /** The kernel each layer runs at this batch size. */
  kernels(batch = 1): KernelName[] {
    return this.plans.get(batch).steps.map((step) => step.kernel);
  }

  /** Per-layer sizes, bytes, FLOPs, the chosen kernel and the cost model's estimates at this batch size. */
  report(batch = 1): LayerReport[] {
    return this.plans.get(batch).steps.map(({ layer, kernel }, index) => ({
      index,
      inFeatures: layer.inFeatures,
      outFeatures: layer.outFeatures,
      nnz: layer.nnz,
      density: layer.density,
      denseBytes: 4 * layer.inFeatures * layer.outFeatures,
      csrBytes: layer.csrBytes,
      bsrBytes: layer.bsrBytes,
      denseFlops: 2 * layer.inFeatures * layer.outFeatures,
      sparseFlops: 2 * layer.nnz,
      kernel,
      estimatedNs: Object.fromEntries(KERNELS.map((k) => [k, estimateKernelNs(this.costModel, k, layer, batch)])) as Record<KernelName, number>,
    }));
  }

  protected abstract buildPlan(batch: number): P;
  protected abstract run(plan: P, x: Float32Array | Float64Array): void;

  /**
   * Sets plan.nonFinite for the samples of `x` that hold a NaN or ±Infinity and returns how many; called
   * after `run(plan, x)`, so a backend may scan its own copy of the input instead.
   */
  protected flagNonFinite(plan: P, x: Float32Array | Float64Array): number {
    return flagNonFiniteRows(plan.batch, this.inFeatures, x, plan.nonFinite);
  }
}
