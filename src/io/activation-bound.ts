/**
 * Finite weights can still give non-finite answers: a weight of 3e38 times an input of 1 is finite, but a
 * sum of two such products is Infinity in float32, and Infinity − Infinity in a softmax is NaN. A model file
 * with such weights would "predict" class 0 with probability NaN. The loader therefore bounds what every
 * unit can output, by interval arithmetic over the whole network, and refuses a model whose bound leaves
 * float32's range (E_OVERFLOW).
 *
 * The bound assumes inputs in [−1, 1] (pixels are scaled to [0, 1]) and follows the layers:
 *
 *     linear      b'_r = Σ_c |W[r, c]| · b_c + |bias_r|      (every partial sum, in any order, stays below it)
 *     relu        b' = b                                       (|max(0, x)| ≤ |x|)
 *     dropout     b' = b                                       (the identity at inference)
 *     sigmoid     b' = 1, tanh b' = 1                          (their outputs are within [−1, 1])
 *
 * The limit is 2^127, half of float32's largest finite value, so rounding in float32 accumulation (a
 * relative 2^−24 per addition) cannot cross it. Trained networks stay far below: LeNet-300-100 on the digits
 * is bounded by about 10^4, initialised or trained. The bound is loose for deep unnormalised ReLU stacks,
 * where it grows by a factor of tens per layer (a stack of 25 or more 300-wide ReLU layers can pass 2^127
 * without any real activation coming close), so `allowNonFinite` skips this check as it skips the
 * finiteness check. Cost: one pass over the weights.
 */
import { ModelFormatError } from '../errors.ts';
import type { ModelSpec } from '../nn/spec.ts';
import type { ParamRecord } from './model-file.ts';

/** The largest output bound accepted: 2^127 ≈ 1.7e38, half of float32's largest finite value. */
export const MAX_ACTIVATION_BOUND = 2 ** 127;

/**
 * The largest value any layer's output can reach for inputs in [−1, 1] (see the file comment). `params`
 * must hold every parameter of `spec`, finite and with valid CSR structure (as the model file checks ensure).
 */
export function activationBound(spec: ModelSpec, params: ReadonlyMap<string, ParamRecord>): { readonly bound: number; readonly layer: number } {
  let bounds: Float64Array | null = null; // per-unit bound of the current activations; null: all inputs, 1
  let largest = { bound: 0, layer: -1 };
  spec.layers.forEach((layer, i) => {
    if (layer.type === 'sigmoid' || layer.type === 'tanh') {
      if (bounds !== null) bounds.fill(1);
    } else if (layer.type === 'linear') {
      const input = bounds ?? new Float64Array(layer.inFeatures).fill(1);
      bounds = linearBound(params.get(`layers.${i}.weight`) as ParamRecord, params.get(`layers.${i}.bias`), input, layer.outFeatures);
      for (const value of bounds) if (value > largest.bound) largest = { bound: value, layer: i };
    }
  });
  return largest;
}

/** Throws ModelFormatError('E_OVERFLOW') if a layer's output bound exceeds MAX_ACTIVATION_BOUND. */
export function checkActivationBound(spec: ModelSpec, params: ReadonlyMap<string, ParamRecord>): void {
  const { bound, layer } = activationBound(spec, params);
  if (bound <= MAX_ACTIVATION_BOUND) return;
  const linear = spec.layers[layer] as { inFeatures: number; outFeatures: number };
  throw new ModelFormatError(
    'E_OVERFLOW',
    `layer ${layer} (linear ${linear.inFeatures}→${linear.outFeatures}) can output values up to ${bound.toExponential(2)} for inputs in [-1, 1], ` +
      `beyond float32's range (3.4e38): weights this large give Infinity or NaN instead of an answer`,
  );
}

/** Per output unit: Σ |w| · input bound + |bias|, over the stored entries of a dense or CSR weight. */
function linearBound(weight: ParamRecord, bias: ParamRecord | undefined, input: Float64Array, outFeatures: number): Float64Array {
  const out = new Float64Array(outFeatures);
  const inFeatures = input.length;
  if (weight.dense !== undefined) {
    const w = weight.dense;
    for (let r = 0; r < outFeatures; r++) {
      let sum = 0;
      for (let c = 0; c < inFeatures; c++) sum += Math.abs(w[r * inFeatures + c]!) * input[c]!;
      out[r] = sum;
    }
  } else {
    const { indptr, indices, values } = weight.csr!;
    for (let r = 0; r < outFeatures; r++) {
      let sum = 0;
      for (let k = indptr[r]!; k < indptr[r + 1]!; k++) sum += Math.abs(values[k]!) * input[indices[k]!]!;
      out[r] = sum;
    }
  }
  const b = bias?.dense;
  if (b !== undefined) for (let r = 0; r < outFeatures; r++) out[r]! += Math.abs(b[r]!);
  return out;
}
