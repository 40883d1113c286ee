import { readFileSync } from 'node:fs';
import { gunzipSync, inflateSync } from 'node:zlib';
import { parseIdx } from '../data/idx.ts';
import { DataFormatError } from '../errors.ts';

/*
 * Reading inputs for `sparsegrad predict`: one grayscale image (PNG or binary PGM), a whole IDX image
 * file (raw or gzipped), or a JSON array of pixel values. Pixels come out scaled to [0, 1], one row per
 * image, as the models were trained.
 */

export interface Images {
  readonly count: number;
  readonly width: number;
  readonly height: number;
  /** count × (width·height) values in [0, 1]. */
  readonly pixels: Float32Array;
}

export function readImages(path: string): Images {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new DataFormatError(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new DataFormatError(`${path}: corrupt gzip data (${(error as Error).message})`);
    }
  }
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return decodePng(bytes, path);
  if (bytes[0] === 0x50 && bytes[1] === 0x35) return decodePgm(bytes, path);
  if (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0x08) {
    const idx = parseIdx(bytes, path);
    if (idx.dims.length !== 3) throw new DataFormatError(`${path}: an IDX image file has 3 dimensions (count, rows, cols), this one has ${idx.dims.length}`);
    const [count, height, width] = idx.dims as [number, number, number];
    return { count, width, height, pixels: Float32Array.from(idx.data, (v) => v / 255) };
  }
  const text = new TextDecoder().decode(bytes).trim();
  if (text.startsWith('[')) return decodeJson(text, path);
  throw new DataFormatError(`${path}: not a PNG, PGM (P5), IDX image file or JSON array of pixels`);
}

function decodeJson(text: string, path: string): Images {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DataFormatError(`${path}: invalid JSON (${(error as Error).message})`);
  }
  const rows = Array.isArray(value) && Array.isArray(value[0]) ? (value as unknown[][]) : [value as unknown[]];
  const width = rows[0]?.length ?? 0;
  const pixels = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== width) throw new DataFormatError(`${path}: row ${r} has a different length than row 0 (${width})`);
    row.forEach((v, c) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new DataFormatError(`${path}: value at [${r}][${c}] is not a finite number`);
      pixels[r * width + c] = v > 1 ? v / 255 : v; // accept 0..255 or 0..1
    });
  });
  return { count: rows.length, width, height: 1, pixels };
}

function decodePgm(bytes: Uint8Array, path: string): Images {
  // Header: "P5" whitespace width whitespace height whitespace maxval single-whitespace, '#' comments allowed.
  const fields: number[] = [];
  let i = 2;
  while (fields.length < 3 && i < bytes.length) {
    const ch = bytes[i]!;
    if (ch === 0x23) while (i < bytes.length && bytes[i] !== 0x0a) i++;
    else if (ch >= 0x30 && ch <= 0x39) {
      let v = 0;
      while (i < bytes.length && bytes[i]! >= 0x30 && bytes[i]! <= 0x39) v = v * 10 + (bytes[i++]! - 0x30);
      fields.push(v);
      continue;
    }
    i++;
  }
  i++; // the single whitespace after maxval
  const [width, height, maxval] = fields as [number, number, number];
  if (fields.length < 3 || !(width > 0) || !(height > 0) || !(maxval > 0) || maxval > 255) throw new DataFormatError(`${path}: unsupported PGM header (8-bit binary P5 expected)`);
  if (bytes.length - i < width * height) throw new DataFormatError(`${path}: truncated PGM data`);
  const pixels = new Float32Array(width * height);
  for (let k = 0; k < pixels.length; k++) pixels[k] = bytes[i + k]! / maxval;
  return { count: 1, width, height, pixels };
}

function decodePng(bytes: Uint8Array, path: string): Images {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  const idat: Uint8Array[] = [];
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (data.length !== length) throw new DataFormatError(`${path}: truncated PNG chunk ${type}`);
    if (type === 'IHDR') {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      const bitDepth = data[8]!;
      colorType = data[9]!;
      if (bitDepth !== 8 || data[12] !== 0 || ![0, 2, 4, 6].includes(colorType)) {
        throw new DataFormatError(`${path}: only 8-bit, non-interlaced grayscale or RGB(A) PNG images are supported`);
      }
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  if (width === 0 || height === 0 || idat.length === 0) throw new DataFormatError(`${path}: PNG without image data`);
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (error) {
    throw new DataFormatError(`${path}: corrupt PNG data (${(error as Error).message})`);
  }
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType as 0 | 2 | 4 | 6];
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new DataFormatError(`${path}: truncated PNG image data`);
  const image = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? image[y * stride + x - channels]! : 0;
      const up = y > 0 ? image[(y - 1) * stride + x]! : 0;
      const upLeft = y > 0 && x >= channels ? image[(y - 1) * stride + x - channels]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = left;
      else if (filter === 2) predictor = up;
      else if (filter === 3) predictor = (left + up) >> 1;
      else if (filter === 4) {
        const p = left + up - upLeft;
        const pa = Math.abs(p - left);
        const pb = Math.abs(p - up);
        const pc = Math.abs(p - upLeft);
        predictor = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      } else if (filter !== 0) throw new DataFormatError(`${path}: bad PNG filter type ${filter}`);
      image[y * stride + x] = (line[x]! + predictor) & 0xff;
    }
  }
  const pixels = new Float32Array(width * height);
  for (let k = 0; k < pixels.length; k++) {
    const px = image.subarray(k * channels, k * channels + channels);
    // Luma from RGB; alpha is ignored.
    pixels[k] = (channels >= 3 ? 0.299 * px[0]! + 0.587 * px[1]! + 0.114 * px[2]! : px[0]!) / 255;
  }
  return { count: 1, width, height, pixels };
}
