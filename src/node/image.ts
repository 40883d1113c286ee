import { parseIdx } from '../data/idx.ts';
import { DataFormatError } from '../errors.ts';
import { DEFAULT_MAX_IDX_BYTES } from './data.ts';
import { gunzipIdx, isGzip } from './gunzip.ts';
import { readInputFile } from './input-file.ts';
import { decodePng, isPng } from './png.ts';

/*
 * Reading inputs for `sparsegrad predict`: one grayscale image (PNG or binary PGM), a whole IDX image
 * file (raw or gzipped), or a JSON array of pixel values. Pixels come out scaled to [0, 1], one row per
 * image, as the models were trained. Every file goes through the input rules (input-file.ts) and every
 * format is bounded by sizes it declares and checks first (see ReadImagesOptions and the README).
 */

/** Images read by `readImages`: `count` images of width × height pixels, one row of pixels per image. */
export interface Images {
  readonly count: number;
  readonly width: number;
  readonly height: number;
  /** count × (width·height) values in [0, 1]. */
  readonly pixels: Float32Array;
}

/** How to read an input file, and its limits. */
export interface ReadImagesOptions {
  /**
   * The scale of JSON pixel values: 255 (default) means integers 0–255, 1 means numbers in [0, 1]. Values
   * outside the scale are an error; there is no guessing per value. PNG, PGM and IDX carry their own scale.
   */
  readonly pixelScale?: 255 | 1;
  /** Largest PNG or PGM image, in pixels (width × height). Default 2^24 (e.g. 4096 × 4096). */
  readonly maxPixels?: number;
  /** Largest input file, in bytes. Default 1 GiB; JSON files are limited to `maxJsonBytes`. */
  readonly maxFileBytes?: number;
  /** Largest JSON file, in bytes. Default 64 MiB (JSON parsing takes several times the text's size). */
  readonly maxJsonBytes?: number;
  /** Largest IDX content after gunzip, in bytes. Default 1 GiB. */
  readonly maxDataBytes?: number;
}

/** The default largest PNG or PGM image: 2^24 pixels. */
export const DEFAULT_MAX_IMAGE_PIXELS = 2 ** 24;
/** The default largest JSON pixel file: 64 MiB. */
export const DEFAULT_MAX_JSON_BYTES = 64 * 1024 * 1024;

/**
 * Reads images from a PNG, binary PGM, IDX image file (raw or gzipped) or JSON array of pixels (one image
 * `[p, ...]` or several `[[p, ...], ...]`). Throws DataFormatError naming the path and the problem.
 */
export function readImages(path: string, options: ReadImagesOptions = {}): Images {
  const pixelScale = options.pixelScale ?? 255;
  if (pixelScale !== 255 && pixelScale !== 1) throw new DataFormatError(`pixelScale must be 255 or 1, got ${String(pixelScale)}`);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  const bytes = readInputFile(path, {
    what: 'input',
    maxBytes: options.maxFileBytes ?? DEFAULT_MAX_IDX_BYTES,
    fail: (_code, message) => new DataFormatError(message),
  });
  if (isGzip(bytes)) {
    // Only IDX files come gzipped; gunzipIdx caps the output by the IDX header's declared size.
    const content = gunzipIdx(bytes, path, options.maxDataBytes ?? DEFAULT_MAX_IDX_BYTES);
    if (!isIdx(content)) throw new DataFormatError(`${path}: gzip is supported for IDX image files only`);
    return idxImages(content, path);
  }
  if (isPng(bytes)) return { count: 1, ...decodePng(bytes, path, maxPixels) };
  if (bytes[0] === 0x50 && bytes[1] === 0x35) return decodePgm(bytes, path, maxPixels);
  if (isIdx(bytes)) return idxImages(bytes, path);
  if (firstNonSpace(bytes) === 0x5b /* [ */) {
    const maxJsonBytes = options.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
    if (bytes.length > maxJsonBytes) throw new DataFormatError(`${path}: a JSON pixel file of ${bytes.length} bytes, over the limit of ${maxJsonBytes}`);
    return decodeJson(new TextDecoder().decode(bytes), path, pixelScale, maxPixels);
  }
  throw new DataFormatError(`${path}: not a PNG, PGM (P5), IDX image file or JSON array of pixels`);
}

function isIdx(bytes: Uint8Array): boolean {
  return bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0x08;
}

function firstNonSpace(bytes: Uint8Array): number | undefined {
  for (const byte of bytes) if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return byte;
  return undefined;
}

function idxImages(bytes: Uint8Array, path: string): Images {
  const idx = parseIdx(bytes, path);
  if (idx.dims.length !== 3) throw new DataFormatError(`${path}: an IDX image file has 3 dimensions (count, rows, cols), this one has ${idx.dims.length}`);
  const [count, height, width] = idx.dims as [number, number, number];
  return { count, width, height, pixels: Float32Array.from(idx.data, (v) => v / 255) };
}

/** JSON pixels on one declared scale (see ReadImagesOptions.pixelScale): every value is checked, none guessed. */
function decodeJson(text: string, path: string, pixelScale: 255 | 1, maxPixels: number): Images {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DataFormatError(`${path}: invalid JSON (${(error as Error).message})`);
  }
  const rows = Array.isArray(value) && value.length > 0 && value.every(Array.isArray) ? (value as unknown[][]) : [value as unknown[]];
  const width = rows[0]?.length ?? 0;
  if (width === 0) throw new DataFormatError(`${path}: the JSON array holds no pixels`);
  if (width > maxPixels) throw new DataFormatError(`${path}: an image of ${width} pixels, over the limit of ${maxPixels}`);
  const scale = pixelScale === 255 ? 'integers from 0 to 255 (or pass pixelScale 1, --pixel-scale 1, for values in [0, 1])' : 'numbers in [0, 1] (pixel scale 1)';
  const pixels = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== width) throw new DataFormatError(`${path}: row ${r} has a different length than row 0 (${width})`);
    row.forEach((v, c) => {
      const valid = typeof v === 'number' && (pixelScale === 255 ? Number.isInteger(v) && v >= 0 && v <= 255 : v >= 0 && v <= 1);
      if (!valid) throw new DataFormatError(`${path}: the value at [${r}][${c}] is ${JSON.stringify(v)}; pixels must be ${scale}`);
      pixels[r * width + c] = (v as number) / pixelScale;
    });
  });
  return { count: rows.length, width, height: 1, pixels };
}

/** A binary PGM (P5): "P5", width, height and maxval separated by whitespace ('#' comments allowed), then pixels. */
function decodePgm(bytes: Uint8Array, path: string, maxPixels: number): Images {
  const fields: number[] = [];
  let i = 2;
  while (fields.length < 3 && i < bytes.length) {
    const ch = bytes[i]!;
    if (ch === 0x23) while (i < bytes.length && bytes[i] !== 0x0a) i++;
    else if (ch >= 0x30 && ch <= 0x39) {
      let v = 0;
      while (i < bytes.length && bytes[i]! >= 0x30 && bytes[i]! <= 0x39 && v < 2 ** 32) v = v * 10 + (bytes[i++]! - 0x30);
      fields.push(v);
      continue;
    }
    i++;
  }
  i++; // the single whitespace after maxval
  const [width, height, maxval] = fields as [number, number, number];
  if (fields.length < 3 || !(width > 0) || !(height > 0) || !(maxval > 0) || maxval > 255) throw new DataFormatError(`${path}: unsupported PGM header (8-bit binary P5 expected)`);
  if (width * height > maxPixels) throw new DataFormatError(`${path}: the PGM declares ${width}×${height} pixels, over the limit of ${maxPixels}`);
  if (bytes.length - i < width * height) throw new DataFormatError(`${path}: truncated PGM data`);
  const pixels = new Float32Array(width * height);
  for (let k = 0; k < pixels.length; k++) {
    const value = bytes[i + k]!;
    if (value > maxval) throw new DataFormatError(`${path}: PGM pixel ${k} is ${value}, above the file's maxval ${maxval}`);
    pixels[k] = value / maxval;
  }
  return { count: 1, width, height, pixels };
}
