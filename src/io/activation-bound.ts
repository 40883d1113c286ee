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
 *     conv2d      b'_o = Σ_{c,i,j} |W[o, c, i, j]| · b_c + |bias_o|  (one bound per channel: the largest over its plane)
 *     max/avg pool, flatten, reshape: the same bounds, regrouped (a pool's output is within its window's)
 *
 * The limit is 2^127, half of float32's largest finite value, so rounding in float32 accumulation (a
 * relative 2^−24 per addition) cannot cross it. Trained networks stay far below: LeNet-300-100 on the digits
 * is bounded by about 10^4, initialised or trained. The bound is loose for deep unnormalised ReLU stacks,
 * where it grows by a factor of tens per layer (a stack of 25 or more 300-wide ReLU layers can pass 2^127
 * without any real activation coming close), so `allowNonFinite` skips this check as it skips the
 * finiteness check. Cost: one pass over the weights.
 */
import { ModelFormatError } from '../errors.ts';
import type { Conv2dSpec, ModelSpec } from '../nn/spec.ts';
import { specShapes } from '../nn/spec-shapes.ts';
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
  // Image activations [C, H, W] keep one bound per channel; the shapes say how to regroup them.
  const shapes = spec.layers.some((l) => l.type === 'conv2d' || l.type === 'reshape' || l.type === 'flatten') ? specShapes(spec) : null;
  spec.layers.forEach((layer, i) => {
    if (layer.type === 'sigmoid' || layer.type === 'tanh') {
      if (bounds !== null) bounds.fill(1);
    } else if ((layer.type === 'reshape' || layer.type === 'flatten') && shapes !== null) {
      bounds = regroup(bounds, shapes.inputs[i] ?? null, shapes.outputs[i]!);
    } else if (layer.type === 'conv2d') {
      bounds = convBound(layer, params.get(`layers.${i}.weight`) as ParamRecord, params.get(`layers.${i}.bias`), bounds ?? new Float64Array(layer.inChannels).fill(1));
      for (const value of bounds) if (value > largest.bound) largest = { bound: value, layer: i };
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
  const linear = spec.layers[layer]!;
  const name = linear.type === 'linear' ? `linear ${linear.inFeatures}→${linear.outFeatures}` : linear.type === 'conv2d' ? `conv2d ${linear.inChannels}→${linear.outChannels}` : linear.type;
  throw new ModelFormatError(
    'E_OVERFLOW',
    `layer ${layer} (${name}) can output values up to ${bound.toExponential(2)} for inputs in [-1, 1], ` +
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

/**
 * Bounds of an activation of shape `from` (null: the model input, every bound 1) regrouped for shape `to`:
 * per feature for a flat shape, per channel (the largest of its plane) for an image [C, H, W].
 */
function regroup(bounds: Float64Array | null, from: readonly number[] | null, to: readonly number[]): Float64Array {
  const size = to.reduce((a, b) => a * b, 1);
  let flat: Float64Array;
  if (bounds === null || from === null) flat = new Float64Array(size).fill(1);
  else if (from.length === 3) {
    const plane = from[1]! * from[2]!;
    flat = new Float64Array(size);
    for (let c = 0; c < from[0]!; c++) flat.fill(bounds[c]!, c * plane, (c + 1) * plane);
  } else flat = bounds;
  if (to.length !== 3) return flat;
  const plane = to[1]! * to[2]!;
  const channels = new Float64Array(to[0]!);
  for (let c = 0; c < to[0]!; c++) for (let k = c * plane; k < (c + 1) * plane; k++) channels[c] = Math.max(channels[c]!, flat[k]!);
  return channels;
}

/** Per output channel: Σ over its filter of |w| · the bound of the input channel + |bias|, dense or CSR ([out, in/groups·kh·kw]). */
function convBound(layer: Conv2dSpec, weight: ParamRecord, bias: ParamRecord | undefined, input: Float64Array): Float64Array {
  const out = new Float64Array(layer.outChannels);
  const perGroupIn = layer.inChannels / layer.groups;
  const window = layer.kernelSize[0] * layer.kernelSize[1];
  const cols = perGroupIn * window;
  const channelOf = (o: number, col: number): number => Math.floor(o / (layer.outChannels / layer.groups)) * perGroupIn + Math.floor(col / window);
  for (let o = 0; o < layer.outChannels; o++) {
    let sum = 0;
    if (weight.dense !== undefined) for (let col = 0; col < cols; col++) sum += Math.abs(weight.dense[o * cols + col]!) * input[channelOf(o, col)]!;
    else {
      const { indptr, indices, values } = weight.csr!;
      for (let k = indptr[o]!; k < indptr[o + 1]!; k++) sum += Math.abs(values[k]!) * input[channelOf(o, indices[k]!)]!;
    }
    out[o] = sum + Math.abs(bias?.dense?.[o] ?? 0);
  }
  return out;
}
