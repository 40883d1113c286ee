import { ConfigError, NonFiniteError, ShapeError } from '../../errors.ts';
import { isFloat32Array } from '../../tensor/typed-array.ts';
import { csrFromDense, csrToDense } from '../convert.ts';
import { CSRMatrix } from '../csr-matrix.ts';
import { checkConvLayer, isConvLayer, type CheckedConv, type ConvInferenceLayer } from './conv-layers.ts';

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

/**
 * One fully connected layer whose weight is already sparse (a model file's CSR tensors, a CSRMatrix): it is
 * compiled from its CSR form directly, so a pruned model never exists as a dense matrix unless a kernel choice
 * asks for one. The sizes are the matrix's: outFeatures = csr.nRows, inFeatures = csr.nCols.
 */
export interface CsrInferenceLayer {
  /** The weight [outFeatures, inFeatures] as CSR (canonical: sorted, unique column indices per row). */
  csr: Pick<CSRMatrix, 'nRows' | 'nCols' | 'indptr' | 'indices' | 'values'>;
  bias: Float32Array | null;
  activation: Activation;
}

/** A validated layer: its sizes, activation, a private copy of the bias, and the (masked) weight as CSR. */
export interface CheckedLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly activation: Activation;
  readonly bias: Float32Array | null;
  readonly csr: CSRMatrix;
  /**
   * The masked dense weight [out, in] (a private copy). For a layer given as CSR it is built from the CSR form
   * each time it is read, so read it once, and only where a dense form is really needed.
   */
  readonly masked: Float32Array;
  /**
   * For a convolution layer (conv-layers.ts): its geometry; csr and masked are then the matrix [outChannels,
   * inChannels·kh·kw], and in/outFeatures the sizes of its input image and its (pooled) output. Absent for a
   * fully connected layer.
   */
  readonly conv?: CheckedConv;
}

/** Any layer compileInference takes: fully connected (dense or CSR) or a convolution. */
export type AnyInferenceLayer = InferenceLayer | CsrInferenceLayer | ConvInferenceLayer;

/**
 * Validates every layer and the chain (each layer's inputs = the previous layer's outputs) and copies the
 * data, so later changes to the caller's arrays do not reach the model. `who` prefixes the messages.
 * Throws ConfigError (no layers, unknown activation), ShapeError (sizes), NonFiniteError (a NaN or ±Infinity
 * weight that is not masked out, or bias: a pruned format would silently drop it, so no backend accepts it),
 * SparseFormatError (a CSR layer whose structure is broken).
 */
export function checkLayers(layers: readonly AnyInferenceLayer[], who: string): CheckedLayer[] {
  if (layers.length === 0) throw new ConfigError(`${who}: a model needs at least one layer`);
  const checked = layers.map((layer, index) => {
    const where = `${who}: layer ${index}`;
    if (isConvLayer(layer)) return checkConvLayer(layer, where, (bias, rows, activation) => checkBiasAndActivation(bias, rows, activation, where));
    return isCsrLayer(layer) ? checkCsrLayer(layer, where) : checkLayer(layer, where);
  });
  // Convolutions extract features, fully connected layers classify them: the backends run that order.
  const firstDense = checked.findIndex((l) => l.conv === undefined);
  const lateConv = checked.findIndex((l, i) => l.conv !== undefined && firstDense >= 0 && i > firstDense);
  if (lateConv >= 0) throw new ConfigError(`${who}: layer ${lateConv} is a convolution after the fully connected layer ${firstDense}; compiled inference runs convolutions first`);
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
  if (!isFloat32Array(weight)) throw new ShapeError(`${where}: weight must be a Float32Array`);
  if (weight.length !== outFeatures * inFeatures) {
    throw new ShapeError(`${where}: weight has ${weight.length} elements, expected [${outFeatures}, ${inFeatures}] = ${outFeatures * inFeatures}`);
  }
  checkBiasAndActivation(bias, outFeatures, activation, where);
  if (mask !== undefined && mask.length !== weight.length) {
    throw new ShapeError(`${where}: mask has ${mask.length} elements, expected ${weight.length}`);
  }
  const masked = weight.slice();
  if (mask !== undefined) for (let i = 0; i < masked.length; i++) if (mask[i] === 0) masked[i] = 0;
  const badWeight = firstNonFinite(masked);
  if (badWeight >= 0) {
    const row = Math.floor(badWeight / inFeatures);
    throw new NonFiniteError(`${where}: weight[${badWeight}] (row ${row}, column ${badWeight - row * inFeatures}) is ${masked[badWeight]}; compiled inference needs finite weights`);
  }
  return { inFeatures, outFeatures, activation, bias: bias === null ? null : bias.slice(), csr: csrFromDense(masked, outFeatures, inFeatures), masked };
}

function isCsrLayer(layer: InferenceLayer | CsrInferenceLayer): layer is CsrInferenceLayer {
  return typeof layer === 'object' && layer !== null && 'csr' in layer && !('weight' in layer);
}

/**
 * A CSR layer: the structure checked (SparseFormatError names the defect), the values finite, the arrays
 * copied. Stored zeros are kept: they are part of the given structure.
 */
function checkCsrLayer(layer: CsrInferenceLayer, where: string): CheckedLayer {
  const { csr: given, bias, activation } = layer;
  if (typeof given !== 'object' || given === null) throw new ShapeError(`${where}: csr must be a CSR matrix`);
  const { nRows: outFeatures, nCols: inFeatures } = given;
  for (const [name, n] of [['csr.nRows (outFeatures)', outFeatures], ['csr.nCols (inFeatures)', inFeatures]] as const) {
    if (!Number.isSafeInteger(n) || n <= 0) throw new ShapeError(`${where}: ${name} must be a positive integer, got ${n}`);
  }
  checkBiasAndActivation(bias, outFeatures, activation, where);
  // The constructor validates the structure (and the arrays' types, realm-safely) before anything is copied.
  const checked = new CSRMatrix(outFeatures, inFeatures, given.indptr, given.indices, given.values);
  const csr = new CSRMatrix(outFeatures, inFeatures, checked.indptr.slice(), checked.indices.slice(), checked.values.slice());
  const bad = firstNonFinite(csr.values);
  if (bad >= 0) {
    let row = 0;
    while (csr.indptr[row + 1]! <= bad) row++;
    throw new NonFiniteError(`${where}: csr.values[${bad}] (row ${row}, column ${csr.indices[bad]}) is ${csr.values[bad]}; compiled inference needs finite weights`);
  }
  return {
    inFeatures, outFeatures, activation, bias: bias === null ? null : bias.slice(), csr,
    get masked() {
      return csrToDense(csr);
    },
  };
}

/** The checks a dense and a CSR layer share: a finite Float32Array bias of outFeatures values (or null), a known activation. */
function checkBiasAndActivation(bias: Float32Array | null, outFeatures: number, activation: Activation, where: string): void {
  if (bias !== null && (!isFloat32Array(bias) || bias.length !== outFeatures)) {
    throw new ShapeError(`${where}: bias has ${bias?.length} elements, expected ${outFeatures}`);
  }
  if (!ACTIVATIONS.includes(activation)) {
    throw new ConfigError(`${where}: unknown activation '${String(activation)}' (${ACTIVATIONS.join(', ')})`);
  }
  const badBias = bias === null ? -1 : firstNonFinite(bias);
  if (badBias >= 0) throw new NonFiniteError(`${where}: bias[${badBias}] is ${bias![badBias]}; compiled inference needs a finite bias`);
}

/** The index of the first NaN or ±Infinity in `values`, or −1. */
function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return i;
  return -1;
}
