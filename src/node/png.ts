/**
 * A PNG decoder for what `predict` needs (8-bit, non-interlaced grayscale, gray+alpha, RGB or RGBA) that
 * does not trust the file. The IHDR chunk must come first and declare at most `maxPixels` pixels; that is
 * checked before any image data is inflated, and the inflate is capped (zlib's `maxOutputLength`) at exactly
 * the size the header implies, height × (1 + width × channels) bytes. A 389 KB file that declares 20000 ×
 * 20000 pixels is refused at once instead of inflating 1.6 GB; image data that inflates to more than its
 * header declares is refused as soon as it passes that size. Peak memory: the file, the declared raw size,
 * and 4 bytes per pixel for the result.
 */
import { inflateSync } from 'node:zlib';
import { DataFormatError } from '../errors.ts';

/** One decoded image: width × height luma values in [0, 1], row-major. */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly pixels: Float32Array;
}

const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/** True if `bytes` starts with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
}

/** Decodes a PNG (see the file comment). Throws DataFormatError naming `path`. */
export function decodePng(bytes: Uint8Array, path: string, maxPixels: number): DecodedImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let header: { width: number; height: number; channels: number } | null = null;
  const idat: Uint8Array[] = [];
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (data.length !== length) throw new DataFormatError(`${path}: truncated PNG chunk ${type}`);
    if (header === null && type !== 'IHDR') throw new DataFormatError(`${path}: the PNG's first chunk is ${type}; it must be IHDR`);
    if (type === 'IHDR') header = readHeader(data, path, maxPixels);
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  if (header === null || idat.length === 0) throw new DataFormatError(`${path}: PNG without image data`);
  const { width, height, channels } = header;
  const stride = width * channels;
  const expected = height * (stride + 1);
  let raw: Uint8Array;
  try {
    raw = inflateSync(concat(idat), { maxOutputLength: expected });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataFormatError(`${path}: the PNG image data inflates to more than the ${expected} bytes its ${width}×${height} header declares; refused`);
    }
    throw new DataFormatError(`${path}: corrupt PNG data (${(error as Error).message})`);
  }
  if (raw.length < expected) throw new DataFormatError(`${path}: truncated PNG image data`);
  return { width, height, pixels: toLuma(unfilter(raw, height, stride, channels, path), width * height, channels) };
}

function readHeader(data: Uint8Array, path: string, maxPixels: number): { width: number; height: number; channels: number } {
  if (data.length !== 13) throw new DataFormatError(`${path}: the PNG's IHDR chunk has ${data.length} bytes, not 13`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const width = view.getUint32(0);
  const height = view.getUint32(4);
  const channels = CHANNELS[data[9] as number];
  if (data[8] !== 8 || data[12] !== 0 || channels === undefined) {
    throw new DataFormatError(`${path}: only 8-bit, non-interlaced grayscale or RGB(A) PNG images are supported`);
  }
  if (width === 0 || height === 0) throw new DataFormatError(`${path}: the PNG is ${width}×${height}; an image needs pixels`);
  if (width * height > maxPixels) {
    throw new DataFormatError(`${path}: the PNG declares ${width}×${height} = ${width * height} pixels, over the limit of ${maxPixels}; refused before decompressing`);
  }
  return { width, height, channels };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Undoes the per-row filters (PNG spec §9: none, sub, up, average, Paeth). */
function unfilter(raw: Uint8Array, height: number, stride: number, channels: number, path: string): Uint8Array {
  const image = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    if (filter > 4) throw new DataFormatError(`${path}: bad PNG filter type ${filter}`);
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
      }
      image[y * stride + x] = (line[x]! + predictor) & 0xff;
    }
  }
  return image;
}

/** Luma in [0, 1] from gray or RGB (alpha is ignored). */
function toLuma(image: Uint8Array, count: number, channels: number): Float32Array {
  const pixels = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    const px = image.subarray(k * channels, k * channels + channels);
    pixels[k] = (channels >= 3 ? 0.299 * px[0]! + 0.587 * px[1]! + 0.114 * px[2]! : px[0]!) / 255;
  }
  return pixels;
}
