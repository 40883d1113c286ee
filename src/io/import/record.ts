/*
 * The common end of every importer: a chain of layers read from another framework's file — fully connected
 * and convolution layers with their weights, and the weightless layers between them — becomes a sparsegrad
 * ModelRecord, checked exactly as a model file is (serializeModel's checks: shapes that chain, CSR structure,
 * finite values, the overflow bound), so an imported model is as trustworthy as a loaded one.
 */
import { ModelFormatError, SparseFormatError } from '../../errors.ts';
import type { Conv2dSpec, LayerSpec } from '../../nn/spec.ts';
import { CSRMatrix } from '../../sparse/csr-matrix.ts';
import { serializeModel, type ModelLimits, type ModelRecord, type ParamRecord } from '../model-file.ts';

/** Activations an imported layer may be followed by ('none': the layer's output goes on as it is). */
export type ImportActivation = 'relu' | 'sigmoid' | 'tanh' | 'none';

/** One imported fully connected layer: y = act(x·Wᵀ + b), W [outFeatures, inFeatures]. */
export interface ImportedLinear {
  readonly kind: 'linear';
  /** Where it came from, for messages (a state_dict prefix, an ONNX node). */
  readonly source: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Row-major dense [out, in], or CSR (kept sparse in the record). */
  readonly weight: Float32Array | CSRMatrix;
  /** A 0/1 keep-mask of the dense weight (PyTorch's weight_mask), or null. */
  readonly mask: Uint8Array | null;
  readonly bias: Float32Array | null;
  readonly activation: ImportActivation;
}

/** One imported 2-D convolution: its spec, W [outChannels, inChannels/groups, kh, kw] (CSR over [out, in/groups·kh·kw]). */
export interface ImportedConv {
  readonly kind: 'conv2d';
  readonly source: string;
  readonly spec: Conv2dSpec;
  readonly weight: Float32Array | CSRMatrix;
  readonly bias: Float32Array | null;
}

/** A layer without weights (activation, pooling, flatten, reshape), as the model spec writes it. */
export interface ImportedPlainLayer {
  readonly kind: 'plain';
  readonly source: string;
  readonly spec: Exclude<LayerSpec, { type: 'linear' } | Conv2dSpec>;
}

/** One imported layer. */
export type ImportedLayer = ImportedLinear | ImportedConv | ImportedPlainLayer;

/**
 * Builds and checks the record of a chain of layers. Throws ModelFormatError: E_BAD_SHAPE when a layer's inputs
 * are not the previous layer's outputs (naming both), and every error of serializeModel's checks.
 */
export function importedRecord(layers: readonly ImportedLayer[], training: Record<string, unknown>, limits: ModelLimits = {}): ModelRecord {
  if (!layers.some((layer) => layer.kind !== 'plain')) throw new ModelFormatError('E_BAD_SPEC', 'import: the file holds no fully connected or convolution layer');
  const specLayers: LayerSpec[] = [];
  const params = new Map<string, ParamRecord>();
  layers.forEach((layer, l) => {
    if (layer.kind === 'plain') {
      specLayers.push(layer.spec);
      return;
    }
    if (layer.kind === 'conv2d') {
      const index = specLayers.length;
      const { outChannels, inChannels, groups, kernelSize } = layer.spec;
      const shape = [outChannels, inChannels / groups, kernelSize[0], kernelSize[1]];
      params.set(`layers.${index}.weight`, layer.weight instanceof CSRMatrix ? { shape, csr: layer.weight } : { shape, dense: layer.weight });
      if (layer.bias !== null) params.set(`layers.${index}.bias`, { shape: [outChannels], dense: layer.bias });
      specLayers.push({ ...layer.spec, bias: layer.bias !== null });
      return;
    }
    const previous = layers[l - 1];
    if (previous?.kind === 'linear' && previous.outFeatures !== layer.inFeatures) {
      throw new ModelFormatError('E_BAD_SHAPE', `import: ${layer.source} takes ${layer.inFeatures} inputs but ${previous.source}, the layer before it, gives ${previous.outFeatures}; the layers must chain`);
    }
    const index = specLayers.length;
    specLayers.push({ type: 'linear', inFeatures: layer.inFeatures, outFeatures: layer.outFeatures, bias: layer.bias !== null });
    const shape = [layer.outFeatures, layer.inFeatures];
    const weight: ParamRecord = layer.weight instanceof CSRMatrix ? { shape, csr: layer.weight } : { shape, dense: layer.weight };
    params.set(`layers.${index}.weight`, layer.mask === null ? weight : { ...weight, mask: layer.mask });
    if (layer.bias !== null) params.set(`layers.${index}.bias`, { shape: [layer.outFeatures], dense: layer.bias });
    if (layer.activation !== 'none') specLayers.push({ type: layer.activation });
  });
  const record: ModelRecord = { spec: { layers: specLayers }, params, training };
  serializeModel(record, {}, limits); // every check a saved file gets; the bytes are not needed here
  return record;
}

/**
 * A CSR matrix [nRows, nCols] from entries given by linear row-major index (increasing), or, with
 * `transposed`, the CSR of the transpose of a [nCols, nRows] matrix given that way. Throws ModelFormatError
 * E_BAD_CSR when the entries do not form a valid matrix.
 */
export function csrFromLinear(nRows: number, nCols: number, linear: readonly number[], values: Float32Array, transposed: boolean, what: string): CSRMatrix {
  const nnz = linear.length;
  const rows = new Int32Array(nnz);
  const cols = new Int32Array(nnz);
  for (let k = 0; k < nnz; k++) {
    const index = linear[k]!;
    // Stored as [nCols, nRows] when transposed: entry (r', c') = (index / nRows, index % nRows) is (c', r') here.
    if (transposed) [cols[k], rows[k]] = [Math.floor(index / nRows), index % nRows];
    else [rows[k], cols[k]] = [Math.floor(index / nCols), index % nCols];
  }
  const order = Array.from({ length: nnz }, (_, k) => k);
  if (transposed) order.sort((a, b) => rows[a]! - rows[b]! || cols[a]! - cols[b]!);
  const indptr = new Int32Array(nRows + 1);
  for (let k = 0; k < nnz; k++) indptr[rows[k]! + 1]!++;
  for (let r = 0; r < nRows; r++) indptr[r + 1]! += indptr[r]!;
  try {
    return new CSRMatrix(nRows, nCols, indptr, Int32Array.from(order, (k) => cols[k]!), Float32Array.from(order, (k) => values[k]!));
  } catch (error) {
    if (error instanceof SparseFormatError) throw new ModelFormatError('E_BAD_CSR', `import: ${what}: ${error.message}`);
    throw error;
  }
}
