import type { Dataset } from '../../src/data/dataset.ts';
import { Rng } from '../../src/tensor/rng.ts';

/** A small learnable problem: the class is the index of the largest of the first `classes` features. */
export function toyData(count: number, features: number, classes: number, seed: number, name = 'toy'): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(count * features);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < features; j++) x[i * features + j] = rng.uniform();
    let best = 0;
    for (let c = 1; c < classes; c++) if (x[i * features + c]! > x[i * features + best]!) best = c;
    y[i] = best;
  }
  return { x, y, count, features, numClasses: classes, name };
}

export function countZeros(a: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === 0) n++;
  return n;
}
