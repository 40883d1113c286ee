/**
 * The safetensors reader. It treats every file as hostile: before it creates a single typed array it checks
 * that the header length is sane, that the header is strict UTF-8 JSON with no duplicate keys, that every
 * dtype, shape and offset is well formed, that the tensors tile the data section exactly (contiguous from 0,
 * no gaps, no overlaps) and that nothing follows the last tensor. All arithmetic on numbers from the file is
 * checked against Number.MAX_SAFE_INTEGER. Every failure is a ModelFormatError with a stable code; no
 * RangeError or TypeError escapes. See safetensors.ts for the layout.
 */

import { ModelFormatError } from '../errors.ts';
import { isUint8Array } from '../tensor/typed-array.ts';
import { describeArray } from '../tensor/tensor.ts';
import { JsonNumber, jsonKind, jsonText, parseStrictJson, type JsonValue } from './strict-json.ts';
import {
  BYTES_PER_ELEMENT,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_RANK,
  IMPORT_BYTES_PER_ELEMENT,
  LITTLE_ENDIAN_HOST,
  METADATA_KEY,
  type DecodedSafetensors,
  type SafetensorsData,
  type SafetensorsDType,
  type SafetensorsHeader,
  type SafetensorsImportDType,
  type SafetensorsLimits,
  type SafetensorsTensor,
  type SafetensorsTensorInfo,
} from './safetensors-types.ts';
import { utf8DecodeStrict } from './utf8.ts';

const TENSOR_FIELDS = ['dtype', 'shape', 'data_offsets'] as const;
const OPEN_BRACE = 0x7b;

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
  return readHeaderWith(bytes, options, BYTES_PER_ELEMENT) as SafetensorsHeader;
}

/**
 * A tensor of another framework's file, as raw little-endian bytes: its dtype may be one this library does not
 * keep in memory (BF16, I64, BOOL) or keeps as raw bits (F16), which the importer converts.
 */
export interface RawSafetensorsTensor {
  readonly dtype: SafetensorsImportDType;
  readonly shape: readonly number[];
  /** The tensor's bytes: a view of the input, not a copy. */
  readonly bytes: Uint8Array;
}

/**
 * Reads and validates a whole file with every check of decodeSafetensors, also accepting the dtypes of
 * IMPORT_BYTES_PER_ELEMENT, and returns each tensor's raw bytes. For importers (src/io/import); throws the
 * same ModelFormatErrors.
 */
export function decodeSafetensorsRaw(bytes: Uint8Array, limits: SafetensorsLimits = {}): { metadata: Map<string, string>; tensors: Map<string, RawSafetensorsTensor> } {
  const header = readHeaderWith(bytes, limits, IMPORT_BYTES_PER_ELEMENT);
  const tensors = new Map<string, RawSafetensorsTensor>();
  for (const info of header.tensors) {
    const [begin, end] = info.dataOffsets;
    tensors.set(info.name, { dtype: info.dtype as SafetensorsImportDType, shape: info.shape, bytes: bytes.subarray(header.dataStart + begin, header.dataStart + end) });
  }
  return { metadata: header.metadata, tensors };
}

/** readSafetensorsHeader with the accepted dtypes and their element sizes as a parameter. */
function readHeaderWith(
  bytes: Uint8Array,
  options: SafetensorsLimits & { readonly fileSize?: number },
  elementSizes: Readonly<Record<string, number>>,
): Omit<SafetensorsHeader, 'tensors'> & { readonly tensors: readonly (Omit<SafetensorsTensorInfo, 'dtype'> & { readonly dtype: string })[] } {
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const maxRank = options.maxRank ?? DEFAULT_MAX_RANK;
  if (!isUint8Array(bytes)) throw new ModelFormatError('E_MODEL_TRUNCATED', `safetensors: expected a Uint8Array, got ${describeArray(bytes)}`);
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
  const tensors: (ReturnType<typeof readTensorInfo> & { readonly headerIndex: number })[] = [];
  for (const [name, entry] of root) {
    if (name === METADATA_KEY) {
      metadata = readMetadata(entry);
    } else {
      tensors.push({ ...readTensorInfo(name, entry, maxRank, elementSizes), headerIndex: tensors.length });
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

function readTensorInfo(name: string, entry: JsonValue, maxRank: number, elementSizes: Readonly<Record<string, number>>): Omit<SafetensorsTensorInfo, 'dtype'> & { readonly dtype: string } {
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
  if (typeof dtype !== 'string' || !Object.hasOwn(elementSizes, dtype)) {
    const shown = typeof dtype === 'string' ? JSON.stringify(dtype) : jsonKind(dtype ?? null);
    throw new ModelFormatError('E_BAD_DTYPE', `safetensors: tensor "${name}" has unsupported dtype ${shown} (supported: ${Object.keys(elementSizes).join(', ')})`);
  }
  const elementSize = elementSizes[dtype]!;

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
  return { name, dtype, shape, dataOffsets: [begin, end] };
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
  if (dtype === 'I8') return new Int8Array(bytes.buffer, absolute, byteCount);
  if (LITTLE_ENDIAN_HOST) {
    if (absolute % elementSize === 0) {
      if (dtype === 'F64') return new Float64Array(bytes.buffer, absolute, length);
      if (dtype === 'F32') return new Float32Array(bytes.buffer, absolute, length);
      if (dtype === 'U16' || dtype === 'F16') return new Uint16Array(bytes.buffer, absolute, length);
      return new Int32Array(bytes.buffer, absolute, length);
    }
    // Misaligned (e.g. a Node Buffer from the shared pool): copy into a fresh, aligned buffer. Not with
    // bytes.slice(), which on a Node Buffer returns a view rather than a copy.
    const copy = new Uint8Array(byteCount);
    copy.set(bytes.subarray(position, position + byteCount));
    if (dtype === 'F64') return new Float64Array(copy.buffer);
    if (dtype === 'F32') return new Float32Array(copy.buffer);
    if (dtype === 'U16' || dtype === 'F16') return new Uint16Array(copy.buffer);
    return new Int32Array(copy.buffer);
  }
  const view = new DataView(bytes.buffer, absolute, byteCount);
  if (dtype === 'F64') return Float64Array.from({ length }, (_, i) => view.getFloat64(i * 8, true));
  if (dtype === 'F32') return Float32Array.from({ length }, (_, i) => view.getFloat32(i * 4, true));
  if (dtype === 'U16' || dtype === 'F16') return Uint16Array.from({ length }, (_, i) => view.getUint16(i * 2, true));
  return Int32Array.from({ length }, (_, i) => view.getInt32(i * 4, true));
}
