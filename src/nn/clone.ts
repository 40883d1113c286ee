import { Rng } from '../tensor/rng.ts';
import { Tensor } from '../tensor/tensor.ts';
import { buildModel } from './build.ts';
import type { Sequential } from './sequential.ts';

/** A deep copy of a model: same architecture, weights and masks, independent storage. */
export function cloneModel(model: Sequential): Sequential {
  const copy = buildModel(model.spec(), new Rng(0));
  const source = model.parameters();
  copy.parameters().forEach((p, i) => {
    const q = source[i]!;
    p.value = new Tensor(Float32Array.from(q.value.data), q.value.shape);
    p.mask = q.mask === null ? null : Uint8Array.from(q.mask);
  });
  copy.train(model.training);
  return copy;
}
