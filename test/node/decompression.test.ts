/**
 * Decompression bombs and pixel scales (issue 12, items 2 and 4): PNG image data and gzipped IDX files are
 * inflated only up to what their headers declare, a header that declares too much is refused before anything
 * is inflated, and JSON pixels have one declared scale with out-of-range values refused.
 *
 * "Before inflating" is shown by putting garbage where the compressed data should be: a reader that inflated
 * first would report corrupt data, not the declared size.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/data/idx.ts';
import { DataFormatError } from '../../src/errors.ts';
import { readIdxFile } from '../../src/node/data.ts';
import { readImages } from '../../src/node/image.ts';
import { scratchDirectory } from '../support/special-files.ts';

const scratch = scratchDirectory('bombs');
afterAll(scratch.remove);
let fileNumber = 0;
function fileWith(bytes: Uint8Array | string, extension = 'bin'): string {
  const dir = join(scratch.dir, `case-${fileNumber++}`);
  mkdirSync(dir);
  const path = join(dir, `input.${extension}`);
  writeFileSync(path, bytes);
  return path;
}

/** A PNG from raw chunks (CRCs are zero: the decoder does not need them). */
function png(chunks: readonly [string, Uint8Array][]): Uint8Array {
  const parts: number[] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  for (const [type, data] of chunks) {
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, data.length);
    parts.push(...length, ...Buffer.from(type, 'latin1'), ...data, 0, 0, 0, 0);
  }
  return Uint8Array.from(parts);
}

function ihdr(width: number, height: number, colorType = 0): Uint8Array {
  const data = new Uint8Array(13);
  const view = new DataView(data.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  data[8] = 8;
  data[9] = colorType;
  return data;
}

/** Raw scanlines of a gray image (filter byte 0 per row), deflated. */
function grayImageData(width: number, height: number, value: (x: number, y: number) => number): Uint8Array {
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = value(x, y);
  return deflateSync(raw);
}

function refusal(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(DataFormatError);
    return (error as Error).message;
  }
  throw new Error('the input was accepted');
}

describe('PNG', () => {
  it('decodes a small gray image to [0, 1]', () => {
    const path = fileWith(png([['IHDR', ihdr(3, 2)], ['IDAT', grayImageData(3, 2, (x, y) => (x + 3 * y) * 51)], ['IEND', new Uint8Array(0)]]), 'png');
    const image = readImages(path);
    expect([image.count, image.width, image.height]).toEqual([1, 3, 2]);
    expect(Array.from(image.pixels)).toEqual([0, 51, 102, 153, 204, 255].map((v) => Math.fround(v / 255)));
  });

  it('a 20000×20000 header is refused before its data is inflated (the 2.4 GB bomb)', () => {
    const garbage = new Uint8Array(4096).fill(0xab); // not deflate data at all
    const path = fileWith(png([['IHDR', ihdr(20000, 20000)], ['IDAT', garbage], ['IEND', new Uint8Array(0)]]), 'png');
    expect(refusal(() => readImages(path))).toMatch(/declares 20000×20000 = 400000000 pixels, over the limit of 16777216; refused before decompressing/);
    expect(refusal(() => readImages(path, { maxPixels: 100 }))).toMatch(/over the limit of 100/);
  });

  it('image data that inflates to more than the header declares is refused at the declared size', () => {
    const bomb = deflateSync(new Uint8Array(16 * 1024 * 1024)); // 16 MiB of zeros, ~16 KB compressed
    const path = fileWith(png([['IHDR', ihdr(28, 28)], ['IDAT', bomb], ['IEND', new Uint8Array(0)]]), 'png');
    expect(refusal(() => readImages(path))).toMatch(/inflates to more than the 812 bytes its 28×28 header declares/);
  });

  it('a PNG whose first chunk is not IHDR is refused', () => {
    const path = fileWith(png([['IDAT', grayImageData(2, 2, () => 0)], ['IHDR', ihdr(2, 2)]]), 'png');
    expect(refusal(() => readImages(path))).toMatch(/first chunk is IDAT; it must be IHDR/);
  });
});

describe('gzipped IDX files', () => {
  /** An IDX header of unsigned bytes with these dimensions, without the data. */
  function header(dims: number[]): Uint8Array {
    const bytes = new Uint8Array(4 + 4 * dims.length);
    bytes[2] = 0x08;
    bytes[3] = dims.length;
    dims.forEach((d, i) => new DataView(bytes.buffer).setUint32(4 + 4 * i, d));
    return bytes;
  }

  it('reads a valid gzipped file (regression)', () => {
    const path = fileWith(gzipSync(encodeIdx([2, 2], Uint8Array.from([1, 2, 3, 4]))));
    expect(readIdxFile(path).dims).toEqual([2, 2]);
  });

  it('a header declaring more than the limit is refused before the rest is inflated', () => {
    // A gzip stream of the header and 1 MiB of zeros whose CRC trailer is broken: a reader that inflated the
    // whole stream first would report the bad CRC; this one stops at the header.
    const content = new Uint8Array(1 << 20);
    content.set(header([100_000_000, 28, 28]));
    const gz = gzipSync(content);
    gz[gz.length - 5] = gz[gz.length - 5]! ^ 0xff;
    const path = fileWith(gz);
    expect(refusal(() => readIdxFile(path))).toMatch(/header declares 78400000016 bytes of content, over the limit of 1073741824; refused before decompressing/);
    expect(refusal(() => readImages(path))).toMatch(/refused before decompressing/);
  });

  it('a stream that holds more than its header declares is refused at the declared size (the 1 GiB bomb, scaled down)', () => {
    const content = new Uint8Array(16 * 1024 * 1024);
    content.set(header([1, 28, 28]));
    const path = fileWith(gzipSync(content)); // ~16 KB that inflates to 16 MiB
    expect(refusal(() => readIdxFile(path))).toMatch(/inflates to more than the 800 bytes its IDX header declares/);
    expect(refusal(() => readImages(path))).toMatch(/inflates to more than the 800 bytes/);
  });

  it('limits are the caller’s to set: a file or content over them is refused', () => {
    const path = fileWith(gzipSync(encodeIdx([4, 4], new Uint8Array(16))));
    expect(refusal(() => readIdxFile(path, { maxDataBytes: 20 }))).toMatch(/declares 28 bytes of content, over the limit of 20/);
    expect(refusal(() => readIdxFile(path, { maxFileBytes: 10 }))).toMatch(/over the limit of 10/);
  });

  it('gzip around anything but IDX is refused by readImages', () => {
    const path = fileWith(gzipSync(Buffer.from('[1, 2, 3]')));
    expect(refusal(() => readImages(path))).toMatch(/gzip is supported for IDX image files only/);
  });
});

describe('JSON pixels have one declared scale', () => {
  it('0–255 integers by default: [0, 1, 2, 128, 255] is value / 255 for every value', () => {
    const image = readImages(fileWith('[0, 1, 2, 128, 255]', 'json'));
    expect(Array.from(image.pixels)).toEqual([0, 1, 2, 128, 255].map((v) => Math.fround(v / 255)));
  });

  it('out-of-range or fractional values are refused on the 0–255 scale, naming the position', () => {
    expect(refusal(() => readImages(fileWith('[0, -1]', 'json')))).toMatch(/value at \[0\]\[1\] is -1; pixels must be integers from 0 to 255/);
    expect(refusal(() => readImages(fileWith('[[0, 256]]', 'json')))).toMatch(/\[0\]\[1\] is 256/);
    expect(refusal(() => readImages(fileWith('[0.5]', 'json')))).toMatch(/\[0\]\[0\] is 0.5/);
    expect(refusal(() => readImages(fileWith('[]', 'json')))).toMatch(/holds no pixels/);
  });

  it('0–1 when asked (pixelScale 1), with values outside [0, 1] refused', () => {
    expect(Array.from(readImages(fileWith('[[0, 0.5, 1], [1, 1, 0]]', 'json'), { pixelScale: 1 }).pixels)).toEqual([0, 0.5, 1, 1, 1, 0]);
    expect(refusal(() => readImages(fileWith('[0, 2]', 'json'), { pixelScale: 1 }))).toMatch(/\[0\]\[1\] is 2; pixels must be numbers in \[0, 1\]/);
  });

  it('a JSON file over its size limit is refused before parsing', () => {
    expect(refusal(() => readImages(fileWith(`[${'0,'.repeat(100)}0]`, 'json'), { maxJsonBytes: 50 }))).toMatch(/over the limit of 50/);
  });
});

describe('PGM', () => {
  it('a header over the pixel limit, or a value above maxval, is refused', () => {
    expect(refusal(() => readImages(fileWith('P5\n100000 100000\n255\n')))).toMatch(/declares 100000×100000 pixels, over the limit/);
    expect(refusal(() => readImages(fileWith(Buffer.concat([Buffer.from('P5 2 1 100\n'), Buffer.from([50, 101])]))))).toMatch(/pixel 1 is 101, above the file's maxval 100/);
  });
});
