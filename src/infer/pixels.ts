import { ConfigError, DTypeError, ShapeError } from '../errors.ts';

/*
 * Canvas pixels → a model's input row, the way MNIST was made (LeCun et al., "The MNIST database"): the digit
 * is cropped to its bounding box, scaled with anti-aliasing (area averaging) to fit a 20×20 box keeping its
 * aspect ratio, and placed in a 28×28 field so that its centre of mass is at the centre. Values are ink
 * amounts in [0, 1], 1 = full ink, with the strongest pixel scaled to 1 (every MNIST digit reaches 255).
 *
 * Ink is read from RGBA (ImageData's layout: 4 bytes per pixel, rows top to bottom), by `ink`:
 *   'dark'   dark strokes on a light background (paper, a white canvas):  a·(1 − luma)
 *   'light'  light strokes on a dark background (MNIST itself):           a·luma
 *   'alpha'  strokes of any colour on a transparent canvas:                a
 *   'auto'   decided from the border pixels: 'alpha' when they are mostly transparent, else 'dark' when they
 *            are light and 'light' when they are dark.
 * where a = alpha/255 and luma = (0.299·R + 0.587·G + 0.114·B)/255 (ITU-R BT.601), i.e. the image composited
 * over a background of the opposite colour.
 */

/** RGBA pixels: ImageData, or anything with its three fields. */
export interface PixelImage {
  /** 4 values per pixel (R, G, B, A), each 0–255, row-major from the top-left corner. */
  readonly data: ArrayLike<number>;
  readonly width: number;
  readonly height: number;
}

/** How ink is told from background; see the file comment. */
export type InkMode = 'auto' | 'dark' | 'light' | 'alpha';

/** Options of pixelsToInput. */
export interface PixelsToInputOptions {
  /** Side of the square output, in pixels. Default 28 (MNIST). */
  readonly size?: number;
  /**
   * Side of the box the digit is scaled to fit, centred by its centre of mass (MNIST: 20). `null` skips the
   * cropping and centring and scales the whole image to size × size (no normalisation either).
   */
  readonly fit?: number | null;
  /** Default 'auto'. */
  readonly ink?: InkMode;
}

/** Pixels below this ink amount do not count for the digit's bounding box (anti-aliasing fringes, noise). */
const BOX_THRESHOLD = 0.1;
/** Largest image accepted, in pixels (a 4096 × 4096 canvas). */
const MAX_PIXELS = 4096 * 4096;

/**
 * One input row of size × size values in [0, 1] (row-major) from RGBA pixels; see the file comment. An image
 * without ink gives all zeros. Throws ShapeError when `data` does not hold width × height × 4 values or the
 * image is empty or larger than 4096 × 4096, DTypeError for a value outside 0–255, ConfigError for bad options.
 * Cost: O(width · height).
 */
export function pixelsToInput(image: PixelImage, options: PixelsToInputOptions = {}): Float32Array {
  const size = options.size ?? 28;
  const fit = options.fit === undefined ? 20 : options.fit;
  const mode = options.ink ?? 'auto';
  if (!Number.isSafeInteger(size) || size < 1 || size > 4096) throw new ConfigError(`pixelsToInput: size must be an integer from 1 to 4096, got ${size}`);
  if (fit !== null && (!Number.isSafeInteger(fit) || fit < 1 || fit > size)) throw new ConfigError(`pixelsToInput: fit must be null or an integer from 1 to size (${size}), got ${fit}`);
  if (!['auto', 'dark', 'light', 'alpha'].includes(mode)) throw new ConfigError(`pixelsToInput: ink must be auto, dark, light or alpha, got ${String(mode)}`);
  const { width, height, data } = image;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1 || width * height > MAX_PIXELS) {
    throw new ShapeError(`pixelsToInput: the image must be 1×1 to 4096×4096 pixels, got ${width}×${height}`);
  }
  if (data === null || typeof data !== 'object' || data.length !== width * height * 4) {
    throw new ShapeError(`pixelsToInput: a ${width}×${height} RGBA image needs ${width * height * 4} values, got ${data?.length}`);
  }
  const ink = inkAmounts(data, width, height, mode === 'auto' ? detectInk(data, width, height) : mode);
  if (fit === null) return resampleArea(ink, width, 0, 0, width, height, size, size);

  const box = inkBox(ink, width, height);
  const out = new Float32Array(size * size);
  if (box === null) return out;
  const scale = fit / Math.max(box.width, box.height);
  const targetWidth = Math.max(1, Math.round(box.width * scale));
  const targetHeight = Math.max(1, Math.round(box.height * scale));
  const digit = resampleArea(ink, width, box.x, box.y, box.width, box.height, targetWidth, targetHeight);
  normaliseMax(digit);
  // Centre of mass (of pixel centres) to the centre of the field, staying inside it.
  let mass = 0;
  let sumX = 0;
  let sumY = 0;
  for (let y = 0; y < targetHeight; y++) {
    for (let x = 0; x < targetWidth; x++) {
      const v = digit[y * targetWidth + x]!;
      mass += v;
      sumX += v * (x + 0.5);
      sumY += v * (y + 0.5);
    }
  }
  const left = clamp(Math.round(size / 2 - sumX / mass), 0, size - targetWidth);
  const top = clamp(Math.round(size / 2 - sumY / mass), 0, size - targetHeight);
  for (let y = 0; y < targetHeight; y++) out.set(digit.subarray(y * targetWidth, (y + 1) * targetWidth), (top + y) * size + left);
  return out;
}

/** 'alpha' when the border is mostly transparent, else 'dark' on a light border and 'light' on a dark one. */
function detectInk(data: ArrayLike<number>, width: number, height: number): Exclude<InkMode, 'auto'> {
  let alpha = 0;
  let luma = 0;
  let count = 0;
  const visit = (x: number, y: number): void => {
    const at = 4 * (y * width + x);
    alpha += data[at + 3]! / 255;
    luma += lumaAt(data, at);
    count++;
  };
  for (let x = 0; x < width; x++) {
    visit(x, 0);
    if (height > 1) visit(x, height - 1);
  }
  for (let y = 1; y < height - 1; y++) {
    visit(0, y);
    if (width > 1) visit(width - 1, y);
  }
  if (alpha / count < 0.5) return 'alpha';
  return luma / count >= 0.5 ? 'dark' : 'light';
}

function lumaAt(data: ArrayLike<number>, at: number): number {
  return (0.299 * data[at]! + 0.587 * data[at + 1]! + 0.114 * data[at + 2]!) / 255;
}

/** Ink per pixel in [0, 1] (see the file comment); checks every value is a number in 0–255. */
function inkAmounts(data: ArrayLike<number>, width: number, height: number, mode: Exclude<InkMode, 'auto'>): Float32Array {
  const ink = new Float32Array(width * height);
  for (let i = 0; i < ink.length; i++) {
    const at = 4 * i;
    for (let c = 0; c < 4; c++) {
      const v = data[at + c];
      if (typeof v !== 'number' || !(v >= 0 && v <= 255)) throw new DTypeError(`pixelsToInput: value ${String(v)} at index ${at + c} is not a number from 0 to 255`);
    }
    const a = data[at + 3]! / 255;
    ink[i] = mode === 'alpha' ? a : mode === 'dark' ? a * (1 - lumaAt(data, at)) : a * lumaAt(data, at);
  }
  return ink;
}

/** The bounding box of the pixels with at least BOX_THRESHOLD of the strongest ink, or null for a blank image. */
function inkBox(ink: Float32Array, width: number, height: number): { x: number; y: number; width: number; height: number } | null {
  let strongest = 0;
  for (const v of ink) strongest = Math.max(strongest, v);
  if (strongest === 0) return null;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x]! < BOX_THRESHOLD * strongest) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/**
 * The box [x0, x0 + boxWidth) × [y0, y0 + boxHeight) of a single-channel image (row stride `stride`) scaled to
 * targetWidth × targetHeight by area averaging: each output pixel is the mean of the source area it covers,
 * partial pixels weighted by their covered fraction. Separable (rows, then columns): O(boxHeight · (boxWidth +
 * targetWidth) + targetWidth · (boxHeight + targetHeight)).
 */
function resampleArea(source: Float32Array, stride: number, x0: number, y0: number, boxWidth: number, boxHeight: number, targetWidth: number, targetHeight: number): Float32Array {
  const columns = coverage(boxWidth, targetWidth);
  const rows = coverage(boxHeight, targetHeight);
  const horizontal = new Float64Array(boxHeight * targetWidth);
  for (let y = 0; y < boxHeight; y++) {
    const rowStart = (y0 + y) * stride + x0;
    for (let t = 0; t < targetWidth; t++) {
      let sum = 0;
      for (const [index, weight] of columns[t]!) sum += weight * source[rowStart + index]!;
      horizontal[y * targetWidth + t] = sum;
    }
  }
  const out = new Float32Array(targetWidth * targetHeight);
  for (let t = 0; t < targetHeight; t++) {
    for (let x = 0; x < targetWidth; x++) {
      let sum = 0;
      for (const [index, weight] of rows[t]!) sum += weight * horizontal[index * targetWidth + x]!;
      out[t * targetWidth + x] = sum;
    }
  }
  return out;
}

/** For each of `to` output cells over `from` input cells: the input cells it covers and their weights (summing to 1). */
function coverage(from: number, to: number): [number, number][][] {
  const step = from / to;
  return Array.from({ length: to }, (_, t) => {
    const start = t * step;
    const end = (t + 1) * step;
    const cells: [number, number][] = [];
    for (let i = Math.floor(start); i < Math.min(from, Math.ceil(end)); i++) {
      const covered = Math.min(end, i + 1) - Math.max(start, i);
      if (covered > 0) cells.push([i, covered / step]);
    }
    return cells;
  });
}

function normaliseMax(values: Float32Array): void {
  let max = 0;
  for (const v of values) max = Math.max(max, v);
  if (max > 0) for (let i = 0; i < values.length; i++) values[i] = Math.min(1, values[i]! / max);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}
