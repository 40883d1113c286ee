/**
 * Tests for the built-in digits (data/digits, built by scripts/build-digits.ts): they load as the promised
 * 8,000 / 2,000 split, and the committed files are exactly the ones data/README.md describes.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { validateDataset } from '../../src/data/dataset.ts';
import { DIGITS_DIR, loadDataset, loadDigits } from '../../src/node/data.ts';

const README = readFileSync(fileURLToPath(new URL('../../data/README.md', import.meta.url)), 'utf8');
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Rows of the README's checksum table: | file | bytes | sha256 (gzipped) | sha256 (uncompressed) |. */
function readmeChecksums(): { file: string; bytes: number; gzipSha: string; rawSha: string }[] {
  const row = /^\| (\S+\.gz) \| (\d+) \| ([0-9a-f]{64}) \| ([0-9a-f]{64}) \|$/gm;
  return [...README.matchAll(row)].map((m) => ({ file: m[1]!, bytes: Number(m[2]), gzipSha: m[3]!, rawSha: m[4]! }));
}

/** The README's class-count row for `split`: | train | n0 | ... | n9 | total |. */
function readmeClassCounts(split: 'train' | 'test'): number[] {
  const line = README.split('\n').find((l) => l.startsWith(`| ${split} | `));
  expect(line, `data/README.md has no "| ${split} |" class-count row`).toBeDefined();
  const cells = line!.split('|').map((c) => c.trim()).filter((c) => c !== '');
  expect(cells).toHaveLength(12);
  return cells.slice(1, 11).map(Number);
}

function classCounts(labels: Uint8Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const label of labels) counts[label]!++;
  return counts;
}

describe('built-in digits', () => {
  const started = performance.now();
  const digits = loadDigits();
  const elapsedMs = performance.now() - started;

  it('load as an 8000 / 2000 split of 28×28 images with labels 0-9', () => {
    console.log(`loadDigits() took ${elapsedMs.toFixed(1)} ms`);
    const { train, test } = digits;
    expect([train.count, test.count]).toEqual([8000, 2000]);
    expect([train.name, test.name]).toEqual(['digits/train', 'digits/test']);
    for (const d of [train, test]) {
      expect(d.features).toBe(784);
      expect(d.numClasses).toBe(10);
      expect(() => validateDataset(d)).not.toThrow();
      let min = Infinity;
      let max = -Infinity;
      for (const v of d.x) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      expect(min).toBe(0);
      expect(max).toBe(1);
      const counts = classCounts(d.y);
      expect(counts.every((c) => c > 0)).toBe(true);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(d.count);
    }
  });

  it('have the class counts data/README.md states', () => {
    expect(classCounts(digits.train.y)).toEqual(readmeClassCounts('train'));
    expect(classCounts(digits.test.y)).toEqual(readmeClassCounts('test'));
  });

  it('look like digits: a plausible amount of ink per image', () => {
    // MNIST digits cover roughly 10-25% of the 28×28 box; blank or noise images would not.
    let ink = 0;
    for (const v of digits.train.x) ink += v;
    const meanInk = ink / digits.train.x.length;
    expect(meanInk).toBeGreaterThan(0.08);
    expect(meanInk).toBeLessThan(0.2);
  });

  it('are loaded by name through loadDataset', () => {
    expect(loadDataset('digits').test.count).toBe(2000);
  });

  it('match the sha256 recorded in data/README.md', () => {
    const rows = readmeChecksums();
    const gzFiles = readdirSync(DIGITS_DIR).filter((f) => f.endsWith('.gz')).sort();
    expect(rows.map((r) => r.file).sort()).toEqual(gzFiles);
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      const bytes = readFileSync(join(DIGITS_DIR, row.file));
      expect({ file: row.file, bytes: bytes.length, sha: sha256(bytes) }).toEqual({ file: row.file, bytes: row.bytes, sha: row.gzipSha });
      expect({ file: row.file, rawSha: sha256(gunzipSync(bytes)) }).toEqual({ file: row.file, rawSha: row.rawSha });
    }
  });

  it('ship their licence', () => {
    const licence = readFileSync(join(DIGITS_DIR, 'LICENSE'), 'utf8');
    expect(licence).toMatch(/The MIT License/);
    expect(licence).toMatch(/Copyright \(c\) 2015 Juan Cazala/);
  });
});
