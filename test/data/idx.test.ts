/**
 * Tests for src/data/idx.ts: IDX parsing and conversion to a Dataset, on bytes built here. Every defect
 * must end in a DataFormatError whose message names the file and the problem.
 */
import { describe, expect, it } from 'vitest';
import { validateDataset } from '../../src/data/dataset.ts';
import { encodeIdx, idxToDataset, parseIdx } from '../../src/data/idx.ts';
import { ConfigError, DataFormatError, ShapeError } from '../../src/errors.ts';

/** Runs `fn`, expecting a DataFormatError whose message matches every pattern. */
function expectDataFormatError(fn: () => unknown, ...patterns: RegExp[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DataFormatError);
  const message = (caught as DataFormatError).message;
  for (const pattern of patterns) expect(message).toMatch(pattern);
  expect((caught as DataFormatError).code).toBe('E_DATA_FORMAT');
}

/** Three 2×2 "images" and their labels. */
const PIXELS = new Uint8Array([0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0]);
const LABELS = new Uint8Array([7, 0, 9]);
const imageBytes = (): Uint8Array => encodeIdx([3, 2, 2], PIXELS);
const labelBytes = (): Uint8Array => encodeIdx([3], LABELS);

describe('parseIdx', () => {
  it('parses a hand-written idx1 file', () => {
    const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]);
    const parsed = parseIdx(bytes, 'labels');
    expect(parsed.dims).toEqual([2]);
    expect(Array.from(parsed.data)).toEqual([7, 3]);
    expect(parsed.name).toBe('labels');
  });

  it('parses big-endian dimensions and returns a view of the data', () => {
    const bytes = encodeIdx([2, 300, 1], new Uint8Array(600).fill(5));
    expect(Array.from(bytes.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 1, 44, 0, 0, 0, 1]);
    const parsed = parseIdx(bytes, 'f');
    expect(parsed.dims).toEqual([2, 300, 1]);
    expect(parsed.data.length).toBe(600);
    expect(parsed.data.buffer).toBe(bytes.buffer);
  });

  it('works on a view that does not start at offset 0 of its buffer', () => {
    const file = imageBytes();
    const padded = new Uint8Array(file.length + 5);
    padded.set(file, 5);
    const parsed = parseIdx(padded.subarray(5), 'offset');
    expect(parsed.dims).toEqual([3, 2, 2]);
    expect(Array.from(parsed.data)).toEqual(Array.from(PIXELS));
  });

  it('accepts 1 to 4 dimensions and an empty first dimension', () => {
    expect(parseIdx(encodeIdx([1, 1, 1, 2], new Uint8Array(2)), 'f').dims).toEqual([1, 1, 1, 2]);
    expect(parseIdx(encodeIdx([0, 28, 28], new Uint8Array(0)), 'f').dims).toEqual([0, 28, 28]);
  });

  it('rejects a wrong magic number', () => {
    const bytes = imageBytes();
    bytes[0] = 0x12;
    expectDataFormatError(() => parseIdx(bytes, 'train-images'), /train-images/, /wrong magic number/, /0x12 0x00/);
  });

  it('recognises a still-gzipped file', () => {
    const bytes = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    expectDataFormatError(() => parseIdx(bytes, 'x.gz'), /x\.gz/, /gzip/, /gunzip/);
  });

  it('rejects element types other than unsigned byte, naming the type', () => {
    const float32 = imageBytes();
    float32[2] = 0x0d;
    expectDataFormatError(() => parseIdx(float32, 'images'), /images/, /type code 0x0d/, /float32/, /only 0x08/);
    const unknown = imageBytes();
    unknown[2] = 0x42;
    expectDataFormatError(() => parseIdx(unknown, 'images'), /type code 0x42/, /unknown element type/);
  });

  it('rejects 0 or more than 4 dimensions', () => {
    expectDataFormatError(() => parseIdx(new Uint8Array([0, 0, 8, 0]), 'f'), /number of dimensions 0/);
    const five = new Uint8Array(4 + 5 * 4 + 1);
    five.set([0, 0, 8, 5]);
    expectDataFormatError(() => parseIdx(five, 'f'), /number of dimensions 5/);
  });

  it('rejects a truncated header', () => {
    expectDataFormatError(() => parseIdx(new Uint8Array([0, 0, 8]), 'tiny'), /tiny/, /truncated header/, /3 bytes/);
    expectDataFormatError(() => parseIdx(new Uint8Array(0), 'empty'), /truncated header/, /0 bytes/);
    const cut = imageBytes().subarray(0, 10);
    expectDataFormatError(() => parseIdx(cut, 'images'), /images/, /truncated header/, /16-byte header/, /only 10 bytes/);
  });

  it('rejects truncated data, saying how much is missing', () => {
    const file = imageBytes();
    const cut = file.subarray(0, file.length - 3);
    expectDataFormatError(() => parseIdx(cut, 'images'), /images/, /truncated data/, /need 12 data bytes/, /only 9/, /3 missing/);
  });

  it('rejects trailing bytes, distinctly from truncation', () => {
    const file = imageBytes();
    const long = new Uint8Array(file.length + 2);
    long.set(file);
    let message = '';
    try {
      parseIdx(long, 'images');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/2 trailing bytes/);
    expect(message).not.toMatch(/truncated/);
    expectDataFormatError(() => parseIdx(long, 'images'), /images/, /trailing bytes/);
  });

  it('rejects dimensions whose product is not a safe integer', () => {
    const huge = new Uint8Array([0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255]);
    expectDataFormatError(() => parseIdx(huge, 'huge'), /huge/, /more than 2\^53/);
    // A large but representable size is reported as truncation, not allocated.
    const big = new Uint8Array([0, 0, 8, 2, 0, 1, 0, 0, 0, 1, 0, 0]);
    expectDataFormatError(() => parseIdx(big, 'big'), /truncated data/, /4294967296/);
  });
});

describe('idxToDataset', () => {
  it('scales pixels to [0, 1] and keeps labels', () => {
    const d = idxToDataset(parseIdx(imageBytes(), 'img'), parseIdx(labelBytes(), 'lbl'), 'toy/train');
    expect(d.count).toBe(3);
    expect(d.features).toBe(4);
    expect(d.numClasses).toBe(10);
    expect(d.name).toBe('toy/train');
    expect(d.x).toBeInstanceOf(Float32Array);
    expect(Array.from(d.x)).toEqual(Array.from(PIXELS, (p) => Math.fround(p / 255)));
    expect(d.x[1]).toBe(1);
    expect(Array.from(d.y)).toEqual([7, 0, 9]);
    expect(() => validateDataset(d)).not.toThrow();
  });

  it('rejects a count mismatch between images and labels, naming both counts and files', () => {
    const labels = parseIdx(encodeIdx([2], new Uint8Array([1, 2])), 'lbl-file');
    expectDataFormatError(
      () => idxToDataset(parseIdx(imageBytes(), 'img-file'), labels, 'toy'),
      /count mismatch/,
      /img-file has 3 images/,
      /lbl-file has 2 labels/,
    );
  });

  it('rejects labels out of range, naming the label and the sample', () => {
    const labels = parseIdx(encodeIdx([3], new Uint8Array([1, 10, 2])), 'lbl-file');
    expectDataFormatError(
      () => idxToDataset(parseIdx(imageBytes(), 'img'), labels, 'toy'),
      /lbl-file/,
      /label 10 of sample 1 is out of range for 10 classes/,
    );
  });

  it('accepts more classes when told, and checks against them', () => {
    const labels = parseIdx(encodeIdx([3], new Uint8Array([1, 10, 26])), 'lbl');
    const d = idxToDataset(parseIdx(imageBytes(), 'img'), labels, 'letters', { numClasses: 27 });
    expect(d.numClasses).toBe(27);
    expectDataFormatError(() => idxToDataset(parseIdx(imageBytes(), 'img'), labels, 'letters', { numClasses: 20 }), /label 26/);
    expect(() => idxToDataset(parseIdx(imageBytes(), 'img'), labels, 'x', { numClasses: 0 })).toThrow(ConfigError);
    expect(() => idxToDataset(parseIdx(imageBytes(), 'img'), labels, 'x', { numClasses: 300 })).toThrow(/numClasses must be an integer in \[1, 256\]/);
  });

  it('rejects images and labels of the wrong rank', () => {
    const images1d = parseIdx(encodeIdx([3], new Uint8Array(3)), 'flat');
    expectDataFormatError(() => idxToDataset(images1d, parseIdx(labelBytes(), 'lbl'), 'x'), /flat/, /at least 2 dimensions/);
    const labels2d = parseIdx(encodeIdx([3, 1], LABELS), 'lbl2');
    expectDataFormatError(() => idxToDataset(parseIdx(imageBytes(), 'img'), labels2d, 'x'), /lbl2/, /1 dimension/);
  });

  it('rejects empty images', () => {
    const empty = parseIdx(encodeIdx([3, 0, 28], new Uint8Array(0)), 'empty');
    expectDataFormatError(() => idxToDataset(empty, parseIdx(labelBytes(), 'lbl'), 'x'), /empty/, /image is empty/);
  });

  it('treats every dimension after the first as features (idx4 with channels)', () => {
    const images = parseIdx(encodeIdx([3, 2, 1, 2], PIXELS), 'img4');
    const d = idxToDataset(images, parseIdx(labelBytes(), 'lbl'), 'x');
    expect(d.features).toBe(4);
  });

  it('allows an empty data set', () => {
    const d = idxToDataset(parseIdx(encodeIdx([0, 2, 2], new Uint8Array(0)), 'i'), parseIdx(encodeIdx([0], new Uint8Array(0)), 'l'), 'none');
    expect(d.count).toBe(0);
    expect(d.x.length).toBe(0);
  });
});

describe('encodeIdx', () => {
  it('round-trips through parseIdx', () => {
    const data = new Uint8Array(24).map((_, i) => i * 10);
    const parsed = parseIdx(encodeIdx([2, 3, 4], data), 'rt');
    expect(parsed.dims).toEqual([2, 3, 4]);
    expect(Array.from(parsed.data)).toEqual(Array.from(data));
  });

  it('refuses sizes that do not match the data', () => {
    expect(() => encodeIdx([2, 2], new Uint8Array(3))).toThrow(ShapeError);
    expect(() => encodeIdx([], new Uint8Array(1))).toThrow(ShapeError);
    expect(() => encodeIdx([-1], new Uint8Array(0))).toThrow(ShapeError);
  });
});
