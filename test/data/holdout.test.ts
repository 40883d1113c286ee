/** Tests for holdoutSplit and kFoldSplits (src/data/split.ts) and datasetChecksum (src/data/checksum.ts). */
import { describe, expect, it } from 'vitest';
import { checksum, datasetChecksum } from '../../src/data/checksum.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { holdoutSplit, kFoldSplits } from '../../src/data/split.ts';
import { ConfigError } from '../../src/errors.ts';

/** `count` samples of 2 features; sample i holds (i, −i) and label i % classes, or a label from `labels`. */
function dataset(count: number, classes = 10, labels?: (i: number) => number): Dataset {
  const x = new Float32Array(count * 2);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = -i;
    y[i] = labels?.(i) ?? i % classes;
  }
  return { x, y, count, features: 2, numClasses: classes, name: 'toy/train' };
}

const ids = (d: Dataset): number[] => Array.from({ length: d.count }, (_, i) => d.x[2 * i]!);
const perClass = (d: Dataset): number[] => Array.from({ length: d.numClasses }, (_, c) => d.y.filter((y) => y === c).length);

describe('holdoutSplit', () => {
  it('holds out the fraction of every class, disjoint from the rest, rows intact, indices ascending', () => {
    const data = dataset(1000, 4, (i) => (i < 700 ? 0 : i < 900 ? 1 : i < 990 ? 2 : 3)); // 700 / 200 / 90 / 10
    const split = holdoutSplit(data, 0.1, 5);
    expect(perClass(split.validation)).toEqual([70, 20, 9, 1]);
    expect(perClass(split.train)).toEqual([630, 180, 81, 9]);
    expect(Array.from(split.validationIndices)).toEqual(ids(split.validation));
    expect(Array.from(split.trainIndices)).toEqual(ids(split.train));
    const all = [...split.trainIndices, ...split.validationIndices].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect([...split.validationIndices].every((v, i, a) => i === 0 || a[i - 1]! < v)).toBe(true);
    for (let i = 0; i < split.train.count; i++) expect(split.train.x[2 * i + 1]).toBe(-split.train.x[2 * i]!);
  });

  it('is a function of the data, the fraction and the seed', () => {
    const data = dataset(300);
    const a = holdoutSplit(data, 0.2, 1);
    expect(Array.from(holdoutSplit(data, 0.2, 1).validationIndices)).toEqual(Array.from(a.validationIndices));
    expect(Array.from(holdoutSplit(data, 0.2, 2).validationIndices)).not.toEqual(Array.from(a.validationIndices));
  });

  it('refuses a fraction outside (0, 1) and a split that leaves a part empty', () => {
    for (const fraction of [0, 1, -0.1, 1.5, Number.NaN]) expect(() => holdoutSplit(dataset(100), fraction, 0)).toThrow(ConfigError);
    expect(() => holdoutSplit(dataset(5), 0.05, 0)).toThrow(/leaves 0 to hold out and 5 to train on/);
  });
});

describe('kFoldSplits', () => {
  it('partitions the data into K folds of sizes within one, stratified, each split disjoint', () => {
    const data = dataset(103, 3);
    const splits = kFoldSplits(data, 5, 7);
    const seen = new Int32Array(103);
    for (const split of splits) {
      for (const i of split.validationIndices) seen[i]!++;
      expect(split.trainIndices.length + split.validationIndices.length).toBe(103);
      const train = new Set(split.trainIndices);
      expect([...split.validationIndices].some((i) => train.has(i))).toBe(false);
      expect(split.validation.count).toBeGreaterThanOrEqual(20);
      expect(split.validation.count).toBeLessThanOrEqual(21);
      for (const n of perClass(split.validation)) expect(n).toBeGreaterThanOrEqual(6);
    }
    expect(Array.from(seen).every((n) => n === 1)).toBe(true);
  });

  it('refuses K below 2 or above the sample count', () => {
    for (const k of [0, 1, 1.5, -2]) expect(() => kFoldSplits(dataset(10), k, 0)).toThrow(/K ≥ 2/);
    expect(() => kFoldSplits(dataset(3), 4, 0)).toThrow(/would leave a fold empty/);
  });
});

describe('datasetChecksum', () => {
  it('is equal for equal data and differs for one changed value, label, order or size', () => {
    const a = dataset(50);
    expect(datasetChecksum(dataset(50))).toBe(datasetChecksum(a));
    expect(datasetChecksum(a)).toMatch(/^m3x2:[0-9a-f]{16}$/);
    const pixel = dataset(50);
    pixel.x[17] = 0.5;
    const label = dataset(50);
    label.y[3] = 9;
    const swapped = dataset(50);
    swapped.x.set([1, -1, 0, 0], 0);
    for (const other of [pixel, label, swapped, dataset(49)]) expect(datasetChecksum(other)).not.toBe(datasetChecksum(a));
  });

  it('hashes unaligned views and tails the same as copies of them', () => {
    const bytes = Uint8Array.from({ length: 23 }, (_, i) => i * 7);
    expect(checksum([bytes.subarray(1, 22)])).toBe(checksum([bytes.slice(1, 22)]));
    expect(checksum([bytes.subarray(1, 22)])).not.toBe(checksum([bytes.slice(1, 21)]));
  });
});
