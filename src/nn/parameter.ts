import { ShapeError, StateError } from '../errors.ts';
import { Var } from '../autograd/var.ts';
import { formatShape, shapesEqual } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';

/**
 * A trainable tensor. It keeps its identity for its whole life (optimizers key their state by it), and it
 * owns its pruning mask.
 *
 * The mask is "hard": pruned weights are set to exactly zero once, and the invariant
 *   mask[i] === 0  ⇒  value[i] === 0
 * holds after every optimizer step, because the optimizer masks the gradient before its update and the
 * weight after it. So the forward pass costs nothing extra, and momentum or Adam's moments can never
 * revive a pruned weight. `nn` enforces masks; `prune` decides them.
 */
export class Parameter extends Var {
  /** 1 keeps a weight, 0 prunes it; null means dense (no mask). Same length as the value. */
  mask: Uint8Array | null = null;
  /**
   * Keep the true (unmasked) gradient of pruned weights in `grad`. Off by default, so `grad` is zero on
   * pruned weights; RigL turns it on because it regrows connections by their gradient.
   */
  keepPrunedGrad = false;
  /**
   * Let the optimizer update pruned weights too (and keep their optimizer state): the step leaves the mask
   * unenforced, so a pruned weight may move away from zero. Off by default. Sparse-optimization and
   * straight-through methods (iterative hard thresholding, ISTA, Dynamic Network Surgery) turn it on and
   * recompute the mask after every step, which restores `mask[i] === 0 ⇒ value[i] === 0` through `setMask`.
   * Implies `keepPrunedGrad`.
   */
  updatePruned = false;

  constructor(value: Tensor) {
    super(value, { requiresGrad: true });
  }

  /**
   * Installs a mask and zeroes the pruned weights. Masks only shrink: turning a pruned weight back on is
   * refused unless `allowRegrow` is set (methods such as Dynamic Network Surgery and RigL regrow on purpose;
   * a regrown weight restarts from zero).
   */
  setMask(mask: Uint8Array, options: { allowRegrow?: boolean } = {}): void {
    if (mask.length !== this.value.size) {
      throw new ShapeError(`setMask: mask has ${mask.length} entries, parameter of shape ${formatShape(this.value.shape)} has ${this.value.size}`);
    }
    const previous = this.mask;
    for (let i = 0; i < mask.length; i++) {
      const m = mask[i]!;
      if (m !== 0 && m !== 1) throw new ShapeError(`setMask: mask entries must be 0 or 1, got ${m} at ${i}`);
      if (m === 1 && previous !== null && previous[i] === 0 && !options.allowRegrow) {
        throw new StateError(`setMask: entry ${i} was pruned and would be revived; masks only shrink unless allowRegrow is set`);
      }
    }
    this.mask = mask;
    this.applyMask();
  }

  /** Accumulates a gradient; pruned entries stay zero (a pruned weight is not a parameter any more). */
  override accumulateGrad(g: Tensor, owned = false): void {
    super.accumulateGrad(g, owned);
    const mask = this.mask;
    if (mask === null || this.keepPrunedGrad || this.updatePruned || this.grad === null) return;
    const d = this.grad.data;
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) d[i] = 0;
  }

  /** Zeroes every pruned weight (re-establishes the invariant after an update). */
  applyMask(): void {
    const mask = this.mask;
    if (mask === null) return;
    const w = this.value.data;
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) w[i] = 0;
  }

  /**
   * Makes the pruning permanent: the weights stay as they are (pruned ones are zero) but the mask is
   * dropped, so later training may change them. Like `torch.nn.utils.prune.remove`.
   */
  removeMask(): void {
    this.mask = null;
  }

  /** Number of weights kept by the mask (all of them without a mask). */
  keptCount(): number {
    if (this.mask === null) return this.value.size;
    let kept = 0;
    for (let i = 0; i < this.mask.length; i++) kept += this.mask[i]!;
    return kept;
  }

  /**
   * Replaces the value with a tensor of another shape (used when structured pruning removes neurons).
   * The gradient and mask are dropped; optimizers notice the new size and reset their state for it.
   */
  resize(value: Tensor, mask: Uint8Array | null = null): void {
    if (mask !== null && mask.length !== value.size) throw new ShapeError('resize: mask length differs from the new value');
    this.value = value;
    this.grad = null;
    this.mask = mask;
    this.applyMask();
  }

  /** Replaces the values (same shape), e.g. when loading weights, re-applying the mask. */
  assign(value: Tensor): void {
    if (!shapesEqual(value.shape, this.value.shape)) {
      throw new ShapeError(`assign: shape ${formatShape(value.shape)} differs from the parameter's ${formatShape(this.value.shape)}`);
    }
    this.value.data.set(value.data);
    this.applyMask();
  }
}
