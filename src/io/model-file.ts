/**
 * The sparsegrad model file: a plain safetensors container (see safetensors.ts) plus a few conventions, so any
 * safetensors reader can open it (Python: `safetensors.numpy.load_file`) and this library can check it fully.
 *
 * `__metadata__` (all values are strings; nested JSON is stored as a string):
 *
 *     format          "sparsegrad"                                   required
 *     format_version  "1"                                            required; other versions are refused
 *     model           JSON ModelSpec: {"layers":[{"type":"linear","inFeatures":784,"outFeatures":300,"bias":true},...]}
 *     encodings       JSON {"layers.0.weight":{"kind":"csr","shape":[300,784]}}   only when some parameter is CSR
 *     training        JSON object of free-form training/pruning facts           optional
 *
 * Tensors, for each parameter P of the architecture (`layers.<i>.weight` [out, in], `layers.<i>.bias` [out]),
 * in exactly ONE encoding (never two copies that could disagree):
 *
 *     dense   P                 F32/F16  the parameter's shape (F16 is written only in compact files; below)
 *     csr     P.csr.indptr      I32      [rows + 1]      (weights only; listed in `encodings`; a conv2d weight
 *                                                       [out, in/groups, kh, kw] is the matrix [out, in/groups·kh·kw])
 *             P.csr.indices     U16/I32  [nnz]           column of each stored value, increasing within a row
 *             P.csr.values      F32      [nnz]
 *     mask    P.mask            U8       the parameter's shape, values 0/1 (optional; 0 = pruned, the value is 0)
 *
 * Compact encodings (issue 14; encodings/entry.ts lists their tensors): quantized values (int8 codes with per-row
 * scales, or a bit-packed codebook index per entry), CSR structure as b-bit relative gaps instead of row
 * pointers and columns, and canonical Huffman coding of the codebook indices and gaps. A parameter in one is
 * listed in `encodings` with its fields, e.g. {"kind":"csr","shape":[300,784],"values":"codebook","bits":5,
 * "indices":"gaps","gapBits":4,"entries":11760,"symbols":12011,"huffman":["codes","gaps"]}; the record then
 * holds the codes (ParamRecord.quantized) next to the float32 values they stand for. A file written with any
 * compact encoding (gaps, Huffman, or a quantized weight) stores each dense float tensor (P: biases, dense
 * weights) and each codebook in the fewest bytes that hold it exactly: F16 when every value is a finite
 * float16 (the quantizers' `float16` option rounds biases and centroids so they are), else F32. The loader
 * accepts F16 there only and widens it to float32; an F16 NaN or Infinity is refused like a float32 one.
 *
 * Column indices are written as U16 when the matrix has at most 65,536 columns (every index then fits in 16
 * bits; this is what makes a 95 %-sparse LeNet-300-100 file ~12x smaller than the dense one instead of ~10x),
 * and as I32 otherwise. Readers accept I32 for any width (other writers, e.g. scipy's int32 indices, may use
 * it) but U16 only up to 65,536 columns; in memory the indices are always an Int32Array. In the data section
 * the tensors are ordered by element size (F32/I32, then U16, then U8; see safetensors.ts), so the indices of
 * a CSR weight are not next to its row pointers and values.
 *
 * Loading checks the container first (safetensors.ts), then that this is a sparsegrad file of a known version,
 * that the architecture is valid and within size limits, that every parameter it needs is present exactly once
 * with the right dtype and shape and nothing else is, that CSR structures are valid, that all weights are
 * finite and cannot overflow float32 in inference (activation-bound.ts), and that masks hold only 0/1 and
 * agree with the weights. The code: model-architecture.ts, model-metadata.ts, model-params.ts.
 */

import { ConfigError, ModelFormatError } from '../errors.ts';
import type { ModelSpec } from '../nn/spec.ts';
import type { CSRMatrix } from '../sparse/csr-matrix.ts';
import { csrFromDense, csrToDense as sparseCsrToDense } from '../sparse/convert.ts';
import { widenHalfBits } from '../tensor/float16.ts';
import { formatShape, shapesEqual } from '../tensor/shape.ts';
import { checkActivationBound } from './activation-bound.ts';
import { MAX_INT32, parameterShapes, specToJson, validateModelSpec } from './model-architecture.ts';
import { DEFAULT_MAX_METADATA_JSON_BYTES, MODEL_FORMAT, MODEL_FORMAT_VERSION, readProfileMetadata, trainingToJson } from './model-metadata.ts';
import { checkParamValues, csrDims, csrIndexDtype, planParams, toCsrMatrix } from './model-params.ts';
import { entryToJson, type EncodingEntry } from './encodings/entry.ts';
import { checkCompactOptions, decodeParam, encodeParam, floatTensor, type CompactOptions } from './encodings/param-codec.ts';
import type { QuantizedValues } from './encodings/quantized-values.ts';
import { decodeSafetensors, encodeSafetensors, readSafetensorsHeader, type SafetensorsHeader, type SafetensorsLimits, type SafetensorsTensor } from './safetensors.ts';
import { utf8Encode } from './utf8.ts';

export { DEFAULT_MAX_LAYERS, DEFAULT_MAX_PARAMS, parameterShapes, validateModelSpec } from './model-architecture.ts';
export { DEFAULT_MAX_METADATA_JSON_BYTES, MODEL_FORMAT, MODEL_FORMAT_VERSION } from './model-metadata.ts';
export { csrDims, csrIndexDtype, MAX_U16_INDEX_COLUMNS } from './model-params.ts';

// ---------------------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------------------

/**
 * A CSR matrix as a record holds it: the five fields of the library's CSRMatrix (src/sparse/csr-matrix.ts),
 * so a CSRMatrix can be passed as is and a plain object with these fields works too. The loader returns
 * CSRMatrix instances.
 */
export type CsrRecord = Pick<CSRMatrix, 'nRows' | 'nCols' | 'indptr' | 'indices' | 'values'>;

/**
 * One parameter: its shape and exactly one of `dense` / `csr`, plus an optional 0/1 pruning mask and, for a
 * quantized weight (linear 2-D or conv2d 4-D), its codes (which must give exactly the float32 values; see
 * quantized-values.ts).
 */
export interface ParamRecord {
  readonly shape: readonly number[];
  readonly dense?: Float32Array;
  readonly csr?: CsrRecord;
  readonly mask?: Uint8Array;
  /** Quantized codes of the stored entries (every entry of `dense`, or the CSR values), in their order. */
  readonly quantized?: QuantizedValues;
}

/** Everything a model file holds, as plain data. */
export interface ModelRecord {
  readonly spec: ModelSpec;
  /** Keyed by parameter name: `layers.<i>.weight`, `layers.<i>.bias`. */
  readonly params: Map<string, ParamRecord>;
  /** Free-form training and pruning facts (optimizer, epochs, sparsity, ...); must be JSON-representable. */
  readonly training?: Record<string, unknown>;
}

/** How a parameter is stored in a model file: dense float32, or CSR (row pointers, column indices, values). */
export type ParamEncoding = 'dense' | 'csr';

/**
 * Settings of `serializeModel` (and `saveModel`). The compact options (`indices: 'gaps'`, `gapBits`,
 * `huffman`) apply to CSR weights and quantized weights (encodings/param-codec.ts).
 */
export interface SerializeOptions extends CompactOptions {
  /** How to store 2-D weights: always dense, always CSR, or whichever is smaller (default). Biases are dense. */
  readonly encoding?: ParamEncoding | 'auto';
}

/**
 * Limits on what a model file may declare, so an untrusted file cannot make the reader spend unbounded time
 * or memory (with the container limits of SafetensorsLimits); and whether non-finite weights are accepted.
 */
export interface ModelLimits extends SafetensorsLimits {
  /** Largest total parameter count the architecture may declare. Default 2^26 (256 MiB of F32). */
  readonly maxParams?: number;
  /** Largest number of layers. Default 4096. */
  readonly maxLayers?: number;
  /** Largest size of each JSON metadata string (model, encodings, training), in UTF-8 bytes. Default 1 MiB. */
  readonly maxMetadataJsonBytes?: number;
  /**
   * Accept NaN/±Infinity weights (E_NON_FINITE) and finite weights large enough to overflow float32 in
   * inference (E_OVERFLOW; see activation-bound.ts). Default false.
   */
  readonly allowNonFinite?: boolean;
}

/** What `inspect` shows: metadata and the tensor table, checked against the architecture, without the data. */
export interface ModelHeader {
  readonly formatVersion: string;
  readonly spec: ModelSpec;
  readonly training?: Record<string, unknown>;
  readonly params: readonly ParamSummary[];
  /** The container: raw metadata strings, the tensor table with offsets, header and file sizes. */
  readonly container: SafetensorsHeader;
}

/** One parameter of a model file as `readModelHeader` sees it: shape, encoding and size, without the data. */
export interface ParamSummary {
  readonly name: string;
  readonly shape: readonly number[];
  readonly encoding: ParamEncoding;
  /** Stored entries of a CSR parameter; null for dense ones (counting their zeros would mean reading the data). */
  readonly nnz: number | null;
  readonly hasMask: boolean;
  /** Bytes the parameter takes in the file, mask included. */
  readonly storedBytes: number;
  /** How values and structure are coded, e.g. 'f32', 'codebook 5-bit + huffman, gaps 4-bit + huffman'. */
  readonly coding: string;
}

// ---------------------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------------------

/**
 * Serializes a model into the bytes of a sparsegrad file. The record is validated exactly as a loaded file
 * would be (architecture, parameter set and shapes, CSR structure, finite values, overflow bound, masks), so
 * whatever this writes, deserializeModel reads back. The output is deterministic: equal records give
 * identical bytes.
 */
export function serializeModel(record: ModelRecord, options: SerializeOptions = {}, limits: ModelLimits = {}): Uint8Array {
  const choice = options.encoding ?? 'auto';
  if (choice !== 'dense' && choice !== 'csr' && choice !== 'auto') {
    throw new ConfigError(`model encoding must be 'dense', 'csr' or 'auto', got '${String(choice)}'`);
  }
  checkCompactOptions(options);
  const spec = validateModelSpec(record.spec, limits);
  const expected = parameterShapes(spec);
  if (!(record.params instanceof Map)) throw new ConfigError('ModelRecord.params must be a Map from parameter name to ParamRecord');
  for (const name of record.params.keys()) {
    if (!expected.has(name)) {
      throw new ModelFormatError('E_UNEXPECTED_TENSOR', `cannot save model: parameter "${name}" is not part of the architecture (expected ${[...expected.keys()].join(', ')})`);
    }
  }

  // A compact file stores each dense float tensor in the fewest bytes that hold it exactly (F16 when every
  // value is a half); a plain file stays F32, byte for byte what format 1.0 writers produced.
  const compact = (options.indices ?? 'plain') === 'gaps' || options.huffman === true || [...record.params.values()].some((p) => p?.quantized !== undefined);
  const checked = new Map<string, ParamRecord>();
  const tensors: [string, SafetensorsTensor][] = [];
  const masks: [string, SafetensorsTensor][] = [];
  const encodingEntries: string[] = []; // becomes __metadata__.encodings
  for (const [name, shape] of expected) {
    const given = record.params.get(name);
    if (given === undefined) throw new ModelFormatError('E_MISSING_TENSOR', `cannot save model: parameter "${name}" ${formatShape(shape)} is missing`);
    if (!Array.isArray(given.shape) || !shapesEqual(given.shape, shape)) {
      throw new ModelFormatError('E_BAD_SHAPE', `cannot save model: parameter "${name}" has shape ${formatShape(given.shape)} but the architecture needs ${formatShape(shape)}`);
    }
    const param = checkParamValues(name, given, limits.allowNonFinite ?? false);
    checked.set(name, param);

    if (csrDims(shape) !== null && (param.quantized !== undefined || (options.indices ?? 'plain') !== 'plain')) {
      // Compact encodings: try both layouts under 'auto' and keep the smaller (a mask, if any, is part of it).
      const kinds = choice === 'auto' ? (['dense', 'csr'] as const) : [choice];
      const encoded = kinds.map((kind) => encodeParam(name, param, kind, options)).reduce((a, b) => (b.bytes < a.bytes ? b : a));
      for (const tensor of encoded.tensors) (tensor[0] === `${name}.mask` ? masks : tensors).push(tensor);
      // A dense float32 weight (gaps asked for, but dense was smaller) is the plain format and is not listed.
      if (!(encoded.entry.kind === 'dense' && encoded.entry.values === 'f32')) encodingEntries.push(`${JSON.stringify(name)}:${entryToJson(encoded.entry, shape)}`);
      continue;
    }
    if (pickEncoding(param, choice) === 'csr') {
      const [rows, cols] = csrDims(shape)!;
      const csr = param.csr ?? denseToCsr(rows, cols, param.dense as Float32Array, param.mask);
      tensors.push([`${name}.csr.indptr`, { dtype: 'I32', shape: [rows + 1], data: csr.indptr }]);
      // The structure was validated above (checkParamValues), so every index is in [0, cols) and, for U16, fits.
      const indices: SafetensorsTensor = csrIndexDtype(cols) === 'U16'
        ? { dtype: 'U16', shape: [csr.indices.length], data: Uint16Array.from(csr.indices) }
        : { dtype: 'I32', shape: [csr.indices.length], data: csr.indices };
      tensors.push([`${name}.csr.indices`, indices]);
      tensors.push([`${name}.csr.values`, { dtype: 'F32', shape: [csr.values.length], data: csr.values }]);
      encodingEntries.push(`${JSON.stringify(name)}:{"kind":"csr","shape":[${shape.join(',')}]}`);
    } else {
      tensors.push([name, floatTensor([...shape], param.dense ?? sparseCsrToDense(param.csr as CSRMatrix), compact)]);
    }
    if (param.mask !== undefined) masks.push([`${name}.mask`, { dtype: 'U8', shape: [...shape], data: param.mask }]);
  }

  if (limits.allowNonFinite !== true) checkActivationBound(spec, checked);

  const metadata = new Map<string, string>([
    ['format', MODEL_FORMAT],
    ['format_version', MODEL_FORMAT_VERSION],
    ['model', specToJson(spec)],
  ]);
  if (encodingEntries.length > 0) metadata.set('encodings', `{${encodingEntries.join(',')}}`);
  if (record.training !== undefined) {
    const training = trainingToJson(record.training);
    const maxBytes = limits.maxMetadataJsonBytes ?? DEFAULT_MAX_METADATA_JSON_BYTES;
    if (utf8Encode(training).length > maxBytes) throw new ConfigError(`training metadata is larger than ${maxBytes} bytes of JSON`);
    metadata.set('training', training);
  }
  return encodeSafetensors([...tensors, ...masks], metadata);
}

/**
 * Dense, CSR, or (auto) whichever takes fewer bytes in the file: CSR costs 4 bytes per row pointer plus, per
 * stored entry, a 4-byte value and a 2-byte (U16) or 4-byte (I32) column index; dense costs 4 bytes per entry.
 * Only 2-D (linear) and 4-D (conv2d, as [out, in/groups·kh·kw]) weights can be CSR.
 */
export function pickEncoding(param: ParamRecord, choice: ParamEncoding | 'auto'): ParamEncoding {
  const dims = csrDims(param.shape);
  if (dims === null) return 'dense';
  if (choice !== 'auto') return choice;
  const [rows, cols] = dims;
  const nnz = param.csr !== undefined ? param.csr.values.length : countStored(param.dense as Float32Array, param.mask);
  const indexBytes = csrIndexDtype(cols) === 'U16' ? 2 : 4;
  const csrBytes = (rows + 1) * 4 + nnz * (4 + indexBytes);
  return csrBytes < rows * cols * 4 ? 'csr' : 'dense';
}

/** A dense matrix keeps the entries its mask marks as kept, or, without a mask, its nonzero entries. */
function isStored(dense: Float32Array, mask: Uint8Array | undefined, i: number): boolean {
  return mask !== undefined ? mask[i] === 1 : dense[i] !== 0;
}

function countStored(dense: Float32Array, mask: Uint8Array | undefined): number {
  let count = 0;
  for (let i = 0; i < dense.length; i++) if (isStored(dense, mask, i)) count++;
  return count;
}

/**
 * Converts a row-major dense matrix to CSR (sparse/convert.ts), keeping the mask's structure when there is a
 * mask. Throws ConfigError if the matrix holds more entries than I32 row pointers can count.
 */
export function denseToCsr(rows: number, cols: number, dense: Float32Array, mask?: Uint8Array): CSRMatrix {
  const nnz = countStored(dense, mask);
  if (nnz > MAX_INT32) throw new ConfigError(`a ${rows}x${cols} matrix with ${nnz} entries is too large for I32 CSR indices`);
  return csrFromDense(dense, rows, cols, mask === undefined ? {} : { mask });
}

/**
 * Expands a CSR matrix (a CSRMatrix or a plain record of its fields) into a row-major dense matrix with
 * sparse/convert.ts. A plain record is checked first (ModelFormatError('E_BAD_CSR') if its structure is broken).
 */
export function csrToDense(csr: CsrRecord): Float32Array {
  return sparseCsrToDense(toCsrMatrix('a CSR record', csr));
}

/**
 * A short description of how a parameter's values and structure are coded (for `inspect`); `half`: the dense
 * values or the codebook are F16.
 */
function describeCoding(entry: EncodingEntry | undefined, half: boolean): string {
  const float = half ? 'f16' : 'f32';
  if (entry === undefined) return float;
  const huffman = (stream: 'codes' | 'gaps'): string => (entry.huffman.includes(stream) ? ' + huffman' : '');
  const values = entry.values === 'int8' ? 'int8 per-row scales' : entry.values === 'codebook' ? `${half ? 'f16 ' : ''}codebook ${entry.bits}-bit${huffman('codes')}` : float;
  return entry.indices === 'gaps' ? `${values}, gaps ${entry.gapBits}-bit${huffman('gaps')}` : values;
}

// ---------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------

/**
 * Reads a sparsegrad model file and checks everything in it. Returns each parameter in the encoding it was
 * stored in (dense or CSR); use csrToDense / denseToCsr to convert. Tensor data may share memory with `bytes`.
 * Every failure is a ModelFormatError naming the tensor involved.
 */
export function deserializeModel(bytes: Uint8Array, limits: ModelLimits = {}): ModelRecord {
  const file = decodeSafetensors(bytes, limits);
  const profile = readProfileMetadata(file.metadata, limits);
  const plans = planParams(profile, file.tensors);

  const params = new Map<string, ParamRecord>();
  // planParams allowed F16 only for float values (dense parameters, codebooks); widen them to float32.
  const tensorData = (name: string) => {
    const tensor = file.tensors.get(name) as SafetensorsTensor;
    return tensor.dtype === 'F16' ? widenHalfBits(tensor.data as Uint16Array) : tensor.data;
  };
  for (const plan of plans) {
    const mask = plan.hasMask ? { mask: tensorData(`${plan.name}.mask`) as Uint8Array } : {};
    let param: ParamRecord;
    if (plan.entry !== undefined) {
      param = decodeParam(plan.name, plan.shape, plan.entry, tensorData, plan.hasMask);
    } else if (plan.encoding === 'csr') {
      const [nRows, nCols] = csrDims(plan.shape)!;
      // planParams allowed U16 indices only where they can address every column; widen them (a copy) so
      // callers always get an Int32Array, and checkParamValues below checks them like any others.
      const storedIndices = tensorData(`${plan.name}.csr.indices`) as Int32Array | Uint16Array;
      const csr: CsrRecord = {
        nRows,
        nCols,
        indptr: tensorData(`${plan.name}.csr.indptr`) as Int32Array,
        indices: storedIndices instanceof Uint16Array ? Int32Array.from(storedIndices) : storedIndices,
        values: tensorData(`${plan.name}.csr.values`) as Float32Array,
      };
      param = { shape: plan.shape, csr, ...mask };
    } else {
      param = { shape: plan.shape, dense: tensorData(plan.name) as Float32Array, ...mask };
    }
    params.set(plan.name, checkParamValues(plan.name, param, limits.allowNonFinite ?? false));
  }
  if (limits.allowNonFinite !== true) checkActivationBound(profile.spec, params);
  return profile.training === undefined ? { spec: profile.spec, params } : { spec: profile.spec, params, training: profile.training };
}

/**
 * Reads and checks only the header of a model file: metadata, architecture and the tensor table, not the
 * weights. `bytes` may be just the first 8 + N bytes if `fileSize` gives the real size.
 */
export function readModelHeader(bytes: Uint8Array, options: ModelLimits & { readonly fileSize?: number } = {}): ModelHeader {
  const container = readSafetensorsHeader(bytes, options);
  const profile = readProfileMetadata(container.metadata, options);
  const table = new Map(container.tensors.map((info) => [info.name, info]));
  const plans = planParams(profile, table);
  const params = plans.map((plan): ParamSummary => {
    // Every tensor of a parameter is named P or P.<part> (planParams has matched each one to a parameter).
    let storedBytes = 0;
    for (const [name, info] of table) if (name === plan.name || name.startsWith(`${plan.name}.`)) storedBytes += info.dataOffsets[1] - info.dataOffsets[0];
    const valuesTensor = plan.entry?.values === 'codebook' ? `${plan.name}.codebook` : plan.name;
    const coding = describeCoding(plan.entry, table.get(valuesTensor)?.dtype === 'F16');
    return { name: plan.name, shape: plan.shape, encoding: plan.encoding, nnz: plan.nnz, hasMask: plan.hasMask, storedBytes, coding };
  });
  const header = { formatVersion: profile.formatVersion, spec: profile.spec, params, container };
  return profile.training === undefined ? header : { ...header, training: profile.training };
}
