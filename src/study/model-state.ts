import { buildModel } from '../nn/build.ts';
import type { Sequential } from '../nn/sequential.ts';
import type { ModelSpec } from '../nn/spec.ts';
import { Rng } from '../tensor/rng.ts';
import { Tensor } from '../tensor/tensor.ts';

/*
 * A model as plain data (architecture, weights, masks) that survives structured cloning, so a study's runs
 * can start from the same model in another worker. Rebuilding gives exactly the same bits.
 */

/** A model's architecture and parameters as plain typed arrays, in `model.parameters()` order. */
export interface ModelState {
  readonly spec: ModelSpec;
  readonly params: readonly { readonly data: Float32Array; readonly mask: Uint8Array | null }[];
}

/** Copies a model's weights and masks into a `ModelState`. */
export function modelState(model: Sequential): ModelState {
  return {
    spec: model.spec(),
    params: model.parameters().map((p) => ({ data: Float32Array.from(p.value.data), mask: p.mask === null ? null : Uint8Array.from(p.mask) })),
  };
}

/** A new model with the state's architecture, weights and masks (copied, so the state can be reused). */
export function modelFromState(state: ModelState): Sequential {
  const model = buildModel(state.spec, new Rng(0));
  model.parameters().forEach((p, i) => {
    const stored = state.params[i]!;
    p.value = new Tensor(Float32Array.from(stored.data), p.value.shape);
    p.mask = stored.mask === null ? null : Uint8Array.from(stored.mask);
  });
  return model;
}
