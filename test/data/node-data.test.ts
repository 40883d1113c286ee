/**
 * Tests for src/node/data.ts on directories built here: file discovery (both spellings, gzipped or not,
 * gzip detected by content), missing files, corrupt gzip, mismatched splits and data set names.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/data/idx.ts';
import { ConfigError, DataFormatError } from '../../src/errors.ts';
import { FASHION_MNIST_DIR, loadDataset, loadFashionMnist, loadIdxDirectory, readIdxFile } from '../../src/node/data.ts';

const scratch = mkdtempSync(join(tmpdir(), 'sparsegrad-data-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let dirCounter = 0;
/** A fresh directory holding `files` (name → bytes). */
function makeDir(files: Record<string, Uint8Array>): string {
  const dir = join(scratch, `d${dirCounter++}`);
  mkdirSync(dir);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}

/** A tiny MNIST-like split: `count` images of 2×3 pixels (pixel j of image i = 10·i + j), labels i % 10. */
function splitFiles(count: number, side = 3): { images: Uint8Array; labels: Uint8Array } {
  const pixels = new Uint8Array(count * 2 * side).map((_, k) => (10 * Math.floor(k / (2 * side)) + (k % (2 * side))) % 256);
  const labels = new Uint8Array(count).map((_, i) => i % 10);
  return { images: encodeIdx([count, 2, side], pixels), labels: encodeIdx([count], labels) };
}

function standardDir(gz: boolean, spelling: '-' | '.' = '-'): string {
  const train = splitFiles(12);
  const test = splitFiles(5);
  const pack = (b: Uint8Array): Uint8Array => (gz ? gzipSync(b) : b);
  const suffix = gz ? '.gz' : '';
  return makeDir({
    [`train-images${spelling}idx3-ubyte${suffix}`]: pack(train.images),
    [`train-labels${spelling}idx1-ubyte${suffix}`]: pack(train.labels),
    [`t10k-images${spelling}idx3-ubyte${suffix}`]: pack(test.images),
    [`t10k-labels${spelling}idx1-ubyte${suffix}`]: pack(test.labels),
  });
}

function expectDataFormatError(fn: () => unknown, ...patterns: RegExp[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DataFormatError);
  for (const pattern of patterns) expect((caught as Error).message).toMatch(pattern);
}

describe('loadIdxDirectory', () => {
  it('loads plain and gzipped directories to the same data', () => {
    const plain = loadIdxDirectory(standardDir(false));
    const gzipped = loadIdxDirectory(standardDir(true), { name: 'toy' });
    for (const split of [plain, gzipped]) {
      expect(split.train.count).toBe(12);
      expect(split.test.count).toBe(5);
      expect(split.train.features).toBe(6);
      expect(split.train.x[7]).toBeCloseTo(11 / 255, 7);
      expect(Array.from(split.test.y)).toEqual([0, 1, 2, 3, 4]);
    }
    expect(Array.from(gzipped.train.x)).toEqual(Array.from(plain.train.x));
    expect(gzipped.train.name).toBe('toy/train');
    expect(gzipped.test.name).toBe('toy/test');
    expect(plain.train.name).toMatch(/^d\d+\/train$/);
  });

  it('accepts the train-images.idx3-ubyte spelling', () => {
    expect(loadIdxDirectory(standardDir(true, '.')).train.count).toBe(12);
    expect(loadIdxDirectory(standardDir(false, '.')).test.count).toBe(5);
  });

  it('detects gzip by content, not by extension', () => {
    const train = splitFiles(4);
    const test = splitFiles(2);
    const dir = makeDir({
      'train-images-idx3-ubyte': gzipSync(train.images), // gzipped without .gz
      'train-labels-idx1-ubyte.gz': train.labels, // .gz but not gzipped
      't10k-images-idx3-ubyte': test.images,
      't10k-labels-idx1-ubyte': test.labels,
    });
    const split = loadIdxDirectory(dir);
    expect(split.train.count).toBe(4);
    expect(Array.from(split.train.y)).toEqual([0, 1, 2, 3]);
  });

  it('names every file it looked for when one is missing', () => {
    const train = splitFiles(4);
    const dir = makeDir({ 'train-images-idx3-ubyte.gz': gzipSync(train.images), 'train-labels-idx1-ubyte': train.labels });
    expectDataFormatError(
      () => loadIdxDirectory(dir),
      /no test images file/,
      /t10k-images-idx3-ubyte, t10k-images-idx3-ubyte\.gz, t10k-images\.idx3-ubyte, t10k-images\.idx3-ubyte\.gz/,
    );
    expectDataFormatError(() => loadIdxDirectory(join(scratch, 'does-not-exist')), /cannot read the data set directory/);
  });

  it('turns corrupt gzip into a DataFormatError naming the file', () => {
    const good = gzipSync(splitFiles(4).images);
    const flipped = new Uint8Array(good);
    flipped[20] = flipped[20]! ^ 0xff; // damage the deflate stream
    const truncated = good.subarray(0, good.length - 10);
    const notDeflate = new Uint8Array([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff]);
    for (const [label, bytes] of [['flipped', flipped], ['truncated', truncated], ['garbage', notDeflate]] as const) {
      const path = join(makeDir({ [`${label}.gz`]: bytes }), `${label}.gz`);
      expectDataFormatError(() => readIdxFile(path), new RegExp(`${label}\\.gz`), /corrupt gzip data/);
    }
  });

  it('reports parse errors with the file path', () => {
    const train = splitFiles(4);
    const test = splitFiles(2);
    const badLabels = new Uint8Array(test.labels);
    badLabels[8] = 42;
    const dir = makeDir({
      'train-images-idx3-ubyte': train.images,
      'train-labels-idx1-ubyte': train.labels,
      't10k-images-idx3-ubyte': test.images,
      't10k-labels-idx1-ubyte': badLabels,
    });
    expectDataFormatError(() => loadIdxDirectory(dir), /t10k-labels-idx1-ubyte/, /label 42 of sample 0/);
    expect(loadIdxDirectory(dir, { numClasses: 43 }).test.numClasses).toBe(43);
  });

  it('rejects a count mismatch between a split\'s images and labels', () => {
    const dir = makeDir({
      'train-images-idx3-ubyte': splitFiles(4).images,
      'train-labels-idx1-ubyte': splitFiles(3).labels,
      't10k-images-idx3-ubyte': splitFiles(2).images,
      't10k-labels-idx1-ubyte': splitFiles(2).labels,
    });
    expectDataFormatError(() => loadIdxDirectory(dir), /count mismatch/, /has 4 images/, /has 3 labels/);
  });

  it('rejects train and test images of different sizes', () => {
    const dir = makeDir({
      'train-images-idx3-ubyte': splitFiles(4, 3).images,
      'train-labels-idx1-ubyte': splitFiles(4).labels,
      't10k-images-idx3-ubyte': splitFiles(2, 4).images,
      't10k-labels-idx1-ubyte': splitFiles(2).labels,
    });
    expectDataFormatError(() => loadIdxDirectory(dir), /6 values each but test images have 8/);
  });
});

describe('loadDataset', () => {
  it('loads a directory path', () => {
    expect(loadDataset(standardDir(true)).train.count).toBe(12);
  });

  it('rejects unknown names and plain files with a ConfigError listing the choices', () => {
    expect(() => loadDataset('cifar-10')).toThrow(ConfigError);
    expect(() => loadDataset('cifar-10')).toThrow(/expected "digits", "fashion-mnist" \(or "fashion"\)/);
    const file = join(makeDir({ f: new Uint8Array(1) }), 'f');
    expect(() => loadDataset(file)).toThrow(/is a file/);
  });

  it('explains how to install Fashion-MNIST when it is missing', () => {
    expectDataFormatError(() => loadFashionMnist(join(scratch, 'no-fashion')), /not installed/, /apt-get install dataset-fashion-mnist/);
  });

  it.runIf(existsSync(FASHION_MNIST_DIR))('loads the installed Fashion-MNIST', () => {
    const { train, test } = loadDataset('fashion');
    expect([train.count, test.count, train.features, train.numClasses]).toEqual([60000, 10000, 784, 10]);
    expect(train.name).toBe('fashion-mnist/train');
  });
});
