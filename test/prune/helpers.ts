import type { Dataset } from '../../src/data/dataset.ts';
import { Adam, fit, mlp, type Sequential } from '../../src/nn/index.ts';
import type { PruneConfig } from '../../src/prune/index.ts';
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

/** The toy problem's training and test sets (12 features, 3 classes). */
export const toyTrain = toyData(900, 12, 3, 1, 'toy/train');
export const toyTest = toyData(400, 12, 3, 2, 'toy/test');

/** A 12-48-24-3 MLP trained on the toy problem (about 90 % test accuracy). */
export function trainedToyModel(): Sequential {
  const model = mlp([12, 48, 24, 3], { seed: 1 });
  fit(model, toyTrain, { epochs: 12, batchSize: 32, optimizer: new Adam(model.parameters(), { lr: 0.01 }), seed: 1 });
  return model;
}

/** A short pruning run on the toy problem: 80 % global, 3 epochs; methods with a required threshold get one. */
export function toyConfig(method: string, extra: Partial<PruneConfig> = {}): PruneConfig {
  return {
    method, criterion: 'magnitude', sparsity: 0.8, scope: 'global', granularity: { kind: 'weight' }, epochs: 3, batchSize: 32, lr: 0.005, seed: 3,
    ...(method === 'threshold' || method === 'threshold-dynamic' ? { options: { threshold: 1 } } : method === 'l1' ? { options: { lambda: 1e-3 } } : method === 'dns' ? { options: { cRate: 1 } } : {}),
    ...extra,
  };
}
