/** Tests for src/data/split.ts: the seeded validation carve-out. */
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/dataset.ts';
import { splitValidation } from '../../src/data/split.ts';
import { ConfigError } from '../../src/errors.ts';
import { Rng } from '../../src/tensor/rng.ts';

/** 50 samples of 3 features; sample i holds i, i + 0.25, i + 0.5 and label i % 10. */
function toyDataset(count = 50): Dataset {
  const features = 3;
  const x = new Float32Array(count * features);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    x.set([i, i + 0.25, i + 0.5], i * features);
    y[i] = i % 10;
  }
  return { x, y, count, features, numClasses: 10, name: 'toy/train' };
}

/** The sample ids of a data set built by `toyDataset` (its first feature). */
const ids = (d: Dataset): number[] => Array.from({ length: d.count }, (_, i) => d.x[i * d.features]!);

describe('splitValidation', () => {
  it('partitions the samples, rows intact, in original order', () => {
    const data = toyDataset();
    const { train, validation } = splitValidation(data, 0.2, new Rng(3));
    expect(validation.count).toBe(10);
    expect(train.count).toBe(40);
    const all = [...ids(train), ...ids(validation)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 50 }, (_, i) => i));
    for (const part of [train, validation]) {
      const partIds = ids(part);
      expect(partIds).toEqual([...partIds].sort((a, b) => a - b));
      partIds.forEach((id, row) => {
        expect(Array.from(part.x.subarray(row * 3, row * 3 + 3))).toEqual([id, id + 0.25, id + 0.5]);
        expect(part.y[row]).toBe(id % 10);
      });
      expect(part.features).toBe(3);
      expect(part.numClasses).toBe(10);
    }
    expect(train.name).toBe('toy/train/fit');
    expect(validation.name).toBe('toy/train/validation');
  });

  it('is determined by the seed', () => {
    const data = toyDataset();
    const a = splitValidation(data, 0.3, new Rng(11));
    const b = splitValidation(data, 0.3, new Rng(11));
    const c = splitValidation(data, 0.3, new Rng(12));
    expect(ids(a.validation)).toEqual(ids(b.validation));
    expect(ids(a.validation)).not.toEqual(ids(c.validation));
  });

  it('does not modify its input', () => {
    const data = toyDataset();
    const before = Array.from(data.x);
    splitValidation(data, 0.5, new Rng(1));
    expect(Array.from(data.x)).toEqual(before);
  });

  it('rejects fractions outside (0, 1) and splits that leave a part empty', () => {
    const data = toyDataset(10);
    for (const fraction of [0, 1, -0.1, 1.5, Number.NaN]) {
      expect(() => splitValidation(data, fraction, new Rng(1))).toThrow(ConfigError);
    }
    expect(() => splitValidation(data, 0.01, new Rng(1))).toThrow(/both parts need at least one sample/);
    expect(() => splitValidation(data, 0.99, new Rng(1))).toThrow(/both parts need at least one sample/);
  });
});
