import { ConfigError, NonFiniteError, ShapeError } from '../../errors.ts';
import { csrFromDense } from '../convert.ts';
import type { CSRMatrix } from '../csr-matrix.ts';

/*
 * The plain layer data a model is compiled from, and its validation: what every backend receives, already
 * checked and copied, so a backend only decides how to run it.
 */

export type Activation = 'relu' | 'sigmoid' | 'tanh' | 'none';

const ACTIVATIONS: readonly Activation[] = ['relu', 'sigmoid', 'tanh', 'none'];

/** One fully connected layer, y = act(x·Wᵀ + b), as plain data (what compileModel's nn → sparse step produces). */
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

/** A validated layer: its sizes, activation, a private copy of the bias, and the (masked) weight as CSR. */
export interface CheckedLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly activation: Activation;
  readonly bias: Float32Array | null;
  readonly csr: CSRMatrix;
  /** The masked dense weight [out, in] (a private copy). */
  readonly masked: Float32Array;
}

/**
 * Validates every layer and the chain (each layer's inputs = the previous layer's outputs) and copies the
 * data, so later changes to the caller's arrays do not reach the model. `who` prefixes the messages.
 * Throws ConfigError (no layers, unknown activation), ShapeError (sizes), NonFiniteError (a NaN or ±Infinity
 * weight that is not masked out, or bias: a pruned format would silently drop it, so no backend accepts it).
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
  if (!ACTIVATIONS.includes(activation)) {
    throw new ConfigError(`${where}: unknown activation '${String(activation)}' (${ACTIVATIONS.join(', ')})`);
  }
  const masked = weight.slice();
  if (mask !== undefined) for (let i = 0; i < masked.length; i++) if (mask[i] === 0) masked[i] = 0;
  const badWeight = firstNonFinite(masked);
  if (badWeight >= 0) {
    const row = Math.floor(badWeight / inFeatures);
    throw new NonFiniteError(`${where}: weight[${badWeight}] (row ${row}, column ${badWeight - row * inFeatures}) is ${masked[badWeight]}; compiled inference needs finite weights`);
  }
  const badBias = bias === null ? -1 : firstNonFinite(bias);
  if (badBias >= 0) throw new NonFiniteError(`${where}: bias[${badBias}] is ${bias![badBias]}; compiled inference needs a finite bias`);
  return { inFeatures, outFeatures, activation, bias: bias === null ? null : bias.slice(), csr: csrFromDense(masked, outFeatures, inFeatures), masked };
}

/** The index of the first NaN or ±Infinity in `values`, or −1. */
function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return i;
  return -1;
}
