/**
 * A reader and writer for the safetensors container (Hugging Face), working on bytes only, so it runs in
 * browsers and in Node alike.
 *
 * Layout of a file:
 *
 *     [0, 8)          N: unsigned 64-bit little-endian integer, the byte length of the header
 *     [8, 8+N)        header: UTF-8 JSON object, right-padded with spaces (0x20)
 *     [8+N, EOF)      data: the raw little-endian bytes of every tensor, back to back
 *
 *     header = {
 *       "__metadata__": { "<key>": "<string value>", ... },            (optional; string -> string only)
 *       "<tensor name>": { "dtype": "F32", "shape": [3, 4], "data_offsets": [begin, end] },
 *       ...
 *     }
 *
 * Offsets are relative to the start of the data section; `end` is one past the last byte. Shapes are
 * row-major; `[]` is a scalar and a 0 anywhere in the shape is an empty tensor.
 *
 * The writer is deterministic: the same tensors and metadata always give the same bytes. Metadata keys are
 * sorted; tensors keep the order they were given, except that wider element types come first (F64, then
 * F32/I32, then U16, then U8). Together with a header padded to a multiple of 8, every typed-array view of
 * the data is then aligned (each group ends on a multiple of its element size, which is a multiple of the
 * next group's). The reader returns tensors in data order, so save -> load -> save gives identical bytes.
 * Multi-byte elements are little-endian in the file whatever the host's byte order.
 *
 * The reader treats every file as hostile. Before it creates a single typed array it checks that the header
 * length is sane, that the header is strict UTF-8 JSON with no duplicate keys (JSON.parse would silently keep
 * the last one, a classic parser differential), that every dtype, shape and offset is well formed, that the
 * tensors tile the data section exactly (contiguous from 0, no gaps, no overlaps) and that nothing follows
 * the last tensor. All arithmetic on numbers from the file is checked against Number.MAX_SAFE_INTEGER, so
 * no size declared in the header is trusted until it has been matched against the real file size.
 * Every failure is a ModelFormatError with a stable code; no RangeError or TypeError escapes.
 */

import { ConfigError, DTypeError, ModelFormatError, ShapeError } from '../errors.ts';

// ---------------------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------------------

/** The element types this library reads and writes (a subset of what safetensors defines). */
export type SafetensorsDType = 'F64' | 'F32' | 'I32' | 'U16' | 'U8';
export type SafetensorsData = Float64Array | Float32Array | Int32Array | Uint16Array | Uint8Array;

export const SAFETENSORS_DTYPES: readonly SafetensorsDType[] = ['F64', 'F32', 'I32', 'U16', 'U8'];

const BYTES_PER_ELEMENT: Readonly<Record<SafetensorsDType, number>> = { F64: 8, F32: 4, I32: 4, U16: 2, U8: 1 };

/** A tensor as stored in a file: element type, row-major shape and the flat data. */
export interface SafetensorsTensor {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly data: SafetensorsData;
}

/** One entry of the header's tensor table, without the data. */
export interface SafetensorsTensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** [begin, end) relative to the start of the data section. */
  readonly dataOffsets: readonly [number, number];
}

/** The parsed and validated header of a file. */
export interface SafetensorsHeader {
  /** N, the header's length in bytes (padding included). */
  readonly headerLength: number;
  /** Where the data section starts in the file: 8 + N. */
  readonly dataStart: number;
  /** The total file size the header was checked against. */
  readonly fileSize: number;
  /** `__metadata__`, or an empty map. A Map, so no key (not even `__proto__`) can reach a prototype. */
  readonly metadata: Map<string, string>;
  /** The tensor table in data order (sorted by begin offset). */
  readonly tensors: readonly SafetensorsTensorInfo[];
}

export interface DecodedSafetensors {
  readonly metadata: Map<string, string>;
  /** Tensors in data order. Their data may share memory with the bytes passed in; copy it if those change. */
  readonly tensors: Map<string, SafetensorsTensor>;
}

/** Limits that bound the work and memory a reader spends on an untrusted file. */
export interface SafetensorsLimits {
  /** Largest header (N) accepted, in bytes. Default 16 MiB (the reference reader allows 100 MB). */
  readonly maxHeaderBytes?: number;
  /** Largest file accepted, in bytes. Default 1 GiB. */
  readonly maxFileBytes?: number;
  /** Largest tensor rank accepted. Default 4. */
  readonly maxRank?: number;
}

export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_MAX_RANK = 4;

const METADATA_KEY = '__metadata__';
const TENSOR_FIELDS = ['dtype', 'shape', 'data_offsets'] as const;
/** Typed-array views assume the host's byte order is little-endian, like the file's; others copy via DataView. */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const SPACE = 0x20;
const OPEN_BRACE = 0x7b;

/**
 * TextEncoder and TextDecoder exist in every browser and in Node, but the core is type-checked without DOM or
 * Node typings, so they are reached through globalThis with just the members used here.
 */
interface Utf8Codecs {
  TextEncoder: new () => { encode(text: string): Uint8Array };
  TextDecoder: new (label: 'utf-8', options: { fatal: boolean; ignoreBOM: boolean }) => { decode(bytes: Uint8Array): string };
}
const codecs = globalThis as unknown as Utf8Codecs;

/** Encodes text as UTF-8. */
export function utf8Encode(text: string): Uint8Array {
  return new codecs.TextEncoder().encode(text);
}

/** Decodes strict UTF-8 (no replacement characters, a byte-order mark is kept as text); null if invalid. */
export function utf8DecodeStrict(bytes: Uint8Array): string | null {
  try {
    return new codecs.TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------------------

/**
 * Serializes tensors and string metadata into one safetensors file.
 * Throws DTypeError / ShapeError / ConfigError if a tensor is inconsistent (wrong array kind for its dtype,
 * data length not matching its shape, a name that cannot be written).
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, SafetensorsTensor> | Iterable<readonly [string, SafetensorsTensor]>,
  metadata: ReadonlyMap<string, string> | Readonly<Record<string, string>> = new Map(),
): Uint8Array {
  const entries = [...tensors].map(([name, tensor], order) => {
    checkTensorForWriting(name, tensor);
    return { name, tensor, order };
  });
  const names = new Set<string>();
  for (const { name } of entries) {
    if (names.has(name)) throw new ConfigError(`safetensors: tensor name "${name}" appears twice`);
    names.add(name);
  }
  // Widest element type first (F64, then F32/I32, then U16, then U8), so each view starts on a multiple of its
  // own element size: every tensor's byte length is a multiple of its element size, and the sizes divide each
  // other. Otherwise stable.
  entries.sort((a, b) => BYTES_PER_ELEMENT[b.tensor.dtype] - BYTES_PER_ELEMENT[a.tensor.dtype] || a.order - b.order);

  const metadataEntries = (metadata instanceof Map ? [...metadata] : Object.entries(metadata)) as [unknown, unknown][];
  for (const [key, value] of metadataEntries) {
    if (typeof key !== 'string' || typeof value !== 'string') {
      throw new ConfigError(`safetensors: metadata must map strings to strings, got ${String(key)} -> ${typeof value}`);
    }
    checkWellFormed(key, 'metadata key');
    checkWellFormed(value, `metadata value of "${key}"`);
  }
  const sortedMetadata = (metadataEntries as [string, string][]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  // Header JSON, written by hand so the key order is exactly ours (no object key reordering, no __proto__ trap).
  const parts: string[] = [];
  if (sortedMetadata.length > 0) {
    const fields = sortedMetadata.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`);
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const { name, tensor } of entries) {
    const begin = offset;
    offset += tensor.data.byteLength;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${tensor.dtype}","shape":[${tensor.shape.join(',')}],"data_offsets":[${begin},${offset}]}`,
    );
  }
  const headerJson = utf8Encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(headerJson.length / 8) * 8;
  if (headerLength > DEFAULT_MAX_HEADER_BYTES) {
    throw new ConfigError(`safetensors: the header would be ${headerLength} bytes, over the ${DEFAULT_MAX_HEADER_BYTES}-byte limit readers accept`);
  }

  const file = new Uint8Array(8 + headerLength + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerLength), true);
  file.set(headerJson, 8);
  file.fill(SPACE, 8 + headerJson.length, 8 + headerLength);
  let position = 8 + headerLength;
  for (const { tensor } of entries) {
    writeLittleEndian(file, position, tensor.data);
    position += tensor.data.byteLength;
  }
  return file;
}

function checkTensorForWriting(name: string, tensor: SafetensorsTensor): void {
  if (typeof name !== 'string') throw new ConfigError(`safetensors: tensor names must be strings, got ${typeof name}`);
  if (name === METADATA_KEY) throw new ConfigError(`safetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
  checkWellFormed(name, 'tensor name');
  const { dtype, shape, data } = tensor;
  if (!Object.hasOwn(BYTES_PER_ELEMENT, dtype)) {
    throw new DTypeError(`safetensors: tensor "${name}" has dtype ${String(dtype)}; supported: ${SAFETENSORS_DTYPES.join(', ')}`);
  }
  const expectedKind = { F64: Float64Array, F32: Float32Array, I32: Int32Array, U16: Uint16Array, U8: Uint8Array }[dtype];
  if (!(data instanceof expectedKind)) {
    throw new DTypeError(`safetensors: tensor "${name}" is ${dtype} and needs a ${expectedKind.name}, got ${describe(data)}`);
  }
  if (!Array.isArray(shape) || shape.length > DEFAULT_MAX_RANK) {
    throw new ShapeError(`safetensors: tensor "${name}" needs a shape of rank at most ${DEFAULT_MAX_RANK}, got ${String(shape)}`);
  }
  let count = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new ShapeError(`safetensors: tensor "${name}" has an invalid dimension ${String(dim)} in shape [${shape.join(', ')}]`);
    }
    count *= dim;
  }
  if (data.length !== count) {
    throw new ShapeError(`safetensors: tensor "${name}" has ${data.length} elements but shape [${shape.join(', ')}] needs ${count}`);
  }
}

/** Lone UTF-16 surrogates cannot be encoded as UTF-8; TextEncoder would silently turn them into U+FFFD. */
function checkWellFormed(text: string, what: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) throw new ConfigError(`safetensors: ${what} ${JSON.stringify(text)} contains a lone UTF-16 surrogate`);
  }
}

function writeLittleEndian(file: Uint8Array, position: number, data: SafetensorsData): void {
  if (LITTLE_ENDIAN_HOST || data instanceof Uint8Array) {
    file.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    return;
  }
  const view = new DataView(file.buffer, file.byteOffset + position, data.byteLength);
  for (let i = 0; i < data.length; i++) {
    const value = data[i] as number;
    if (data instanceof Float64Array) view.setFloat64(i * 8, value, true);
    else if (data instanceof Float32Array) view.setFloat32(i * 4, value, true);
    else if (data instanceof Uint16Array) view.setUint16(i * 2, value, true);
    else view.setInt32(i * 4, value, true);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

// ---------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------

/**
 * Reads and validates a whole file: header, tensor table and data.
 * Throws ModelFormatError (E_MODEL_TRUNCATED, E_FILE_TOO_LARGE, E_HEADER_TOO_LARGE, E_HEADER_JSON,
 * E_DUPLICATE_KEY, E_HEADER_SCHEMA, E_BAD_DTYPE, E_BAD_SHAPE, E_BAD_OFFSETS, E_TRAILING_DATA).
 */
export function decodeSafetensors(bytes: Uint8Array, limits: SafetensorsLimits = {}): DecodedSafetensors {
  const header = readSafetensorsHeader(bytes, limits);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const info of header.tensors) {
    const [begin, end] = info.dataOffsets;
    const data = readTensorData(bytes, header.dataStart + begin, end - begin, info.dtype);
    tensors.set(info.name, { dtype: info.dtype, shape: info.shape, data });
  }
  return { metadata: header.metadata, tensors };
}

/**
 * Reads and validates only the header. `bytes` may be the whole file or just its first 8 + N bytes; in the
 * second case pass the real size as `fileSize` so offsets are still checked against it (this is how
 * `inspect` looks at a large file without reading its data).
 */
export function readSafetensorsHeader(
  bytes: Uint8Array,
  options: SafetensorsLimits & { readonly fileSize?: number } = {},
): SafetensorsHeader {
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const maxRank = options.maxRank ?? DEFAULT_MAX_RANK;
  if (!(bytes instanceof Uint8Array)) throw new ModelFormatError('E_MODEL_TRUNCATED', `safetensors: expected a Uint8Array, got ${describe(bytes)}`);
  const fileSize = options.fileSize ?? bytes.length;
  if (!Number.isSafeInteger(fileSize) || fileSize < bytes.length) {
    throw new ModelFormatError('E_MODEL_TRUNCATED', `safetensors: fileSize ${fileSize} is smaller than the ${bytes.length} bytes given`);
  }

  // 1. The length prefix.
  if (fileSize < 8 || bytes.length < 8) {
    throw new ModelFormatError('E_MODEL_TRUNCATED', `safetensors: file is ${fileSize} bytes, too short for the 8-byte header length`);
  }
  if (fileSize > maxFileBytes) {
    throw new ModelFormatError('E_FILE_TOO_LARGE', `safetensors: file is ${fileSize} bytes, over the limit of ${maxFileBytes}`);
  }
  const declaredLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declaredLength === 0n) {
    throw new ModelFormatError('E_HEADER_JSON', 'safetensors: header length is 0; a header must be a JSON object');
  }
  if (declaredLength > BigInt(maxHeaderBytes)) {
    throw new ModelFormatError('E_HEADER_TOO_LARGE', `safetensors: header length ${declaredLength} (bytes 0-7) is over the limit of ${maxHeaderBytes}`);
  }
  const headerLength = Number(declaredLength); // exact: at most maxHeaderBytes
  const dataStart = 8 + headerLength;
  if (dataStart > fileSize) {
    throw new ModelFormatError('E_MODEL_TRUNCATED', `safetensors: header length ${headerLength} runs past the end of the ${fileSize}-byte file`);
  }
  if (dataStart > bytes.length) {
    throw new ModelFormatError('E_MODEL_TRUNCATED', `safetensors: header length ${headerLength} needs ${dataStart} bytes but only ${bytes.length} were given`);
  }

  // 2. The header text: strict UTF-8, a JSON object, padded with spaces only.
  const headerBytes = bytes.subarray(8, dataStart);
  if (headerBytes[0] !== OPEN_BRACE) {
    const found = headerBytes[0] === 0xef ? 'a byte-order mark' : `byte 0x${(headerBytes[0] ?? 0).toString(16).padStart(2, '0')}`;
    throw new ModelFormatError('E_HEADER_JSON', `safetensors: header must start with "{" (byte 8), found ${found}`);
  }
  const headerText = utf8DecodeStrict(headerBytes);
  if (headerText === null) {
    throw new ModelFormatError('E_HEADER_JSON', `safetensors: header (bytes 8-${dataStart - 1}) is not valid UTF-8`);
  }
  const root = parseStrictJson(headerText, { what: 'header', errorCode: 'E_HEADER_JSON', maxDepth: 3, trailing: 'spaces' });
  if (!(root instanceof Map)) {
    throw new ModelFormatError('E_HEADER_SCHEMA', 'safetensors: header must be a JSON object');
  }

  // 3. The entries: metadata and the tensor table.
  let metadata = new Map<string, string>();
  const tensors: (SafetensorsTensorInfo & { readonly headerIndex: number })[] = [];
  for (const [name, entry] of root) {
    if (name === METADATA_KEY) {
      metadata = readMetadata(entry);
    } else {
      tensors.push({ ...readTensorInfo(name, entry, maxRank), headerIndex: tensors.length });
    }
  }

  // 4. The tensors must tile the data section exactly: contiguous from 0, no gaps, no overlaps, nothing after.
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1] || a.headerIndex - b.headerIndex);
  let expectedBegin = 0;
  let previous = '';
  for (const tensor of tensors) {
    const [begin, end] = tensor.dataOffsets;
    if (begin < expectedBegin) {
      throw new ModelFormatError(
        'E_BAD_OFFSETS',
        `safetensors: tensor "${tensor.name}" (data_offsets [${begin}, ${end}]) overlaps tensor "${previous}", which ends at ${expectedBegin}`,
      );
    }
    if (begin > expectedBegin) {
      const after = previous === '' ? 'the start of the data section' : `tensor "${previous}"`;
      throw new ModelFormatError(
        'E_BAD_OFFSETS',
        `safetensors: gap of ${begin - expectedBegin} bytes before tensor "${tensor.name}" (data_offsets [${begin}, ${end}]), after ${after}`,
      );
    }
    expectedBegin = end;
    previous = tensor.name;
  }
  const dataLength = fileSize - dataStart;
  if (expectedBegin > dataLength) {
    throw new ModelFormatError(
      'E_MODEL_TRUNCATED',
      `safetensors: the tensors need ${expectedBegin} data bytes (up to file offset ${dataStart + expectedBegin}) but the file has only ${dataLength} after the header`,
    );
  }
  if (expectedBegin < dataLength) {
    throw new ModelFormatError(
      'E_TRAILING_DATA',
      `safetensors: ${dataLength - expectedBegin} bytes follow the last tensor (from file offset ${dataStart + expectedBegin}); a file must end where its data ends`,
    );
  }

  return {
    headerLength,
    dataStart,
    fileSize,
    metadata,
    tensors: tensors.map(({ name, dtype, shape, dataOffsets }) => ({ name, dtype, shape, dataOffsets })),
  };
}

function readMetadata(entry: JsonValue): Map<string, string> {
  if (!(entry instanceof Map)) {
    throw new ModelFormatError('E_HEADER_SCHEMA', `safetensors: "${METADATA_KEY}" must be an object of strings, got ${jsonKind(entry)}`);
  }
  const metadata = new Map<string, string>();
  for (const [key, value] of entry) {
    if (typeof value !== 'string') {
      throw new ModelFormatError('E_HEADER_SCHEMA', `safetensors: metadata value "${key}" must be a string, got ${jsonKind(value)}`);
    }
    metadata.set(key, value);
  }
  return metadata;
}

function readTensorInfo(name: string, entry: JsonValue, maxRank: number): SafetensorsTensorInfo {
  if (!(entry instanceof Map)) {
    throw new ModelFormatError('E_HEADER_SCHEMA', `safetensors: entry for tensor "${name}" must be an object, got ${jsonKind(entry)}`);
  }
  for (const key of entry.keys()) {
    if (!(TENSOR_FIELDS as readonly string[]).includes(key)) {
      throw new ModelFormatError('E_HEADER_SCHEMA', `safetensors: tensor "${name}" has an unknown field "${key}" (allowed: ${TENSOR_FIELDS.join(', ')})`);
    }
  }
  for (const key of TENSOR_FIELDS) {
    if (!entry.has(key)) throw new ModelFormatError('E_HEADER_SCHEMA', `safetensors: tensor "${name}" is missing "${key}"`);
  }

  const dtype = entry.get('dtype');
  if (typeof dtype !== 'string' || !(SAFETENSORS_DTYPES as readonly string[]).includes(dtype)) {
    const shown = typeof dtype === 'string' ? JSON.stringify(dtype) : jsonKind(dtype ?? null);
    throw new ModelFormatError('E_BAD_DTYPE', `safetensors: tensor "${name}" has unsupported dtype ${shown} (supported: ${SAFETENSORS_DTYPES.join(', ')})`);
  }
  const elementSize = BYTES_PER_ELEMENT[dtype as SafetensorsDType];

  const shapeValue = entry.get('shape');
  if (!Array.isArray(shapeValue)) {
    throw new ModelFormatError('E_BAD_SHAPE', `safetensors: tensor "${name}" has a shape that is not an array (${jsonKind(shapeValue ?? null)})`);
  }
  if (shapeValue.length > maxRank) {
    throw new ModelFormatError('E_BAD_SHAPE', `safetensors: tensor "${name}" has rank ${shapeValue.length}, more than the ${maxRank} allowed`);
  }
  const shape: number[] = [];
  let elementCount = 1;
  for (const dim of shapeValue) {
    const size = plainInteger(dim);
    if (size === null) {
      throw new ModelFormatError('E_BAD_SHAPE', `safetensors: tensor "${name}" has an invalid dimension ${jsonText(dim)} (dimensions must be non-negative integers)`);
    }
    shape.push(size);
    elementCount *= size;
    if (!Number.isSafeInteger(elementCount)) {
      throw new ModelFormatError('E_BAD_SHAPE', `safetensors: tensor "${name}" has shape ${jsonText(shapeValue)}, whose element count overflows`);
    }
  }
  const byteCount = elementCount * elementSize;
  if (!Number.isSafeInteger(byteCount)) {
    throw new ModelFormatError('E_BAD_SHAPE', `safetensors: tensor "${name}" has shape [${shape.join(', ')}], whose byte count overflows`);
  }

  const offsetsValue = entry.get('data_offsets');
  if (!Array.isArray(offsetsValue) || offsetsValue.length !== 2) {
    throw new ModelFormatError('E_BAD_OFFSETS', `safetensors: tensor "${name}" needs data_offsets [begin, end], got ${jsonText(offsetsValue ?? null)}`);
  }
  const begin = plainInteger(offsetsValue[0] ?? null);
  const end = plainInteger(offsetsValue[1] ?? null);
  if (begin === null || end === null) {
    throw new ModelFormatError('E_BAD_OFFSETS', `safetensors: tensor "${name}" has data_offsets ${jsonText(offsetsValue)}; both must be non-negative integers`);
  }
  if (begin > end) {
    throw new ModelFormatError('E_BAD_OFFSETS', `safetensors: tensor "${name}" has data_offsets [${begin}, ${end}] with begin after end`);
  }
  if (end - begin !== byteCount) {
    throw new ModelFormatError(
      'E_BAD_OFFSETS',
      `safetensors: tensor "${name}" has data_offsets [${begin}, ${end}] (${end - begin} bytes) but ${dtype} [${shape.join(', ')}] needs ${byteCount} bytes`,
    );
  }
  return { name, dtype: dtype as SafetensorsDType, shape, dataOffsets: [begin, end] };
}

/** The value of a JSON number written as plain digits (no sign, fraction or exponent) that is a safe integer. */
function plainInteger(value: JsonValue): number | null {
  if (!(value instanceof JsonNumber) || !/^(?:0|[1-9][0-9]*)$/.test(value.text)) return null;
  return Number.isSafeInteger(value.value) ? value.value : null;
}

/** Returns a typed array for `count` bytes at `position`: a view when aligned on a little-endian host, else a copy. */
function readTensorData(bytes: Uint8Array, position: number, byteCount: number, dtype: SafetensorsDType): SafetensorsData {
  const elementSize = BYTES_PER_ELEMENT[dtype];
  const length = byteCount / elementSize;
  const absolute = bytes.byteOffset + position;
  // Plain typed arrays on the same memory (a Node Buffer's subarray would be a Buffer, with other semantics).
  if (dtype === 'U8') return new Uint8Array(bytes.buffer, absolute, byteCount);
  if (LITTLE_ENDIAN_HOST) {
    if (absolute % elementSize === 0) {
      if (dtype === 'F64') return new Float64Array(bytes.buffer, absolute, length);
      if (dtype === 'F32') return new Float32Array(bytes.buffer, absolute, length);
      if (dtype === 'U16') return new Uint16Array(bytes.buffer, absolute, length);
      return new Int32Array(bytes.buffer, absolute, length);
    }
    // Misaligned (e.g. a Node Buffer from the shared pool): copy into a fresh, aligned buffer. Not with
    // bytes.slice(), which on a Node Buffer returns a view rather than a copy.
    const copy = new Uint8Array(byteCount);
    copy.set(bytes.subarray(position, position + byteCount));
    if (dtype === 'F64') return new Float64Array(copy.buffer);
    if (dtype === 'F32') return new Float32Array(copy.buffer);
    if (dtype === 'U16') return new Uint16Array(copy.buffer);
    return new Int32Array(copy.buffer);
  }
  const view = new DataView(bytes.buffer, absolute, byteCount);
  if (dtype === 'F64') return Float64Array.from({ length }, (_, i) => view.getFloat64(i * 8, true));
  if (dtype === 'F32') return Float32Array.from({ length }, (_, i) => view.getFloat32(i * 4, true));
  if (dtype === 'U16') return Uint16Array.from({ length }, (_, i) => view.getUint16(i * 2, true));
  return Int32Array.from({ length }, (_, i) => view.getInt32(i * 4, true));
}

// ---------------------------------------------------------------------------------------------------------
// A strict JSON parser
// ---------------------------------------------------------------------------------------------------------

/**
 * A JSON number, kept with its source text so callers can insist on plain integers ("2", not "2.0" or "2e0"),
 * which is what the reference (Rust) reader accepts for sizes and offsets.
 */
export class JsonNumber {
  constructor(
    readonly text: string,
    readonly value: number,
  ) {}
}

/** Parsed JSON: objects are Maps (key order kept, no prototype), numbers keep their text. */
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export interface StrictJsonOptions {
  /** Names the text in error messages, e.g. `header` or `metadata "model"`. */
  readonly what: string;
  /** The ModelFormatError code for syntax errors. Duplicate keys always use E_DUPLICATE_KEY. */
  readonly errorCode: string;
  /** Deepest nesting of objects and arrays accepted; keeps the parser's recursion bounded. */
  readonly maxDepth: number;
  /** What may follow the value: JSON whitespace (default) or only spaces (safetensors padding). */
  readonly trailing?: 'whitespace' | 'spaces';
}

/**
 * Parses RFC 8259 JSON and rejects what JSON.parse lets through: duplicate keys at any level (JSON.parse keeps
 * the last one silently), lone surrogate escapes (they cannot round-trip through UTF-8) and nesting deeper than
 * `maxDepth`. Objects become Maps, so a key such as `__proto__` is just data.
 */
export function parseStrictJson(text: string, options: StrictJsonOptions): JsonValue {
  return new StrictJsonParser(text, options).parseDocument();
}

class StrictJsonParser {
  private position = 0;
  /** Keys from the root to the current value, for error messages. */
  private readonly path: string[] = [];

  constructor(
    private readonly text: string,
    private readonly options: StrictJsonOptions,
  ) {}

  parseDocument(): JsonValue {
    this.skipWhitespace();
    const value = this.parseValue(0);
    if (this.options.trailing === 'spaces') {
      while (this.text.charCodeAt(this.position) === SPACE) this.position++;
      if (this.position < this.text.length) {
        this.fail(`unexpected ${this.describeCharacter()} after the JSON value (padding must be spaces, 0x20)`);
      }
    } else {
      this.skipWhitespace();
      if (this.position < this.text.length) this.fail(`unexpected ${this.describeCharacter()} after the JSON value`);
    }
    return value;
  }

  private parseValue(depth: number): JsonValue {
    const c = this.text.charCodeAt(this.position);
    if (c === 0x7b /* { */) return this.parseObject(depth + 1);
    if (c === 0x5b /* [ */) return this.parseArray(depth + 1);
    if (c === 0x22 /* " */) return this.parseString();
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
    if (this.text.startsWith('true', this.position)) {
      this.position += 4;
      return true;
    }
    if (this.text.startsWith('false', this.position)) {
      this.position += 5;
      return false;
    }
    if (this.text.startsWith('null', this.position)) {
      this.position += 4;
      return null;
    }
    return this.fail(`unexpected ${this.describeCharacter()} where a value was expected`);
  }

  private parseObject(depth: number): JsonObject {
    if (depth > this.options.maxDepth) this.fail(`nesting deeper than ${this.options.maxDepth} levels`);
    this.position++; // {
    const object: JsonObject = new Map();
    this.skipWhitespace();
    if (this.text.charCodeAt(this.position) === 0x7d /* } */) {
      this.position++;
      return object;
    }
    for (;;) {
      if (this.text.charCodeAt(this.position) !== 0x22) this.fail(`expected a quoted key, found ${this.describeCharacter()}`);
      const key = this.parseString();
      if (object.has(key)) {
        throw new ModelFormatError(
          'E_DUPLICATE_KEY',
          `${this.options.what}: duplicate key ${JSON.stringify(key)} in the object at ${this.formatPath()} (character ${this.position})`,
        );
      }
      this.skipWhitespace();
      if (this.text.charCodeAt(this.position) !== 0x3a /* : */) this.fail(`expected ":" after key ${JSON.stringify(key)}, found ${this.describeCharacter()}`);
      this.position++;
      this.skipWhitespace();
      this.path.push(key);
      object.set(key, this.parseValue(depth));
      this.path.pop();
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.position);
      this.position++;
      if (c === 0x7d /* } */) return object;
      if (c !== 0x2c /* , */) {
        this.position--;
        this.fail(`expected "," or "}" in an object, found ${this.describeCharacter()}`);
      }
      this.skipWhitespace();
    }
  }

  private parseArray(depth: number): JsonValue[] {
    if (depth > this.options.maxDepth) this.fail(`nesting deeper than ${this.options.maxDepth} levels`);
    this.position++; // [
    const array: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text.charCodeAt(this.position) === 0x5d /* ] */) {
      this.position++;
      return array;
    }
    for (;;) {
      this.path.push(`[${array.length}]`);
      array.push(this.parseValue(depth));
      this.path.pop();
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.position);
      this.position++;
      if (c === 0x5d /* ] */) return array;
      if (c !== 0x2c /* , */) {
        this.position--;
        this.fail(`expected "," or "]" in an array, found ${this.describeCharacter()}`);
      }
      this.skipWhitespace();
    }
  }

  private parseString(): string {
    const text = this.text;
    this.position++; // opening quote
    let result = '';
    let chunkStart = this.position;
    for (;;) {
      if (this.position >= text.length) this.fail('unterminated string');
      const c = text.charCodeAt(this.position);
      if (c === 0x22) {
        result += text.slice(chunkStart, this.position);
        this.position++;
        return result;
      }
      if (c < 0x20) this.fail(`unescaped control character 0x${c.toString(16).padStart(2, '0')} in a string`);
      if (c !== 0x5c /* \ */) {
        this.position++;
        continue;
      }
      result += text.slice(chunkStart, this.position);
      const escape = text[this.position + 1];
      this.position += 2;
      switch (escape) {
        case '"':
        case '\\':
        case '/':
          result += escape;
          break;
        case 'b':
          result += '\b';
          break;
        case 'f':
          result += '\f';
          break;
        case 'n':
          result += '\n';
          break;
        case 'r':
          result += '\r';
          break;
        case 't':
          result += '\t';
          break;
        case 'u': {
          const unit = this.readHex4();
          if (unit >= 0xdc00 && unit <= 0xdfff) this.fail('a low surrogate escape without a high surrogate before it');
          if (unit >= 0xd800 && unit <= 0xdbff) {
            if (text[this.position] !== '\\' || text[this.position + 1] !== 'u') this.fail('a high surrogate escape not followed by a low one');
            this.position += 2;
            const low = this.readHex4();
            if (low < 0xdc00 || low > 0xdfff) this.fail('a high surrogate escape not followed by a low one');
            result += String.fromCharCode(unit, low);
          } else {
            result += String.fromCharCode(unit);
          }
          break;
        }
        default:
          this.position -= 1;
          this.fail(`invalid escape sequence "\\${escape ?? ''}"`);
      }
      chunkStart = this.position;
    }
  }

  private readHex4(): number {
    const digits = this.text.slice(this.position, this.position + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) this.fail('invalid \\u escape');
    this.position += 4;
    return parseInt(digits, 16);
  }

  private parseNumber(): JsonNumber {
    const match = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    match.lastIndex = this.position;
    const found = match.exec(this.text);
    if (found === null) return this.fail('invalid number');
    this.position += found[0].length;
    return new JsonNumber(found[0], Number(found[0]));
  }

  private skipWhitespace(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.position);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.position++;
      else return;
    }
  }

  private describeCharacter(): string {
    if (this.position >= this.text.length) return 'end of text';
    const c = this.text.charCodeAt(this.position);
    return c >= 0x20 && c < 0x7f ? `"${this.text[this.position]}"` : `character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  }

  private formatPath(): string {
    return this.path.length === 0 ? 'the top level' : this.path.map((key) => (key.startsWith('[') ? key : `.${JSON.stringify(key)}`)).join('').replace(/^\./, '');
  }

  private fail(reason: string): never {
    throw new ModelFormatError(this.options.errorCode, `${this.options.what}: invalid JSON at character ${this.position}: ${reason}`);
  }
}

/** Converts parsed JSON into plain JavaScript values: objects with a null prototype, numbers as numbers. */
export function jsonToPlain(value: JsonValue): unknown {
  if (value instanceof JsonNumber) return value.value;
  if (Array.isArray(value)) return value.map(jsonToPlain);
  if (value instanceof Map) {
    const object: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    // Own data properties via defineProperty: even a "__proto__" key stays data, never a prototype.
    for (const [key, item] of value) Object.defineProperty(object, key, { value: jsonToPlain(item), enumerable: true, writable: true, configurable: true });
    return object;
  }
  return value;
}

/** A short name for the kind of a parsed JSON value, for error messages. */
export function jsonKind(value: JsonValue): string {
  if (value === null) return 'null';
  if (value instanceof JsonNumber) return 'a number';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Map) return 'an object';
  return typeof value === 'string' ? 'a string' : 'a boolean';
}

/** The parsed JSON written back as compact text (numbers in their original spelling), capped for messages. */
function jsonText(value: JsonValue): string {
  const text = renderJson(value, 0);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function renderJson(value: JsonValue, depth: number): string {
  if (value instanceof JsonNumber) return value.text;
  if (depth > 8) return '...';
  if (Array.isArray(value)) return `[${value.slice(0, 16).map((item) => renderJson(item, depth + 1)).join(',')}${value.length > 16 ? ',...' : ''}]`;
  if (value instanceof Map) {
    const fields = [...value].slice(0, 16).map(([key, item]) => `${JSON.stringify(key)}:${renderJson(item, depth + 1)}`);
    return `{${fields.join(',')}${value.size > 16 ? ',...' : ''}}`;
  }
  return JSON.stringify(value);
}
