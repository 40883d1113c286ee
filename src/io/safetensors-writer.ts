/**
 * The safetensors writer: tensors and string metadata in, the bytes of one file out. Deterministic (the same
 * input always gives the same bytes): metadata keys are sorted; tensors keep their order, except that wider
 * element types come first (F64, then F32/I32, then U16/F16, then U8/I8), which together with a header padded to a
 * multiple of 8 aligns every typed-array view of the data. See safetensors.ts for the layout.
 */

import { ConfigError, DTypeError, ShapeError } from '../errors.ts';
import { describeArray } from '../tensor/tensor.ts';
import {
  BYTES_PER_ELEMENT,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_RANK,
  HEADER_PADDING_BYTE,
  LITTLE_ENDIAN_HOST,
  METADATA_KEY,
  SAFETENSORS_DTYPES,
  type SafetensorsData,
  type SafetensorsTensor,
} from './safetensors-types.ts';
import { utf8Encode } from './utf8.ts';

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
  // Widest element type first (F64, then F32/I32, then U16/F16, then U8/I8), so each view starts on a multiple of its
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
  file.fill(HEADER_PADDING_BYTE, 8 + headerJson.length, 8 + headerLength);
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
  const expectedKind = { F64: Float64Array, F32: Float32Array, I32: Int32Array, U16: Uint16Array, F16: Uint16Array, U8: Uint8Array, I8: Int8Array }[dtype];
  if (!(data instanceof expectedKind)) {
    throw new DTypeError(`safetensors: tensor "${name}" is ${dtype} and needs a ${expectedKind.name}, got ${describeArray(data)}`);
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
  if (LITTLE_ENDIAN_HOST || data instanceof Uint8Array || data instanceof Int8Array) {
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
