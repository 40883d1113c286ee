/**
 * Fine-tuning after quantization, as training hooks for `fit` (src/nn/train.ts):
 *
 * - SharedWeightTraining, "trained quantization" (Deep Compression, section 3.3): the weights of a codebook
 *   layer are tied to their centroids, and the gradient of a centroid is the sum of its members' gradients
 *   (∂L/∂c_k = Σ_{i: code_i = k} ∂L/∂w_i). After backward every member's gradient is replaced by that sum, so any
 *   element-wise optimizer (SGD, momentum, Adam: identical gradients and identical fresh state give identical
 *   updates) moves all members of a group by the same step: exactly one update of the centroid. After the step
 *   the centroids are read back from the members and the weights re-tied, so rounding can never untie them.
 *   Use a fresh optimizer, so every member starts from the same state. A summed gradient is ~group size times
 *   a weight's gradient: Adam (scale-free) is the natural optimizer; with SGD lower the learning rate.
 *
 * - Int8AwareTraining, quantization-aware training for int8: the forward pass sees fake-quantized weights
 *   (quantize → dequantize with fresh per-row scales), and the gradient passes straight through the rounding
 *   (straight-through estimator, Bengio et al. 2013; Jacob et al. 2018) to float "shadow" weights: after each
 *   step the update the optimizer applied to the quantized weights is applied to the shadows instead, and the
 *   weights are fake-quantized again.
 *
 * Masks are never touched: pruned weights have no gradient, are no group's member and stay exactly 0.
 */

import { ConfigError } from '../errors.ts';
import type { CodebookValues, Int8Values, QuantizedValues } from '../io/encodings/quantized-values.ts';
import type { Module } from '../nn/module.ts';
import type { Parameter } from '../nn/parameter.ts';
import type { TrainingHooks } from '../nn/train.ts';
import { fakeQuantizeRowsInt8 } from './int8.ts';
import { memberIndices, quantizableParameters, weightMatrixDims, type ModelQuantization } from './quantize-model.ts';

/**
 * The gradient of each centroid: Σ of the gradients of its members (entries with `member[i] = 1`, or all when
 * `member` is null). Float64 sums. The core of trained quantization, exported so it can be checked numerically.
 */
export function centroidGradients(grad: Float32Array, codes: Uint8Array, codebookSize: number, member: Uint8Array | null): Float64Array {
  const sums = new Float64Array(codebookSize);
  for (let i = 0; i < grad.length; i++) if (member === null || member[i] === 1) sums[codes[i] as number]! += grad[i] as number;
  return sums;
}

interface TiedWeight {
  readonly name: string;
  readonly param: Parameter;
  readonly members: Int32Array;
  codebook: Float32Array;
  readonly q: CodebookValues;
}

/** Training hooks for trained quantization of codebook weights (see the file comment). */
export class SharedWeightTraining implements TrainingHooks {
  private readonly tied: TiedWeight[] = [];

  /**
   * Ties the codebook weights of `quantization` (from quantizeModel with method 'kmeans') to their centroids.
   * ConfigError when a name is not a quantizable weight (2-D or 4-D) of `model` or the codes do not fit it.
   */
  constructor(model: Module, private readonly quantization: ModelQuantization) {
    const params = new Map(quantizableParameters(model));
    for (const [name, q] of quantization) {
      if (q.kind !== 'codebook') continue;
      const param = params.get(name);
      if (param === undefined || q.codes.length !== param.value.size) throw new ConfigError(`SharedWeightTraining: "${name}" is not a quantized weight of this model`);
      this.tied.push({ name, param, members: memberIndices(param), codebook: Float32Array.from(q.codebook), q });
    }
  }

  /** Each member's gradient becomes the summed gradient of its centroid. */
  afterBackward(): void {
    for (const { param, members, codebook, q } of this.tied) {
      const grad = param.grad?.data as Float32Array | undefined;
      if (grad === undefined) continue;
      const sums = new Float64Array(codebook.length);
      for (const i of members) sums[q.codes[i] as number]! += grad[i] as number;
      for (const i of members) grad[i] = sums[q.codes[i] as number] as number;
    }
  }

  /** Reads each centroid back (the mean of its members, which the step kept equal) and re-ties the weights. */
  afterStep(): void {
    for (const weight of this.tied) {
      const values = weight.param.value.data as Float32Array;
      const sums = new Float64Array(weight.codebook.length);
      const counts = new Float64Array(weight.codebook.length);
      for (const i of weight.members) {
        sums[weight.q.codes[i] as number]! += values[i] as number;
        counts[weight.q.codes[i] as number]! += 1;
      }
      for (let c = 0; c < sums.length; c++) if ((counts[c] as number) > 0) weight.codebook[c] = (sums[c] as number) / (counts[c] as number);
      for (const i of weight.members) values[i] = weight.codebook[weight.q.codes[i] as number] as number;
    }
  }

  /** The quantization with the trained centroids (codes unchanged). */
  result(): ModelQuantization {
    const out: ModelQuantization = new Map(this.quantization);
    for (const { name, q, codebook } of this.tied) {
      out.set(name, { ...q, codebook: Float32Array.from(codebook) });
    }
    return out;
  }
}

interface ShadowWeight {
  readonly name: string;
  readonly param: Parameter;
  readonly shadow: Float32Array;
  readonly forward: Float32Array;
  q: Int8Values;
}

/** Training hooks for int8 quantization-aware training (see the file comment). */
export class Int8AwareTraining implements TrainingHooks {
  private readonly weights: ShadowWeight[] = [];

  /** Keeps float shadows of every weight (linear and conv) of `model` and fake-quantizes them for the first step. */
  constructor(model: Module) {
    for (const [name, param] of quantizableParameters(model)) {
      const [rows, cols] = weightMatrixDims(param);
      const shadow = Float32Array.from(param.value.data as Float32Array);
      const forward = new Float32Array(shadow.length);
      const q = fakeQuantizeRowsInt8(shadow, rows, cols, forward);
      (param.value.data as Float32Array).set(forward);
      this.weights.push({ name, param, shadow, forward, q });
    }
  }

  /** Straight-through: the step taken on the quantized weights moves the shadows; then quantize again. */
  afterStep(): void {
    for (const w of this.weights) {
      const values = w.param.value.data as Float32Array;
      const [rows, cols] = weightMatrixDims(w.param);
      for (let i = 0; i < values.length; i++) w.shadow[i] = (w.shadow[i] as number) + ((values[i] as number) - (w.forward[i] as number));
      const mask = w.param.mask;
      if (mask !== null) for (let i = 0; i < mask.length; i++) if (mask[i] === 0) w.shadow[i] = 0;
      w.q = fakeQuantizeRowsInt8(w.shadow, rows, cols, w.forward);
      values.set(w.forward);
    }
  }

  /** The int8 codes and scales of the weights as they are now. */
  result(): ModelQuantization {
    return new Map<string, QuantizedValues>(this.weights.map((w) => [w.name, w.q]));
  }
}
