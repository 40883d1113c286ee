import { ModelFormatError } from '../errors.ts';
import { buildModel } from '../nn/build.ts';
import { Linear } from '../nn/linear.ts';
import type { Sequential } from '../nn/sequential.ts';
import { Rng } from '../tensor/rng.ts';
import { Tensor } from '../tensor/tensor.ts';
import { Conv2d } from '../nn/conv.ts';
import { csrDims, csrToDense, denseToCsr, pickEncoding, type ModelRecord, type ParamEncoding, type ParamRecord } from './model-file.ts';
import type { QuantizedValues } from './encodings/quantized-values.ts';

/*
 * Between live models and the plain records a model file holds. The file format knows nothing of
 * Modules; the nn layer knows nothing of files; this adapter is the only place that knows both.
 */

/** Settings of `modelToRecord`. */
export interface ToRecordOptions {
  /** Facts worth keeping with the weights (optimizer, epochs, accuracy, pruning method, ...). */
  training?: Record<string, unknown>;
  /**
   * How weights will be stored (default 'auto': CSR where it is smaller). A CSR weight is built from its
   * mask, so its stored structure *is* the mask and no separate mask tensor is written; a dense parameter
   * with a mask gets a U8 mask tensor.
   */
  encoding?: ParamEncoding | 'auto';
  /**
   * Codes of quantized weights by parameter name (from quantizeModel / quantizeAndFineTune), over every entry
   * of the weight, row-major. They are stored with the weights; the model's values must be what they stand for.
   */
  quantization?: ReadonlyMap<string, QuantizedValues>;
}

/**
 * The plain record of a model that a model file holds: its architecture and a copy of every parameter (dense,
 * or CSR where `options.encoding` says so), masks included. Pass it to `serializeModel` or `saveModel`,
 * which check it (`training` must be JSON-representable) before writing.
 */
export function modelToRecord(model: Sequential, options: ToRecordOptions = {}): ModelRecord {
  const params = new Map<string, ParamRecord>();
  for (const [name, p] of model.namedParameters()) {
    const shape = [...p.value.shape];
    const dense = Float32Array.from(p.value.data);
    const mask = p.mask === null ? undefined : Uint8Array.from(p.mask);
    const quantized = options.quantization?.get(name);
    const draft: ParamRecord = { shape, dense, ...(mask === undefined ? {} : { mask }), ...(quantized === undefined ? {} : { quantized }) };
    const dims = csrDims(shape);
    if (dims !== null && pickEncoding(draft, options.encoding ?? 'auto') === 'csr') {
      const csr = denseToCsr(dims[0], dims[1], dense, mask);
      params.set(name, { shape, csr, ...(quantized === undefined ? {} : { quantized: storedCodes(quantized, csr.nRows, csr.nCols, csr.indptr, csr.indices) }) });
    } else {
      params.set(name, draft);
    }
  }
  return { spec: model.spec(), params, ...(options.training === undefined ? {} : { training: options.training }) };
}

/**
 * Rebuilds a model from a record. A CSR-stored weight becomes dense again, and (unless the record has an
 * explicit mask) its stored structure becomes its mask, so a pruned model stays pruned when fine-tuned.
 */
export function modelFromRecord(record: ModelRecord): Sequential {
  const model = buildModel(record.spec, new Rng(0));
  for (const [name, p] of model.namedParameters()) {
    const stored = record.params.get(name);
    if (stored === undefined) throw new ModelFormatError('E_MISSING_TENSOR', `the model file has no parameter ${name}`);
    const dense = stored.dense ?? (stored.csr === undefined ? null : csrToDense(stored.csr));
    if (dense === null) throw new ModelFormatError('E_MISSING_TENSOR', `parameter ${name} has neither dense nor CSR data`);
    p.value = new Tensor(Float32Array.from(dense), p.value.shape);
    if (stored.mask !== undefined) p.mask = Uint8Array.from(stored.mask);
    else if (stored.csr !== undefined) p.mask = structureMask(stored.csr.nRows, stored.csr.nCols, stored.csr.indptr, stored.csr.indices);
  }
  for (const layer of model.layers) {
    if ((layer instanceof Linear || layer instanceof Conv2d) && layer.weight.mask?.every((m) => m === 1)) layer.weight.mask = null;
  }
  return model;
}

/** The codes of a CSR weight's stored entries, picked from codes over every entry. */
function storedCodes(q: QuantizedValues, rows: number, cols: number, indptr: Int32Array, indices: Int32Array): QuantizedValues {
  const positions = new Int32Array(indices.length);
  for (let r = 0; r < rows; r++) for (let k = indptr[r]!; k < indptr[r + 1]!; k++) positions[k] = r * cols + indices[k]!;
  if (q.kind === 'int8') return { ...q, codes: Int8Array.from(positions, (i) => q.codes[i]!) };
  return { ...q, codes: Uint8Array.from(positions, (i) => q.codes[i]!) };
}

function structureMask(rows: number, cols: number, indptr: Int32Array, indices: Int32Array): Uint8Array {
  const mask = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let k = indptr[r]!; k < indptr[r + 1]!; k++) mask[r * cols + indices[k]!] = 1;
  return mask;
}
