import { ConfigError, ShapeError } from '../errors.ts';

/**
 * A labelled classification data set held in memory: `count` samples of `features` floats each (row-major,
 * one sample per row) and one integer label per sample.
 */
export interface Dataset {
  /** count × features inputs, row-major. Images are scaled to [0, 1]. */
  readonly x: Float32Array;
  /** count labels, each in [0, numClasses). */
  readonly y: Uint8Array;
  readonly count: number;
  readonly features: number;
  readonly numClasses: number;
  /** A short human-readable name, e.g. "digits/train" or "fashion-mnist/test". */
  readonly name: string;
}

/** A data set split into training and test parts. */
export interface DataSplit {
  readonly train: Dataset;
  readonly test: Dataset;
}

/** Checks a Dataset's sizes and labels; throws naming the problem. */
export function validateDataset(d: Dataset): void {
  if (!Number.isSafeInteger(d.count) || d.count < 0) throw new ShapeError(`${d.name}: invalid sample count ${d.count}`);
  if (!Number.isSafeInteger(d.features) || d.features <= 0) throw new ShapeError(`${d.name}: invalid feature count ${d.features}`);
  if (d.x.length !== d.count * d.features) {
    throw new ShapeError(`${d.name}: x has ${d.x.length} values, expected count × features = ${d.count} × ${d.features}`);
  }
  if (d.y.length !== d.count) throw new ShapeError(`${d.name}: ${d.y.length} labels for ${d.count} samples`);
  for (let i = 0; i < d.count; i++) {
    if (d.y[i]! >= d.numClasses) {
      throw new ConfigError(`${d.name}: label ${d.y[i]} of sample ${i} is out of range for ${d.numClasses} classes`);
    }
  }
}

/** The samples at `indices`, as a new data set. */
export function subset(d: Dataset, indices: ArrayLike<number>, name = d.name): Dataset {
  const n = indices.length;
  const x = new Float32Array(n * d.features);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const src = indices[i]!;
    x.set(d.x.subarray(src * d.features, (src + 1) * d.features), i * d.features);
    y[i] = d.y[src]!;
  }
  return { x, y, count: n, features: d.features, numClasses: d.numClasses, name };
}
