/** pixelsToInput: canvas RGBA → an MNIST-like input row (crop, fit 20×20, centre of mass at the centre). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DTypeError, ShapeError } from '../../src/errors.ts';
import { compileModelBytesSync, pixelsToInput, type PixelImage } from '../../src/infer/index.ts';
import { loadDigits } from '../../src/node/data.ts';

/** A width × height RGBA image from an ink function (1 = full ink), drawn as `style` says. */
function image(width: number, height: number, ink: (x: number, y: number) => number, style: 'dark' | 'light' | 'alpha' = 'dark'): PixelImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = ink(x, y);
      const at = 4 * (y * width + x);
      const gray = style === 'dark' ? 255 * (1 - v) : style === 'light' ? 255 * v : 0;
      data.set([gray, gray, gray, style === 'alpha' ? 255 * v : 255], at);
    }
  }
  return { data, width, height };
}

/** A 28×28 digit scaled up `factor` times (nearest neighbour), dark ink on white, as a user would draw it. */
function upscaled(digit: Float32Array, factor: number): PixelImage {
  return image(28 * factor, 28 * factor, (x, y) => digit[Math.floor(y / factor) * 28 + Math.floor(x / factor)]!);
}

function centreOfMass(row: Float32Array, size: number): [number, number] {
  let mass = 0;
  let sx = 0;
  let sy = 0;
  row.forEach((v, i) => {
    mass += v;
    sx += v * ((i % size) + 0.5);
    sy += v * (Math.floor(i / size) + 0.5);
  });
  return [sx / mass, sy / mass];
}

function inkedBox(row: Float32Array, size: number): { width: number; height: number } {
  const xs: number[] = [];
  const ys: number[] = [];
  row.forEach((v, i) => {
    if (v > 0) {
      xs.push(i % size);
      ys.push(Math.floor(i / size));
    }
  });
  return { width: Math.max(...xs) - Math.min(...xs) + 1, height: Math.max(...ys) - Math.min(...ys) + 1 };
}

describe('pixelsToInput', () => {
  it('gives zeros for a blank canvas, in every ink mode', () => {
    for (const style of ['dark', 'light', 'alpha'] as const) {
      const row = pixelsToInput(image(50, 40, () => 0, style));
      expect(row.length).toBe(784);
      expect(row.every((v) => v === 0)).toBe(true);
    }
  });

  it('scales the inked box to fit 20×20 keeping its aspect ratio, max ink 1, centre of mass at the centre', () => {
    // A 60×120 bar (1:2) in the top-left corner of a 300×300 canvas.
    const row = pixelsToInput(image(300, 300, (x, y) => (x >= 10 && x < 70 && y >= 5 && y < 125 ? 1 : 0)));
    expect(inkedBox(row, 28)).toEqual({ width: 10, height: 20 });
    expect(Math.max(...row)).toBe(1);
    const [cx, cy] = centreOfMass(row, 28);
    expect(Math.abs(cx - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(cy - 14)).toBeLessThanOrEqual(0.5);
  });

  it('reads dark-on-light, light-on-dark and transparent canvases alike (ink auto-detected)', () => {
    const stroke = (x: number, y: number): number => (Math.abs(x - y) < 8 && x > 30 && x < 200 ? 1 : 0);
    const dark = pixelsToInput(image(240, 240, stroke, 'dark'));
    expect(pixelsToInput(image(240, 240, stroke, 'light'))).toEqual(dark);
    expect(pixelsToInput(image(240, 240, stroke, 'alpha'))).toEqual(dark);
    expect(pixelsToInput(image(240, 240, stroke, 'dark'), { ink: 'dark' })).toEqual(dark);
    // Read with the wrong polarity, the background becomes the ink: a full box, not the stroke.
    expect(pixelsToInput(image(240, 240, stroke, 'dark'), { ink: 'light' })).not.toEqual(dark);
  });

  it('scales the whole image without cropping when fit is null', () => {
    const row = pixelsToInput(image(56, 56, (x) => (x < 28 ? 1 : 0)), { fit: null });
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) expect(row[y * 28 + x]).toBe(x < 14 ? 1 : 0);
    expect(pixelsToInput(image(3, 3, () => 0.5), { fit: null, size: 2 }).every((v) => Math.abs(v - 0.5) < 0.01)).toBe(true);
  });

  it('keeps real digits recognisable: drawn 4× larger, the pruned model mostly classifies them as the originals', () => {
    // Measured on 1,000 test digits (drawn 4× larger): 94.5 % the original's class, 91.9 % right (originals: 94.5 %).
    const { test } = loadDigits();
    const model = compileModelBytesSync(readFileSync(new URL('../../examples/browser/models/sparse.safetensors', import.meta.url)), { backend: 'js' });
    const count = 200;
    let same = 0;
    let right = 0;
    for (let i = 0; i < count; i++) {
      const digit = test.x.subarray(i * 784, (i + 1) * 784);
      const original = model.predictClasses(digit, 1)[0];
      const redrawn = model.predictClasses(pixelsToInput(upscaled(digit, 4)), 1)[0];
      if (redrawn === original) same++;
      if (redrawn === test.y[i]) right++;
    }
    expect(same).toBeGreaterThanOrEqual(0.9 * count);
    expect(right).toBeGreaterThanOrEqual(0.88 * count);
  });

  it('refuses images and options it cannot read, with typed errors', () => {
    expect(() => pixelsToInput({ data: new Uint8Array(10), width: 2, height: 2 })).toThrow(ShapeError);
    expect(() => pixelsToInput({ data: new Uint8Array(0), width: 0, height: 0 })).toThrow(ShapeError);
    expect(() => pixelsToInput({ data: [0, 0, 0, 300], width: 1, height: 1 })).toThrow(DTypeError);
    expect(() => pixelsToInput({ data: [0, 0, NaN, 255], width: 1, height: 1 })).toThrow(DTypeError);
    expect(() => pixelsToInput(image(4, 4, () => 1), { fit: 30 })).toThrow(ConfigError);
    expect(() => pixelsToInput(image(4, 4, () => 1), { size: 0 })).toThrow(ConfigError);
    expect(() => pixelsToInput(image(4, 4, () => 1), { ink: 'green' as 'dark' })).toThrow(ConfigError);
  });
});
