import { fillFlaggedRowsNaN } from '../kernels/non-finite.ts';
import type { InferenceStrategy } from './backend.ts';
import type { CheckedConv } from './conv-layers.ts';
import { chooseKernel, estimateKernelNs, KERNELS, type CostModel, type KernelName, type LayerCostInput } from './cost-model.ts';
import type { CheckedLayer } from './layers.ts';
import { argmaxRows, checkInput, PlanCache, type InferenceModel, type LayerReport } from './model.ts';

/*
 * A compiled network that starts with convolution layers: a backend's ConvStage runs them image by image
 * (a convolution's work is per image; its vector dimension is the output's spatial positions, not the batch),
 * and the fully connected layers after them run as the backend's ordinary compiled model on the stage's
 * output rows. Everything a caller sees — input checks, the non-finite input rule, classes, kernels() and
 * report() — is here, once, for every backend.
 *
 * Kernel choice for a convolution (the same at every batch size, since it runs per image): the weight is the
 * matrix [O, K = C·kh·kw] and the P = Ho·Wo output positions play the part of the batch, so the backend's cost
 * model compares its dense kernel (im2col + GEMM: O·K·P multiply-adds) with its sparse one (nnz·P) exactly as
 * it does for a fully connected layer at batch P.
 */

/** One backend's compiled convolution layers (the network's first layers). */
export interface ConvStage {
  /** C·H·W of the first layer's input image. */
  readonly inFeatures: number;
  /** Features per image the last convolution layer gives (after its pooling), channel-major. */
  readonly outFeatures: number;
  /** The kernel each convolution layer runs. */
  readonly kernels: readonly KernelName[];
  /**
   * The convolutions of `batch` images x [batch × inFeatures] into out [batch × outFeatures] (float32); sets
   * nonFinite[s] to 1 for an image holding a NaN or ±Infinity (else 0) and returns how many there are.
   */
  run(x: Float32Array | Float64Array, batch: number, out: Float32Array, nonFinite: Uint8Array): number;
}

/** The cost model's view of a convolution: the matrix [O, C·kh·kw] applied at P = Ho·Wo positions. */
export function convCostInput(layer: CheckedLayer): LayerCostInput {
  return { inFeatures: layer.csr.nCols, outFeatures: layer.csr.nRows, nnz: layer.csr.nnz, bsrStored: null };
}

/** Output positions of a convolution (before pooling). */
export function convPositions(conv: CheckedConv): number {
  return conv.outHeight * conv.outWidth;
}

/**
 * The kernel a convolution layer runs: 'dense' (im2col + GEMM) or 'csr' (the sparse convolution). 'auto' and
 * 'autotune' ask the cost model (convolutions are not timed); 'bsr4x1' runs 'csr' (there is no block-sparse
 * convolution kernel).
 */
export function chooseConvKernel(model: CostModel, strategy: InferenceStrategy, layer: CheckedLayer): 'dense' | 'csr' {
  if (strategy === 'dense') return 'dense';
  if (strategy === 'csr' || strategy === 'bsr4x1') return 'csr';
  return chooseKernel(model, convCostInput(layer), convPositions(layer.conv!)) === 'dense' ? 'dense' : 'csr';
}

/** What report() says about a convolution layer: the matrix [O, K], FLOPs and estimates per image. */
export function convLayerReport(model: CostModel, layer: CheckedLayer, kernel: KernelName, index: number): LayerReport {
  const { csr } = layer;
  const positions = convPositions(layer.conv!);
  const estimate = (k: KernelName): number => (k === 'bsr4x1' ? Infinity : estimateKernelNs(model, k, convCostInput(layer), positions));
  return {
    index, inFeatures: csr.nCols, outFeatures: csr.nRows, nnz: csr.nnz, density: csr.density,
    denseBytes: 4 * csr.nRows * csr.nCols, csrBytes: csr.bytes, bsrBytes: null,
    denseFlops: 2 * csr.nRows * csr.nCols * positions, sparseFlops: 2 * csr.nnz * positions,
    kernel, estimatedNs: Object.fromEntries(KERNELS.map((k) => [k, estimate(k)])) as Record<KernelName, number>,
  };
}

interface ConvPlan {
  readonly features: Float32Array;
  readonly classes: Int32Array;
  readonly nonFinite: Uint8Array;
}

/** A compiled convolutional network: a ConvStage, then (optionally) the fully connected model. */
export class ConvNetworkModel implements InferenceModel {
  readonly inFeatures: number;
  readonly outFeatures: number;
  private readonly plans: PlanCache<ConvPlan>;

  /** @internal built by a backend's compileConv; use compileInference */
  constructor(
    readonly backend: string,
    readonly strategy: InferenceStrategy,
    private readonly stage: ConvStage,
    /** The fully connected layers after the convolutions, or null when the network ends with a convolution. */
    private readonly dense: InferenceModel | null,
    private readonly convLayers: readonly CheckedLayer[],
    private readonly costModel: CostModel,
    maxPlans: number,
  ) {
    this.inFeatures = stage.inFeatures;
    this.outFeatures = dense?.outFeatures ?? stage.outFeatures;
    this.plans = new PlanCache(maxPlans, (batch) => ({
      features: new Float32Array(batch * stage.outFeatures), classes: new Int32Array(batch), nonFinite: new Uint8Array(batch),
    }));
  }

  /**
   * Logits [batch × outFeatures] for images x [batch × C·H·W] (channel-major rows); a buffer reused by the next
   * call at this batch size. A sample whose input holds a NaN or ±Infinity gets NaN logits. ShapeError for a wrong size.
   */
  predict(x: Float32Array | Float64Array, batch: number): Float32Array {
    checkInput(x, batch, this.inFeatures);
    const plan = this.plans.get(batch);
    const flagged = this.stage.run(x, batch, plan.features, plan.nonFinite);
    const output = this.dense === null ? plan.features : this.dense.predict(plan.features, batch);
    // A pruned weight may drop a NaN pixel, so the rule is applied from the input itself.
    if (flagged > 0) fillFlaggedRowsNaN(batch, this.outFeatures, plan.nonFinite, output);
    return output;
  }

  /** The arg-max class of each sample (first on ties), −1 for NaN logits; a reused buffer. */
  predictClasses(x: Float32Array | Float64Array, batch: number): Int32Array {
    const logits = this.predict(x, batch);
    return argmaxRows(logits, batch, this.outFeatures, this.plans.get(batch).classes);
  }

  /** The kernel of every layer at this batch size (convolutions first). */
  kernels(batch = 1): KernelName[] {
    return [...this.stage.kernels, ...(this.dense?.kernels(batch) ?? [])];
  }

  /** Per-layer report; a convolution's sizes are those of its matrix [O, C·kh·kw], its FLOPs per image. */
  report(batch = 1): LayerReport[] {
    const conv = this.convLayers.map((layer, i) => convLayerReport(this.costModel, layer, this.stage.kernels[i]!, i));
    const dense = (this.dense?.report(batch) ?? []).map((r) => ({ ...r, index: r.index + conv.length }));
    return [...conv, ...dense];
  }

  /** Builds the buffers for a batch size ahead of the first predict. */
  prepare(batch: number): void {
    this.plans.get(batch);
    this.dense?.prepare(batch);
  }

  /** Threads the fully connected part may split a batch over (the convolutions run on one). */
  get threads(): number {
    return this.dense?.threads ?? 1;
  }
}
