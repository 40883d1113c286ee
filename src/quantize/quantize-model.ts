/**
 * Quantizing a live model's weights: every weight (Linear [out, in] and Conv2d [out, in/groups, kh, kw]) gets
 * codes, and its values are replaced by the values the codes stand for, so the model in memory computes what
 * the saved file will. A conv weight is viewed as the matrix [out, in/groups·kh·kw], the layout its CSR form
 * uses: int8 keeps one scale per filter (output channel), k-means one codebook per layer.
 * Biases stay float32 (they are a few hundred numbers; Deep Compression keeps them too) unless the `float16`
 * option rounds them and the centroids to halves (float16.ts). Masks are read, never changed: a pruned weight
 * (mask 0) is not quantized, keeps code 0 and stays exactly 0.
 */

import { ConfigError } from '../errors.ts';
import { MAX_CODEBOOK_BITS, MIN_CODEBOOK_BITS, type CodebookValues, type QuantizedValues } from '../io/encodings/quantized-values.ts';
import type { Module } from '../nn/module.ts';
import type { Parameter } from '../nn/parameter.ts';
import { dequantizeRowsInt8, quantizeRowsInt8 } from './int8.ts';
import { checkFloat16Biases, roundToFloat16Model } from './float16.ts';
import { kmeansCodebook } from './kmeans.ts';

/** How weights are quantized: symmetric int8 per row, or k-means weight sharing with a 2^bits codebook. */
export type QuantizeMethod = 'int8' | 'kmeans';

/** The quantization methods, in the order `--help` lists them. */
export const QUANTIZE_METHODS: readonly QuantizeMethod[] = ['int8', 'kmeans'];

/** Settings of quantizeModel. */
export interface QuantizeOptions {
  readonly method: QuantizeMethod;
  /** Bits per codebook index for 'kmeans' (1…8; default 5). Ignored by 'int8'. */
  readonly bits?: number;
  /**
   * 'kmeans' only: bits for particular weights, by parameter name (`layers.0.weight`) or layer (`layers.0`);
   * the others take `bits`. Deep Compression gives each layer its own width (8-bit conv, 5-bit fc layers):
   * a large layer can take fewer bits than the small ones that matter most per weight.
   */
  readonly layerBits?: Readonly<Record<string, number>>;
  /** Most Lloyd iterations for 'kmeans' (default 30). */
  readonly maxIterations?: number;
  /**
   * Round every bias and every 'kmeans' centroid to the nearest float16 value (default false), so a compact
   * model file stores them in half the bytes (F16) with no further loss; int8 scales stay float32. A value
   * float16 cannot hold (|x| past 65504 by half a step) is a ConfigError. quantizeAndFineTune rounds after
   * fine-tuning, which itself runs exactly as without the option.
   */
  readonly float16?: boolean;
}

/**
 * The codes of every quantized weight, keyed by parameter name (`layers.<i>.weight`). Codes run over all
 * entries of the weight, row-major (pruned ones hold code 0); `modelToRecord` keeps those of stored entries.
 */
export type ModelQuantization = Map<string, QuantizedValues>;

/**
 * Quantizes every weight (2-D linear, 4-D conv) of `model` in place (values := dequantized codes) and returns the codes.
 * With `float16`, biases and centroids are then rounded to float16 values (float16.ts). ConfigError for an
 * unknown method, bad bits or a value float16 cannot hold; ShapeError for a non-finite weight.
 *
 * @example
 * ```ts
 * import { mlp, quantizeModel, roundToFloat16 } from 'sparsegrad';
 *
 * const model = mlp([784, 300, 100, 10], { seed: 0 });
 * const codes = quantizeModel(model, { method: 'kmeans', bits: 5 });
 * const first = codes.get('layers.0.weight')!;
 * console.log(first.kind, first.kind === 'codebook' && first.codebook.length <= 32); // codebook true
 *
 * // float16: centroids and biases become float16 values, which a compact model file stores in 2 bytes each.
 * const half = quantizeModel(mlp([784, 300, 100, 10], { seed: 0 }), { method: 'kmeans', bits: 5, float16: true });
 * const centroids = (half.get('layers.0.weight') as { codebook: Float32Array }).codebook;
 * console.log(centroids.every((c) => roundToFloat16(c) === c)); // true
 * ```
 */
export function quantizeModel(model: Module, options: QuantizeOptions): ModelQuantization {
  const { method } = options;
  if (!QUANTIZE_METHODS.includes(method)) throw new ConfigError(`quantizeModel: unknown method '${String(method)}' (${QUANTIZE_METHODS.join(', ')})`);
  if (options.float16 !== undefined && typeof options.float16 !== 'boolean') throw new ConfigError(`quantizeModel: float16 must be true or false, got ${String(options.float16)}`);
  if (options.float16 === true) checkFloat16Biases(model);
  const parameters = quantizableParameters(model);
  const bitsOf = layerBitsResolver(parameters.map(([name]) => name), options);
  const result: ModelQuantization = new Map();
  for (const [name, p] of parameters) {
    const [rows, cols] = weightMatrixDims(p);
    if (method === 'int8') {
      const q = quantizeRowsInt8(p.value.data as Float32Array, rows, cols);
      dequantizeRowsInt8(q, cols, p.value.data as Float32Array);
      result.set(name, q);
    } else {
      result.set(name, shareWeights(p, bitsOf(name), options.maxIterations));
    }
  }
  return options.float16 === true ? roundToFloat16Model(model, result) : result;
}

/**
 * The codebook width of each weight: `layerBits` by parameter or layer name, else `bits` (default 5). Throws
 * ConfigError for layer bits given to int8, a name that is no quantizable weight, or a width outside 1…8.
 */
function layerBitsResolver(names: readonly string[], options: QuantizeOptions): (name: string) => number {
  const layerBits = options.layerBits ?? {};
  const entries = Object.entries(layerBits);
  if (entries.length > 0 && options.method !== 'kmeans') throw new ConfigError('quantizeModel: layerBits are codebook widths, for the kmeans method only');
  for (const [key, bits] of entries) {
    if (!names.includes(key) && !names.includes(`${key}.weight`)) {
      throw new ConfigError(`quantizeModel: layerBits names '${key}', which is no quantizable weight of this model (${names.join(', ')})`);
    }
    if (!Number.isInteger(bits) || bits < MIN_CODEBOOK_BITS || bits > MAX_CODEBOOK_BITS) throw new ConfigError(`quantizeModel: layerBits['${key}'] must be an integer in ${MIN_CODEBOOK_BITS}…${MAX_CODEBOOK_BITS}, got ${bits}`);
  }
  return (name) => layerBits[name] ?? layerBits[name.replace(/\.weight$/, '')] ?? options.bits ?? 5;
}

/** The weights of a model that quantizers act on, by name: the 2-D (Linear) and 4-D (Conv2d) parameters. */
export function quantizableParameters(model: Module): [string, Parameter][] {
  return model.namedParameters().filter(([, p]) => p.value.shape.length === 2 || p.value.shape.length === 4);
}

/**
 * The matrix a quantizable weight is quantized as: [out, in] for a Linear weight, [out, in/groups·kh·kw] for a
 * Conv2d weight (row-major data, so the same buffer), one row per output channel.
 */
export function weightMatrixDims(p: Parameter): [number, number] {
  const shape = p.value.shape;
  const rows = shape[0] as number;
  return [rows, rows === 0 ? 0 : p.value.size / rows];
}

/** k-means over the kept entries of one weight; writes the centroids into the weight. */
function shareWeights(p: Parameter, bits: number, maxIterations: number | undefined): CodebookValues {
  const values = p.value.data as Float32Array;
  const members = memberIndices(p);
  const clustered = kmeansCodebook(Float32Array.from(members, (i) => values[i] as number), bits, maxIterations === undefined ? {} : { maxIterations });
  const codes = new Uint8Array(values.length);
  members.forEach((i, m) => {
    codes[i] = clustered.codes[m] as number;
    values[i] = clustered.codebook[codes[i] as number] as number;
  });
  // A weight with no kept entry still needs a codebook of one value for the file; it is never used.
  const codebook = clustered.codebook.length > 0 ? clustered.codebook : new Float32Array(1);
  return { kind: 'codebook', bits, codebook, codes };
}

/** Indices of the entries that are quantized: those the mask keeps, or all without a mask. */
export function memberIndices(p: Parameter): Int32Array {
  const mask = p.mask;
  const size = p.value.size;
  if (mask === null) return Int32Array.from({ length: size }, (_, i) => i);
  let kept = 0;
  for (let i = 0; i < size; i++) kept += mask[i] as number;
  const out = new Int32Array(kept);
  let next = 0;
  for (let i = 0; i < size; i++) if (mask[i] === 1) out[next++] = i;
  return out;
}
