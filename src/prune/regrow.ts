import type { Parameter } from '../nn/parameter.ts';
import type { TrainingHooks } from '../nn/train.ts';
import { Tensor } from '../tensor/tensor.ts';

/**
 * Masks that may give pruned weights back, for methods where that is the point: sparse optimization
 * (iterative hard thresholding, ISTA) and prune-and-splice (Dynamic Network Surgery). While they train,
 * the parameters (the targets' weights, and for DNS their biases too) carry `Parameter.updatePruned`, so the optimizer updates every weight; after each step the
 * method selects a new mask from the updated weights and `install`s it, which zeroes what it prunes.
 *
 * Two flavours of "updated weights":
 *  - plain: a pruned weight restarts from zero and comes back if one step moves it past the rule (IHT);
 *  - shadow: every weight keeps a dense value W that the forward pass sees as W ⊙ mask and the optimizer
 *    updates straight through with the gradient taken at W ⊙ mask (DNS; straight-through estimators).
 *
 * Weights pruned before the run started (a pruned model being pruned further) stay pruned: their values
 * are reset to zero before every decision and masked out of every installed mask.
 */
export class RegrowingMasks {
  private readonly starting = new Map<Parameter, Uint8Array | null>();
  private readonly dense = new Map<Parameter, { readonly dense: Tensor; readonly effective: Tensor }>();

  constructor(readonly params: readonly Parameter[], options: { shadow?: boolean } = {}) {
    for (const p of params) {
      this.starting.set(p, p.mask === null ? null : Uint8Array.from(p.mask));
      if (options.shadow === true) this.dense.set(p, { dense: new Tensor(Float32Array.from(p.value.data), p.value.shape), effective: p.value });
      p.updatePruned = true;
    }
  }

  /**
   * The values a decision is made from: the dense shadow W or, without one, the weight itself. Weights
   * pruned before the run are reset to zero first.
   */
  weights(p: Parameter): Float32Array {
    const w = (this.dense.get(p)?.dense ?? p.value).data as Float32Array;
    const start = this.starting.get(p);
    if (start !== null && start !== undefined) for (let i = 0; i < w.length; i++) if (start[i] === 0) w[i] = 0;
    return w;
  }

  /** |w| of `weights(t)`, as scores. */
  magnitudes(p: Parameter): Float64Array {
    return Float64Array.from(this.weights(p), Math.abs);
  }

  /** Installs `mask` (restricted to weights alive when the run started); with a shadow, the weight becomes W ⊙ mask. */
  install(p: Parameter, mask: Uint8Array): void {
    const start = this.starting.get(p);
    if (start !== null && start !== undefined) for (let i = 0; i < mask.length; i++) mask[i]! &= start[i]!;
    const shadow = this.dense.get(p);
    if (shadow !== undefined) {
      const w = shadow.dense.data;
      const out = shadow.effective.data;
      for (let i = 0; i < w.length; i++) out[i] = mask[i] === 1 ? w[i]! : 0;
      p.value = shadow.effective;
    }
    p.setMask(mask, { allowRegrow: true });
  }

  /**
   * With a shadow: a hook that puts the dense W in place for the optimizer step (after backward, so the
   * gradient was taken at W ⊙ mask). The method's own `afterStep` must then `install` a mask for every parameter.
   */
  straightThroughHook(): TrainingHooks {
    return {
      afterBackward: () => {
        for (const [p, s] of this.dense) p.value = s.dense;
      },
    };
  }

  /** Ends the regrowing phase: the optimizer enforces the masks again. */
  release(): void {
    for (const p of this.params) p.updatePruned = false;
  }
}
