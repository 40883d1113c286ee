/**
 * The `float16` option of the quantizers: after quantizing (and after fine-tuning, so training never sees it),
 * every bias of the model and every k-means centroid is rounded to the nearest float16 value
 * (src/tensor/float16.ts), and the weights of each codebook layer are re-tied to the rounded centroids. The
 * model in memory is then exactly what a compact model file stores in half the bytes (F16 tensors): for a
 * 98 %-sparse LeNet-300-100 the 410 biases alone are 1,640 bytes of float32, about a sixth of a 100×-smaller
 * file. Int8 per-row scales stay float32 (they set every code's step); masks are never touched, pruned weights
 * are no centroid's members and stay exactly 0, and each codebook keeps its size (two centroids may round to
 * the same half; their codes stay apart).
 */

import { ConfigError } from '../errors.ts';
import type { Module } from '../nn/module.ts';
import type { Parameter } from '../nn/parameter.ts';
import { FLOAT16_MAX, roundToFloat16 } from '../tensor/float16.ts';
import type { ModelQuantization } from './quantize-model.ts';

/**
 * Rounds the biases (the 1-D parameters) of `model` and the codebooks of `quantization` to float16 in place,
 * re-sets each codebook weight's kept entries from its rounded centroids, and returns the quantization with
 * the rounded codebooks (codes unchanged). Everything is checked before anything changes: a value float16
 * cannot hold (it rounds to ±Infinity: |x| ≥ 65520) or a NaN is a ConfigError naming the parameter and entry.
 */
export function roundToFloat16Model(model: Module, quantization: ModelQuantization): ModelQuantization {
  const biases = biasesOf(model);
  const roundedBiases = biases.map(([name, p]) => roundedCopy(p.value.data as Float32Array, (i) => `bias ${name}[${i}]`));
  // The quantizable weights (quantize-model.ts): linear 2-D and conv 4-D.
  const weights = new Map(model.namedParameters().filter(([, p]) => p.value.shape.length === 2 || p.value.shape.length === 4));
  const roundedCodebooks = new Map<string, Float32Array>();
  for (const [name, q] of quantization) {
    if (q.kind !== 'codebook') continue;
    if (weights.get(name)?.value.size !== q.codes.length) throw new ConfigError(`float16: "${name}" is not a quantized weight of this model`);
    roundedCodebooks.set(name, roundedCopy(q.codebook, (c) => `centroid ${c} of ${name}`));
  }

  biases.forEach(([, p], b) => (p.value.data as Float32Array).set(roundedBiases[b] as Float32Array));
  const result: ModelQuantization = new Map(quantization);
  for (const [name, codebook] of roundedCodebooks) {
    const q = quantization.get(name)!;
    if (q.kind !== 'codebook') continue;
    const param = weights.get(name)!;
    const values = param.value.data as Float32Array;
    const mask = param.mask;
    // The kept entries are the centroids' members; pruned ones (mask 0) stay 0.
    for (let i = 0; i < values.length; i++) if (mask === null || mask[i] === 1) values[i] = codebook[q.codes[i] as number] as number;
    result.set(name, { ...q, codebook });
  }
  return result;
}

/**
 * Throws the ConfigError roundToFloat16Model would throw for a bias, before anything is quantized: biases do
 * not change while quantizing, so a model that passes fails later only for a centroid past 65504 (weights that
 * large) or a bias that fine-tuning moved there.
 */
export function checkFloat16Biases(model: Module): void {
  for (const [name, p] of biasesOf(model)) roundedCopy(p.value.data as Float32Array, (i) => `bias ${name}[${i}]`);
}

/** The biases of a model: its 1-D parameters. */
function biasesOf(model: Module): [string, Parameter][] {
  return model.namedParameters().filter(([, p]) => p.value.shape.length === 1);
}

/** A float32 copy of `values` rounded to float16; ConfigError naming `what(i)` for a value float16 cannot hold. */
function roundedCopy(values: Float32Array, what: (index: number) => string): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const rounded = roundToFloat16(values[i] as number);
    if (!Number.isFinite(rounded)) {
      throw new ConfigError(`float16: ${what(i)} is ${values[i]}, which float16 cannot hold (its largest value is ${FLOAT16_MAX}); quantize without float16`);
    }
    out[i] = rounded;
  }
  return out;
}
