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
 *     dense   P                 F32      the parameter's shape
 *     csr     P.csr.indptr      I32      [rows + 1]      (2-D weights only; listed in `encodings`)
 *             P.csr.indices     U16/I32  [nnz]           column of each stored value, increasing within a row
 *             P.csr.values      F32      [nnz]
 *     mask    P.mask            U8       the parameter's shape, values 0/1 (optional; 0 = pruned, the value is 0)
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
 * finite and that masks hold only 0/1 and agree with the weights.
 */

import { ConfigError, ModelFormatError, SparseFormatError } from '../errors.ts';
import type { LayerSpec, ModelSpec } from '../nn/spec.ts';
import { LAYER_TYPES } from '../nn/spec.ts';
import { csrFromDense } from '../sparse/convert.ts';
import { validateCsr } from '../sparse/validate.ts';
import {
  decodeSafetensors,
  encodeSafetensors,
  jsonKind,
  jsonToPlain,
  parseStrictJson,
  readSafetensorsHeader,
  utf8Encode,
  type JsonValue,
  type SafetensorsHeader,
  type SafetensorsLimits,
  type SafetensorsTensor,
} from './safetensors.ts';

// ---------------------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------------------

export const MODEL_FORMAT = 'sparsegrad';
export const MODEL_FORMAT_VERSION = '1';

/** A compressed sparse row matrix; the field names match the library's CSRMatrix, so one can be passed as is. */
export interface CsrRecord {
  readonly nRows: number;
  readonly nCols: number;
  /** Row r's entries are at positions indptr[r] .. indptr[r+1]-1. Length nRows + 1. */
  readonly indptr: Int32Array;
  /** Column of each stored entry, strictly increasing within a row. */
  readonly indices: Int32Array;
  readonly values: Float32Array;
}

/** One parameter: its shape and exactly one of `dense` / `csr`, plus an optional 0/1 pruning mask. */
export interface ParamRecord {
  readonly shape: readonly number[];
  readonly dense?: Float32Array;
  readonly csr?: CsrRecord;
  readonly mask?: Uint8Array;
}

/** Everything a model file holds, as plain data. */
export interface ModelRecord {
  readonly spec: ModelSpec;
  /** Keyed by parameter name: `layers.<i>.weight`, `layers.<i>.bias`. */
  readonly params: Map<string, ParamRecord>;
  /** Free-form training and pruning facts (optimizer, epochs, sparsity, ...); must be JSON-representable. */
  readonly training?: Record<string, unknown>;
}

export type ParamEncoding = 'dense' | 'csr';

export interface SerializeOptions {
  /** How to store 2-D weights: always dense, always CSR, or whichever is smaller (default). Biases are dense. */
  readonly encoding?: ParamEncoding | 'auto';
}

export interface ModelLimits extends SafetensorsLimits {
  /** Largest total parameter count the architecture may declare. Default 2^26 (256 MiB of F32). */
  readonly maxParams?: number;
  /** Largest number of layers. Default 4096. */
  readonly maxLayers?: number;
  /** Largest size of each JSON metadata string (model, encodings, training), in UTF-8 bytes. Default 1 MiB. */
  readonly maxMetadataJsonBytes?: number;
  /** Accept NaN/±Infinity weights instead of failing with E_NON_FINITE. Default false. */
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

export interface ParamSummary {
  readonly name: string;
  readonly shape: readonly number[];
  readonly encoding: ParamEncoding;
  /** Stored entries of a CSR parameter; null for dense ones (counting their zeros would mean reading the data). */
  readonly nnz: number | null;
  readonly hasMask: boolean;
  /** Bytes the parameter takes in the file, mask included. */
  readonly storedBytes: number;
}

export const DEFAULT_MAX_PARAMS = 2 ** 26;
export const DEFAULT_MAX_LAYERS = 4096;
export const DEFAULT_MAX_METADATA_JSON_BYTES = 1024 * 1024;

const METADATA_KEYS = ['format', 'format_version', 'model', 'encodings', 'training'] as const;
/** Row pointers (and wide column indices) are I32, so a matrix may hold at most this many entries. */
const MAX_INT32 = 2 ** 31 - 1;
/** Matrices with at most this many columns store their CSR column indices as U16 (largest index 65,535). */
export const MAX_U16_INDEX_COLUMNS = 65536;

/** The dtype CSR column indices of a matrix with `nCols` columns are written in: U16 when they all fit, else I32. */
export function csrIndexDtype(nCols: number): 'U16' | 'I32' {
  return nCols <= MAX_U16_INDEX_COLUMNS ? 'U16' : 'I32';
}

// ---------------------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------------------

/**
 * Serializes a model into the bytes of a sparsegrad file. The record is validated exactly as a loaded file
 * would be (architecture, parameter set and shapes, CSR structure, finite values, masks), so whatever this
 * writes, deserializeModel reads back. The output is deterministic: equal records give identical bytes.
 */
export function serializeModel(record: ModelRecord, options: SerializeOptions = {}, limits: ModelLimits = {}): Uint8Array {
  const choice = options.encoding ?? 'auto';
  if (choice !== 'dense' && choice !== 'csr' && choice !== 'auto') {
    throw new ConfigError(`model encoding must be 'dense', 'csr' or 'auto', got '${String(choice)}'`);
  }
  const spec = validateModelSpec(record.spec, limits);
  const expected = parameterShapes(spec);
  if (!(record.params instanceof Map)) throw new ConfigError('ModelRecord.params must be a Map from parameter name to ParamRecord');
  for (const name of record.params.keys()) {
    if (!expected.has(name)) {
      throw new ModelFormatError('E_UNEXPECTED_TENSOR', `cannot save model: parameter "${name}" is not part of the architecture (expected ${[...expected.keys()].join(', ')})`);
    }
  }

  const tensors: [string, SafetensorsTensor][] = [];
  const masks: [string, SafetensorsTensor][] = [];
  const csrShapes: [string, readonly number[]][] = []; // becomes __metadata__.encodings
  for (const [name, shape] of expected) {
    const param = record.params.get(name);
    if (param === undefined) throw new ModelFormatError('E_MISSING_TENSOR', `cannot save model: parameter "${name}" ${formatShape(shape)} is missing`);
    if (!sameShape(param.shape, shape)) {
      throw new ModelFormatError('E_BAD_SHAPE', `cannot save model: parameter "${name}" has shape ${formatShape(param.shape)} but the architecture needs ${formatShape(shape)}`);
    }
    checkParamValues(name, param, limits.allowNonFinite ?? false);

    if (pickEncoding(param, choice) === 'csr') {
      const [rows, cols] = shape as [number, number];
      const csr = param.csr ?? denseToCsr(rows, cols, param.dense as Float32Array, param.mask);
      tensors.push([`${name}.csr.indptr`, { dtype: 'I32', shape: [rows + 1], data: csr.indptr }]);
      // The structure was validated above (checkParamValues), so every index is in [0, cols) and, for U16, fits.
      const indices: SafetensorsTensor = csrIndexDtype(cols) === 'U16'
        ? { dtype: 'U16', shape: [csr.indices.length], data: Uint16Array.from(csr.indices) }
        : { dtype: 'I32', shape: [csr.indices.length], data: csr.indices };
      tensors.push([`${name}.csr.indices`, indices]);
      tensors.push([`${name}.csr.values`, { dtype: 'F32', shape: [csr.values.length], data: csr.values }]);
      csrShapes.push([name, [rows, cols]]);
    } else {
      tensors.push([name, { dtype: 'F32', shape: [...shape], data: param.dense ?? csrToDense(param.csr as CsrRecord) }]);
    }
    if (param.mask !== undefined) masks.push([`${name}.mask`, { dtype: 'U8', shape: [...shape], data: param.mask }]);
  }

  const metadata = new Map<string, string>([
    ['format', MODEL_FORMAT],
    ['format_version', MODEL_FORMAT_VERSION],
    ['model', specToJson(spec)],
  ]);
  if (csrShapes.length > 0) {
    const entries = csrShapes.map(([name, shape]) => `${JSON.stringify(name)}:{"kind":"csr","shape":[${shape.join(',')}]}`);
    metadata.set('encodings', `{${entries.join(',')}}`);
  }
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
 * Only 2-D weights can be CSR.
 */
export function pickEncoding(param: ParamRecord, choice: ParamEncoding | 'auto'): ParamEncoding {
  if (param.shape.length !== 2) return 'dense';
  if (choice !== 'auto') return choice;
  const [rows, cols] = param.shape as [number, number];
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

/** Converts a row-major dense matrix to CSR, keeping the mask's structure when there is a mask. */
export function denseToCsr(rows: number, cols: number, dense: Float32Array, mask?: Uint8Array): CsrRecord {
  const nnz = countStored(dense, mask);
  if (nnz > MAX_INT32) throw new ConfigError(`a ${rows}x${cols} matrix with ${nnz} entries is too large for I32 CSR indices`);
  const { indptr, indices, values } = csrFromDense(dense, rows, cols, mask === undefined ? {} : { mask });
  return { nRows: rows, nCols: cols, indptr, indices, values };
}

/** Expands a (valid) CSR matrix into a row-major dense matrix. */
export function csrToDense(csr: CsrRecord): Float32Array {
  const dense = new Float32Array(csr.nRows * csr.nCols);
  for (let r = 0; r < csr.nRows; r++) {
    const end = csr.indptr[r + 1] as number;
    for (let k = csr.indptr[r] as number; k < end; k++) dense[r * csr.nCols + (csr.indices[k] as number)] = csr.values[k] as number;
  }
  return dense;
}

/** The spec as compact JSON with a fixed key order, so the same spec always gives the same bytes. */
function specToJson(spec: ModelSpec): string {
  const layers = spec.layers.map((layer) => {
    switch (layer.type) {
      case 'linear':
        return `{"type":"linear","inFeatures":${layer.inFeatures},"outFeatures":${layer.outFeatures},"bias":${layer.bias}}`;
      case 'dropout':
        return `{"type":"dropout","p":${JSON.stringify(layer.p)}}`;
      default:
        return `{"type":"${layer.type}"}`;
    }
  });
  return `{"layers":[${layers.join(',')}]}`;
}

/** Training facts as JSON. Refuses what JSON cannot hold faithfully (NaN, undefined, class instances, cycles). */
function trainingToJson(training: Record<string, unknown>): string {
  if (!isPlainObject(training)) throw new ConfigError('training metadata must be a plain object');
  const write = (value: unknown, path: string, depth: number): string => {
    if (depth > 32) throw new ConfigError(`training metadata is nested deeper than 32 levels at ${path}`);
    if (value === null || typeof value === 'boolean') return String(value);
    if (typeof value === 'string') {
      const text = JSON.stringify(value);
      if (/\\ud[89a-f]/i.test(text)) throw new ConfigError(`training metadata at ${path} holds a lone UTF-16 surrogate`);
      return text;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new ConfigError(`training metadata at ${path} is ${value}; JSON holds only finite numbers`);
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) return `[${value.map((item, i) => write(item, `${path}[${i}]`, depth + 1)).join(',')}]`;
    if (isPlainObject(value)) {
      const fields = Object.keys(value).map((key) => {
        if (key === '__proto__') throw new ConfigError(`training metadata at ${path} has a "__proto__" key, which files may not contain`);
        return `${JSON.stringify(key)}:${write(value[key], `${path}.${key}`, depth + 1)}`;
      });
      return `{${fields.join(',')}}`;
    }
    throw new ConfigError(`training metadata at ${path} is ${typeof value === 'object' ? 'a class instance' : typeof value}; only JSON values can be saved`);
  };
  return write(training, 'training', 0);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
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
  for (const plan of plans) {
    const tensorData = (name: string) => (file.tensors.get(name) as SafetensorsTensor).data;
    const mask = plan.hasMask ? { mask: tensorData(`${plan.name}.mask`) as Uint8Array } : {};
    let param: ParamRecord;
    if (plan.encoding === 'csr') {
      const [nRows, nCols] = plan.shape as [number, number];
      // planParams allowed U16 indices only where they can address every column; widen them (a copy) so
      // callers always get an Int32Array, and validateCsr below checks them like any others.
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
    checkParamValues(plan.name, param, limits.allowNonFinite ?? false);
    params.set(plan.name, param);
  }
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
    const tensorNames = plan.encoding === 'csr' ? ['indptr', 'indices', 'values'].map((part) => `${plan.name}.csr.${part}`) : [plan.name];
    if (plan.hasMask) tensorNames.push(`${plan.name}.mask`);
    let storedBytes = 0;
    for (const name of tensorNames) {
      const [begin, end] = (table.get(name) as SafetensorsHeader['tensors'][number]).dataOffsets;
      storedBytes += end - begin;
    }
    return { name: plan.name, shape: plan.shape, encoding: plan.encoding, nnz: plan.nnz, hasMask: plan.hasMask, storedBytes };
  });
  const header = { formatVersion: profile.formatVersion, spec: profile.spec, params, container };
  return profile.training === undefined ? header : { ...header, training: profile.training };
}

interface ProfileMetadata {
  readonly formatVersion: string;
  readonly spec: ModelSpec;
  /** Parameter name -> expected shape, in architecture order. */
  readonly expected: Map<string, readonly number[]>;
  /** Names of parameters stored as CSR. */
  readonly csrParams: Set<string>;
  readonly training?: Record<string, unknown>;
}

/** Checks `__metadata__`: that this is a sparsegrad file of a supported version, and its nested JSON. */
function readProfileMetadata(metadata: Map<string, string>, limits: ModelLimits): ProfileMetadata {
  const format = metadata.get('format');
  if (format !== MODEL_FORMAT) {
    const found = format === undefined ? 'it has no __metadata__.format entry' : `its __metadata__.format is ${JSON.stringify(format)}`;
    throw new ModelFormatError('E_NOT_SPARSEGRAD', `not a sparsegrad model file: it is a safetensors file, but ${found} (expected "${MODEL_FORMAT}")`);
  }
  const version = metadata.get('format_version');
  if (version !== MODEL_FORMAT_VERSION) {
    const found = version === undefined ? 'has no format_version' : `has format_version ${JSON.stringify(version)}`;
    throw new ModelFormatError('E_UNSUPPORTED_VERSION', `the model file ${found}; this version of sparsegrad reads format_version "${MODEL_FORMAT_VERSION}"`);
  }
  for (const key of metadata.keys()) {
    if (!(METADATA_KEYS as readonly string[]).includes(key)) {
      throw new ModelFormatError('E_BAD_METADATA', `unknown __metadata__ entry ${JSON.stringify(key)} (known: ${METADATA_KEYS.join(', ')})`);
    }
  }

  const modelText = metadata.get('model');
  if (modelText === undefined) throw new ModelFormatError('E_BAD_METADATA', 'the model file has no __metadata__.model (the architecture)');
  const spec = validateModelSpec(jsonToPlain(parseMetadataJson('model', modelText, 4, limits)), limits);
  const expected = parameterShapes(spec);

  const csrParams = new Set<string>();
  const encodingsText = metadata.get('encodings');
  if (encodingsText !== undefined) {
    const encodings = parseMetadataJson('encodings', encodingsText, 3, limits);
    if (!(encodings instanceof Map)) throw new ModelFormatError('E_BAD_METADATA', `__metadata__.encodings must be a JSON object, got ${jsonKind(encodings)}`);
    for (const [name, entry] of encodings) csrParams.add(readEncodingEntry(name, entry, expected));
  }

  let training: Record<string, unknown> | undefined;
  const trainingText = metadata.get('training');
  if (trainingText !== undefined) {
    const parsed = parseMetadataJson('training', trainingText, 32, limits);
    if (!(parsed instanceof Map)) throw new ModelFormatError('E_BAD_METADATA', `__metadata__.training must be a JSON object, got ${jsonKind(parsed)}`);
    rejectProtoKeys(parsed, 'training');
    training = jsonToPlain(parsed) as Record<string, unknown>;
  }
  const profile = { formatVersion: version, spec, expected, csrParams };
  return training === undefined ? profile : { ...profile, training };
}

function parseMetadataJson(key: string, text: string, maxDepth: number, limits: ModelLimits): JsonValue {
  const maxBytes = limits.maxMetadataJsonBytes ?? DEFAULT_MAX_METADATA_JSON_BYTES;
  // A UTF-16 code unit takes at most 3 UTF-8 bytes; only measure exactly when that bound is not enough.
  if (text.length * 3 > maxBytes && utf8Encode(text).length > maxBytes) {
    throw new ModelFormatError('E_BAD_METADATA', `__metadata__.${key} is larger than the limit of ${maxBytes} bytes`);
  }
  return parseStrictJson(text, { what: `__metadata__.${key}`, errorCode: 'E_BAD_METADATA', maxDepth });
}

/** One `encodings` entry: `"<param>": {"kind": "csr", "shape": [rows, cols]}` for a 2-D parameter. */
function readEncodingEntry(name: string, entry: JsonValue, expected: Map<string, readonly number[]>): string {
  const shape = expected.get(name);
  if (shape === undefined) {
    throw new ModelFormatError('E_BAD_METADATA', `__metadata__.encodings names ${JSON.stringify(name)}, which is not a parameter of the architecture`);
  }
  const plain = jsonToPlain(entry);
  if (!isPlainObject(plain) || Object.keys(plain).length !== 2 || plain['kind'] !== 'csr' || !Array.isArray(plain['shape'])) {
    throw new ModelFormatError('E_BAD_METADATA', `__metadata__.encodings entry for "${name}" must be exactly {"kind":"csr","shape":[rows, cols]}`);
  }
  if (shape.length !== 2) throw new ModelFormatError('E_BAD_METADATA', `__metadata__.encodings: "${name}" is ${shape.length}-D; only 2-D weights can be CSR`);
  if (!sameShape(plain['shape'] as unknown[], shape)) {
    throw new ModelFormatError(
      'E_BAD_SHAPE',
      `__metadata__.encodings gives "${name}" shape ${JSON.stringify(plain['shape'])} but the architecture needs ${formatShape(shape)}`,
    );
  }
  return name;
}

function rejectProtoKeys(value: JsonValue, path: string): void {
  if (Array.isArray(value)) value.forEach((item, i) => rejectProtoKeys(item, `${path}[${i}]`));
  if (value instanceof Map) {
    for (const [key, item] of value) {
      if (key === '__proto__') throw new ModelFormatError('E_BAD_METADATA', `__metadata__.${path} has a "__proto__" key, which is not allowed`);
      rejectProtoKeys(item, `${path}.${key}`);
    }
  }
}

interface ParamPlan {
  readonly name: string;
  readonly shape: readonly number[];
  readonly encoding: ParamEncoding;
  readonly nnz: number | null;
  readonly hasMask: boolean;
}

/**
 * Matches the tensor table against the architecture: every parameter exactly once, in the encoding the
 * metadata says, with the right dtypes and shapes, and no other tensors. Looks at dtypes and shapes only.
 */
function planParams(profile: ProfileMetadata, table: ReadonlyMap<string, { readonly dtype: string; readonly shape: readonly number[] }>): ParamPlan[] {
  const used = new Set<string>();
  const need = (name: string, dtypes: string | readonly string[], shape: readonly number[] | null, why: string): readonly number[] => {
    const info = table.get(name);
    if (info === undefined) throw new ModelFormatError('E_MISSING_TENSOR', `the model file has no tensor "${name}" (${why})`);
    const allowed = typeof dtypes === 'string' ? [dtypes] : dtypes;
    if (!allowed.includes(info.dtype)) throw new ModelFormatError('E_BAD_DTYPE', `tensor "${name}" is ${info.dtype}; ${why} must be ${allowed.join(' or ')}`);
    if (shape !== null && !sameShape(info.shape, shape)) {
      throw new ModelFormatError('E_BAD_SHAPE', `tensor "${name}" has shape ${formatShape(info.shape)}; ${why} must be ${formatShape(shape)}`);
    }
    used.add(name);
    return info.shape;
  };

  const plans: ParamPlan[] = [];
  for (const [name, shape] of profile.expected) {
    const csrParts = ['indptr', 'indices', 'values'].map((part) => `${name}.csr.${part}`);
    let plan: ParamPlan;
    if (profile.csrParams.has(name)) {
      if (table.has(name)) {
        throw new ModelFormatError('E_UNEXPECTED_TENSOR', `parameter "${name}" is stored twice: as dense tensor "${name}" and as CSR (per __metadata__.encodings)`);
      }
      const [rows, cols] = shape as [number, number];
      need(`${name}.csr.indptr`, 'I32', [rows + 1], `the row pointers of ${formatShape(shape)} "${name}"`);
      // I32 can address any column (the architecture caps widths below 2^31), so it is accepted at every width,
      // even where this writer would use U16: the meaning of each index is unambiguous, only the size differs.
      // U16 is refused above 65,536 columns. Such a file may well pass validateCsr (all its indices are below
      // nCols), but the likeliest writer of one cast wider indices to 16 bits, wrapping them modulo 65,536 onto
      // other, valid-looking columns; nothing in the file could tell that corruption from an honest matrix
      // whose entries happen to sit in the first 65,536 columns, so it is rejected as a dtype error.
      const indexDtypes = cols <= MAX_U16_INDEX_COLUMNS ? ['U16', 'I32'] : ['I32'];
      const indexWhy = cols <= MAX_U16_INDEX_COLUMNS
        ? `the column indices of "${name}"`
        : `the column indices of "${name}" (${cols} columns, more than U16 can address)`;
      const indicesShape = need(`${name}.csr.indices`, indexDtypes, null, indexWhy);
      if (indicesShape.length !== 1) {
        throw new ModelFormatError('E_BAD_SHAPE', `tensor "${name}.csr.indices" has shape ${formatShape(indicesShape)}; it must be 1-D`);
      }
      const nnz = indicesShape[0] as number;
      need(`${name}.csr.values`, 'F32', [nnz], `the values of "${name}" (one per column index)`);
      plan = { name, shape, encoding: 'csr', nnz, hasMask: false };
    } else {
      const stray = csrParts.find((part) => table.has(part));
      if (stray !== undefined) {
        throw new ModelFormatError('E_UNEXPECTED_TENSOR', `tensor "${stray}" looks like CSR data, but __metadata__.encodings does not list "${name}" as CSR`);
      }
      need(name, 'F32', shape, `parameter "${name}"`);
      plan = { name, shape, encoding: 'dense', nnz: null, hasMask: false };
    }
    if (table.has(`${name}.mask`)) {
      need(`${name}.mask`, 'U8', shape, `the mask of "${name}"`);
      plan = { ...plan, hasMask: true };
    }
    plans.push(plan);
  }
  for (const name of table.keys()) {
    if (!used.has(name)) {
      throw new ModelFormatError('E_UNEXPECTED_TENSOR', `tensor "${name}" is not part of the model (the architecture has ${[...profile.expected.keys()].join(', ') || 'no parameters'})`);
    }
  }
  return plans;
}

// ---------------------------------------------------------------------------------------------------------
// Checks shared by reading and writing
// ---------------------------------------------------------------------------------------------------------

/**
 * Checks one parameter's data: exactly one encoding, lengths that match the shape, a valid CSR structure,
 * finite values, and a mask of 0/1 under which every pruned entry is 0.
 */
function checkParamValues(name: string, param: ParamRecord, allowNonFinite: boolean): void {
  const shape = param.shape;
  const size = shape.reduce((a, b) => a * b, 1);
  if ((param.dense === undefined) === (param.csr === undefined)) {
    throw new ModelFormatError('E_BAD_PARAM', `parameter "${name}" must have exactly one of dense or csr data`);
  }
  if (param.dense !== undefined) {
    if (!(param.dense instanceof Float32Array)) {
      throw new ModelFormatError('E_BAD_DTYPE', `parameter "${name}" must hold a Float32Array, got ${describeArray(param.dense)}`);
    }
    if (param.dense.length !== size) {
      throw new ModelFormatError('E_BAD_SHAPE', `parameter "${name}" has ${param.dense.length} values but shape ${formatShape(shape)} needs ${size}`);
    }
    if (!allowNonFinite) checkFinite(name, param.dense, (i) => (shape.length === 2 ? ` (row ${Math.floor(i / (shape[1] as number))}, column ${i % (shape[1] as number)})` : ''));
  }
  if (param.csr !== undefined) {
    const csr = param.csr;
    if (shape.length !== 2 || csr.nRows !== shape[0] || csr.nCols !== shape[1]) {
      throw new ModelFormatError('E_BAD_SHAPE', `parameter "${name}" has CSR data of ${csr.nRows}x${csr.nCols} but shape ${formatShape(shape)}`);
    }
    if (!(csr.indptr instanceof Int32Array) || !(csr.indices instanceof Int32Array) || !(csr.values instanceof Float32Array)) {
      throw new ModelFormatError('E_BAD_DTYPE', `parameter "${name}": CSR data must be Int32Array indptr and indices and a Float32Array of values`);
    }
    try {
      validateCsr(csr.nRows, csr.nCols, csr.indptr, csr.indices, csr.values);
    } catch (error) {
      if (error instanceof SparseFormatError) throw new ModelFormatError('E_BAD_CSR', `parameter "${name}" (tensors "${name}.csr.*"): ${error.message}`);
      throw error;
    }
    if (!allowNonFinite) checkFinite(`${name}.csr.values`, csr.values, (k) => ` (row ${rowOf(csr.indptr, k)}, column ${csr.indices[k]})`);
  }
  if (param.mask !== undefined) checkMask(name, param, size);
}

function checkFinite(name: string, values: Float32Array, where: (index: number) => string): void {
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (!Number.isFinite(value)) throw new ModelFormatError('E_NON_FINITE', `tensor "${name}" holds ${value} at index ${i}${where(i)}`);
  }
}

function checkMask(name: string, param: ParamRecord, size: number): void {
  const mask = param.mask as Uint8Array;
  if (!(mask instanceof Uint8Array)) throw new ModelFormatError('E_BAD_DTYPE', `the mask of "${name}" must be a Uint8Array, got ${describeArray(mask)}`);
  if (mask.length !== size) {
    throw new ModelFormatError('E_BAD_SHAPE', `the mask of "${name}" has ${mask.length} values but shape ${formatShape(param.shape)} needs ${size}`);
  }
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== 0 && mask[i] !== 1) throw new ModelFormatError('E_BAD_MASK', `tensor "${name}.mask" holds ${mask[i]} at index ${i}; masks hold only 0 and 1`);
  }
  // A pruned entry (mask 0) must be exactly 0; otherwise the mask and the weights disagree about the model.
  if (param.dense !== undefined) {
    for (let i = 0; i < size; i++) {
      if (mask[i] === 0 && param.dense[i] !== 0) {
        throw new ModelFormatError('E_BAD_MASK', `tensor "${name}" holds ${param.dense[i]} at index ${i}, where its mask is 0 (pruned entries must be 0)`);
      }
    }
  }
  if (param.csr !== undefined) {
    const { indptr, indices, values, nCols, nRows } = param.csr;
    for (let r = 0; r < nRows; r++) {
      for (let k = indptr[r] as number; k < (indptr[r + 1] as number); k++) {
        const i = r * nCols + (indices[k] as number);
        if (mask[i] === 0 && values[k] !== 0) {
          throw new ModelFormatError('E_BAD_MASK', `tensor "${name}.csr.values" holds ${values[k]} at (row ${r}, column ${indices[k]}), where the mask is 0`);
        }
      }
    }
  }
}

/** The row holding stored entry k (binary search over the row pointers); used only for error messages. */
function rowOf(indptr: Int32Array, k: number): number {
  let low = 0;
  let high = indptr.length - 2;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((indptr[mid] as number) <= k) low = mid;
    else high = mid - 1;
  }
  return low;
}

// ---------------------------------------------------------------------------------------------------------
// The architecture
// ---------------------------------------------------------------------------------------------------------

/**
 * Checks a model spec from an untrusted source (a file, a caller) and returns a fresh, normalized copy.
 * Layer types come from an allow-list, each layer has exactly its own fields, sizes are positive safe integers,
 * consecutive linear layers chain (in = previous out), dropout p is in [0, 1), and the total parameter count is
 * within `maxParams`. Throws ModelFormatError('E_BAD_SPEC').
 */
export function validateModelSpec(value: unknown, limits: Pick<ModelLimits, 'maxParams' | 'maxLayers'> = {}): ModelSpec {
  const maxParams = limits.maxParams ?? DEFAULT_MAX_PARAMS;
  const maxLayers = limits.maxLayers ?? DEFAULT_MAX_LAYERS;
  const fail = (message: string): never => {
    throw new ModelFormatError('E_BAD_SPEC', `model architecture: ${message}`);
  };
  if (!isPlainObject(value) || !sameKeys(value, ['layers'])) fail('must be an object with exactly one field, "layers"');
  const layersValue = (value as Record<string, unknown>)['layers'];
  if (!Array.isArray(layersValue) || layersValue.length === 0) fail('"layers" must be a non-empty array');
  const rawLayers = layersValue as unknown[];
  if (rawLayers.length > maxLayers) fail(`has ${rawLayers.length} layers, more than the limit of ${maxLayers}`);

  const layers: LayerSpec[] = [];
  let width: number | null = null; // output width of the last linear layer
  let paramCount = 0;
  rawLayers.forEach((raw, i) => {
    if (!isPlainObject(raw) || typeof raw['type'] !== 'string') return fail(`layer ${i} must be an object with a string "type"`);
    const type = raw['type'];
    if (!(LAYER_TYPES as readonly string[]).includes(type)) return fail(`layer ${i} has unknown type ${JSON.stringify(type)} (known: ${LAYER_TYPES.join(', ')})`);
    if (type === 'linear') {
      if (!sameKeys(raw, ['type', 'inFeatures', 'outFeatures', 'bias'])) return fail(`linear layer ${i} must have exactly type, inFeatures, outFeatures, bias`);
      const inFeatures = raw['inFeatures'];
      const outFeatures = raw['outFeatures'];
      const bias = raw['bias'];
      for (const [field, size] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
        if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0 || size > MAX_INT32) {
          fail(`linear layer ${i} has ${field} ${JSON.stringify(size) ?? String(size)}; it must be a positive integer below 2^31`);
        }
      }
      if (typeof bias !== 'boolean') return fail(`linear layer ${i} has bias ${JSON.stringify(bias) ?? String(bias)}; it must be true or false`);
      const nIn = inFeatures as number;
      const nOut = outFeatures as number;
      if (width !== null && nIn !== width) fail(`linear layer ${i} takes ${nIn} inputs but the previous linear layer gives ${width}`);
      width = nOut;
      // Both sizes are below 2^31, so the product may be inexact above 2^53 but is never too small to compare.
      paramCount += nIn * nOut + (bias ? nOut : 0);
      if (paramCount > maxParams) fail(`has more than ${maxParams} parameters (the limit)`);
      layers.push({ type: 'linear', inFeatures: nIn, outFeatures: nOut, bias });
    } else if (type === 'dropout') {
      if (!sameKeys(raw, ['type', 'p'])) return fail(`dropout layer ${i} must have exactly type, p`);
      const p = raw['p'];
      if (typeof p !== 'number' || !(p >= 0 && p < 1)) return fail(`dropout layer ${i} has p ${JSON.stringify(p) ?? String(p)}; it must be in [0, 1)`);
      layers.push({ type: 'dropout', p });
    } else {
      if (!sameKeys(raw, ['type'])) return fail(`${type} layer ${i} must have only a "type" field`);
      layers.push({ type: type as 'relu' | 'sigmoid' | 'tanh' });
    }
    return undefined;
  });
  return { layers };
}

/** Parameter name -> shape, in architecture order. */
export function parameterShapes(spec: ModelSpec): Map<string, readonly number[]> {
  const shapes = new Map<string, readonly number[]>();
  spec.layers.forEach((layer, i) => {
    if (layer.type !== 'linear') return;
    shapes.set(`layers.${i}.weight`, [layer.outFeatures, layer.inFeatures]);
    if (layer.bias) shapes.set(`layers.${i}.bias`, [layer.outFeatures]);
  });
  return shapes;
}

function sameKeys(object: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(object);
  return own.length === keys.length && keys.every((key) => Object.hasOwn(object, key));
}

function sameShape(a: readonly unknown[], b: readonly number[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((dim, i) => dim === b[i]);
}

function describeArray(value: unknown): string {
  return typeof value === 'object' && value !== null ? ((value as object).constructor?.name ?? 'an object') : typeof value;
}

function formatShape(shape: readonly unknown[]): string {
  return `[${shape.join(', ')}]`;
}
