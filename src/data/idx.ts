/**
 * The IDX file format (LeCun's MNIST format) and its conversion to a `Dataset`. Browser-safe: this file
 * works on bytes only; reading and gunzipping files is the Node layer's job (src/node/data.ts).
 *
 * An IDX file is a header followed by a dense array, big-endian, no padding:
 *
 *   bytes 0-1   0x00 0x00                  (magic)
 *   byte  2     element type               (0x08 = unsigned byte; 0x09 int8, 0x0B int16, 0x0C int32,
 *                                            0x0D float32, 0x0E float64 exist but are not supported here)
 *   byte  3     number of dimensions d
 *   then        d × uint32 sizes, big-endian, outermost first
 *   then        product(sizes) elements, row-major
 *
 * MNIST, Fashion-MNIST and the built-in digits all use unsigned bytes: images are `[count, rows, cols]`
 * (idx3) and labels are `[count]` (idx1).
 */
import { ConfigError, DataFormatError, ShapeError } from '../errors.ts';
import type { Dataset } from './dataset.ts';

/** A parsed IDX array: its sizes (outermost first) and its elements, row-major. */
export interface IdxArray {
  readonly dims: number[];
  /** A view into the parsed bytes (not a copy). */
  readonly data: Uint8Array;
  /** The file name it came from, used in error messages. */
  readonly name: string;
}

/** The only element type we accept: unsigned byte. */
const IDX_TYPE_UBYTE = 0x08;

/** Names of the other element types the format defines, for error messages. */
const IDX_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x08, 'unsigned byte'],
  [0x09, 'signed byte'],
  [0x0b, 'int16'],
  [0x0c, 'int32'],
  [0x0d, 'float32'],
  [0x0e, 'float64'],
]);

const MAX_DIMS = 4;

/** The default number of classes: every IDX data set this project ships or names (MNIST family) has 10. */
export const DEFAULT_NUM_CLASSES = 10;

function hex(byte: number): string {
  return '0x' + byte.toString(16).padStart(2, '0');
}

/**
 * Parses an uncompressed IDX file of unsigned bytes. `name` is used in error messages only.
 * Throws `DataFormatError` naming the file and the defect: a wrong magic number (including a file that is
 * still gzipped), an unsupported element type, 0 or more than 4 dimensions, a truncated header, truncated
 * data or trailing bytes.
 *
 * @example parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]), 'labels') // → { dims: [2], data: [7, 3] }
 */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (bytes.length < 4) {
    throw new DataFormatError(`${name}: truncated header: the file has ${bytes.length} bytes, an IDX header needs at least 4`);
  }
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  const typeCode = bytes[2]!;
  const dimCount = bytes[3]!;
  if (b0 === 0x1f && b1 === 0x8b) {
    throw new DataFormatError(`${name}: not an IDX file: it starts with the gzip magic 0x1f 0x8b; gunzip it first`);
  }
  if (b0 !== 0 || b1 !== 0) {
    throw new DataFormatError(`${name}: not an IDX file: wrong magic number, the first two bytes are ${hex(b0)} ${hex(b1)}, expected 0x00 0x00`);
  }
  if (typeCode !== IDX_TYPE_UBYTE) {
    const typeName = IDX_TYPE_NAMES.get(typeCode);
    const what = typeName === undefined ? 'an unknown element type' : `element type ${typeName}`;
    throw new DataFormatError(`${name}: unsupported IDX type code ${hex(typeCode)} (${what}); only 0x08 (unsigned byte) is supported`);
  }
  if (dimCount < 1 || dimCount > MAX_DIMS) {
    throw new DataFormatError(`${name}: unsupported number of dimensions ${dimCount}; expected 1 to ${MAX_DIMS}`);
  }

  const headerLength = 4 + 4 * dimCount;
  if (bytes.length < headerLength) {
    throw new DataFormatError(
      `${name}: truncated header: ${dimCount} dimensions need a ${headerLength}-byte header, the file has only ${bytes.length} bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let elementCount = 1;
  for (let i = 0; i < dimCount; i++) {
    const size = view.getUint32(4 + 4 * i, false);
    dims.push(size);
    // Each size is < 2^32 and there are at most 4, so the product could reach 2^128: check before it leaves
    // the range where doubles count exactly. A product that large could never fit in the file anyway.
    elementCount *= size;
    if (!Number.isSafeInteger(elementCount)) {
      throw new DataFormatError(`${name}: dimensions [${dims.join(', ')}...] describe more than 2^53 elements; the header is corrupt`);
    }
  }

  const dataLength = bytes.length - headerLength;
  if (dataLength < elementCount) {
    throw new DataFormatError(
      `${name}: truncated data: dimensions [${dims.join(', ')}] need ${elementCount} data bytes, ` +
        `the file has only ${dataLength} (${elementCount - dataLength} missing)`,
    );
  }
  if (dataLength > elementCount) {
    throw new DataFormatError(
      `${name}: ${dataLength - elementCount} trailing bytes after the data: dimensions [${dims.join(', ')}] ` +
        `need ${elementCount} data bytes, the file has ${dataLength}`,
    );
  }
  return { dims, data: bytes.subarray(headerLength), name };
}

/** Options for `idxToDataset`. */
export interface IdxDatasetOptions {
  /**
   * The number of classes; every label must be below it. Default 10 (`DEFAULT_NUM_CLASSES`). It is not
   * inferred from the labels on purpose: one corrupt label byte would otherwise silently widen the model's
   * output layer, and a test split that happens to lack the highest class would disagree with its training
   * split. Pass it for IDX data sets with more classes (EMNIST, ...).
   */
  readonly numClasses?: number;
}

/** 256 entries: byte value → value / 255 as float32. One lookup per pixel beats one division per pixel. */
const BYTE_TO_UNIT: Float32Array = (() => {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = v / 255;
  return table;
})();

/**
 * Builds a `Dataset` from parsed IDX images and labels: `x` = pixel / 255 (so in [0, 1]), one row per
 * sample of `features` = product of the image dimensions after the first (rows × cols for idx3).
 * Throws `DataFormatError` if the images are not at least 2-D, the labels are not 1-D, the counts differ,
 * or a label is not below `numClasses`; `ConfigError` if `numClasses` is not an integer in [1, 256].
 *
 * @example idxToDataset(parseIdx(imageBytes, 'train-images'), parseIdx(labelBytes, 'train-labels'), 'digits/train')
 */
export function idxToDataset(images: IdxArray, labels: IdxArray, name: string, options: IdxDatasetOptions = {}): Dataset {
  const numClasses = options.numClasses ?? DEFAULT_NUM_CLASSES;
  if (!Number.isSafeInteger(numClasses) || numClasses < 1 || numClasses > 256) {
    // Labels are bytes, so more than 256 classes could never be told apart.
    throw new ConfigError(`${name}: numClasses must be an integer in [1, 256], got ${numClasses}`);
  }
  if (images.dims.length < 2) {
    throw new DataFormatError(
      `${images.name}: images must have at least 2 dimensions (count, then the size of one sample), got [${images.dims.join(', ')}]`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new DataFormatError(`${labels.name}: labels must have 1 dimension (count), got [${labels.dims.join(', ')}]`);
  }
  const count = images.dims[0]!;
  const labelCount = labels.dims[0]!;
  if (count !== labelCount) {
    throw new DataFormatError(
      `${name}: count mismatch: ${images.name} has ${count} images but ${labels.name} has ${labelCount} labels`,
    );
  }
  let features = 1;
  for (let i = 1; i < images.dims.length; i++) features *= images.dims[i]!;
  if (features === 0) {
    throw new DataFormatError(`${images.name}: each image is empty (dimensions [${images.dims.join(', ')}])`);
  }

  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = labels.data[i]!;
    if (label >= numClasses) {
      throw new DataFormatError(
        `${labels.name}: label ${label} of sample ${i} is out of range for ${numClasses} classes ` +
          `(labels must be in [0, ${numClasses - 1}]; pass numClasses for a data set with more classes)`,
      );
    }
    y[i] = label;
  }

  const pixels = images.data;
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) x[i] = BYTE_TO_UNIT[pixels[i]!]!;

  return { x, y, count, features, numClasses, name };
}

/**
 * Writes an IDX file of unsigned bytes: the inverse of `parseIdx`. Used by the digits build script and by
 * tests that need valid (or deliberately broken) files. Throws `ShapeError` if `dims` do not describe `data`.
 *
 * @example encodeIdx([2], new Uint8Array([7, 3])) // → bytes 00 00 08 01 00 00 00 02 07 03
 */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  if (dims.length < 1 || dims.length > MAX_DIMS) throw new ShapeError(`encodeIdx: need 1 to ${MAX_DIMS} dimensions, got ${dims.length}`);
  let elementCount = 1;
  for (const size of dims) {
    if (!Number.isInteger(size) || size < 0 || size > 0xffffffff) throw new ShapeError(`encodeIdx: invalid dimension ${size} in [${dims.join(', ')}]`);
    elementCount *= size;
  }
  if (elementCount !== data.length) {
    throw new ShapeError(`encodeIdx: dimensions [${dims.join(', ')}] describe ${elementCount} elements, data has ${data.length}`);
  }
  const headerLength = 4 + 4 * dims.length;
  const out = new Uint8Array(headerLength + data.length);
  out[2] = IDX_TYPE_UBYTE;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((size, i) => view.setUint32(4 + 4 * i, size, false));
  out.set(data, headerLength);
  return out;
}
