import { ConfigError } from '../../errors.ts';
import type { FloatArray } from '../../tensor/tensor.ts';
import type { Parameter } from '../parameter.ts';

/**
 * Shared optimizer bookkeeping. Subclasses implement only `update` (the arithmetic of one method); the
 * base class does the rest the same way for all of them:
 *   1. masks the gradient of pruned weights, so no update (and no momentum) is computed for them;
 *   2. calls `update`;
 *   3. zeroes pruned entries of the optimizer state and re-applies the mask to the weights,
 *      so a pruned weight is exactly zero after every step and cannot be revived by stale momentum.
 * State buffers are per parameter and are reset if the parameter is resized (neuron pruning).
 * A parameter with `updatePruned` set is updated as if it had no mask (steps 1 and 3 are skipped); the
 * pruning method that set the flag re-installs its mask after the step.
 */
export abstract class Optimizer {
  readonly params: readonly Parameter[];
  /** Learning rate; schedules change it between steps. */
  lr: number;
  /** Number of completed steps. */
  stepCount = 0;
  private readonly state = new Map<Parameter, FloatArray[]>();

  constructor(params: readonly Parameter[], lr: number) {
    if (!(lr > 0) || !Number.isFinite(lr)) throw new ConfigError(`learning rate must be a positive finite number, got ${lr}`);
    if (params.length === 0) throw new ConfigError('optimizer: no parameters to optimize');
    this.params = params;
    this.lr = lr;
  }

  /** How many state buffers (same size as the parameter) the method keeps: 0, 1 (momentum) or 2 (Adam). */
  protected abstract readonly stateBuffers: number;

  /** Updates `w` in place from gradient `g`, using and updating this parameter's `state` buffers. */
  protected abstract update(w: FloatArray, g: FloatArray, state: FloatArray[], step: number): void;

  step(): void {
    this.stepCount++;
    for (const p of this.params) {
      if (p.grad === null) continue;
      const w = p.value.data;
      const g = p.grad.data;
      const mask = p.updatePruned ? null : p.mask;
      if (mask !== null) for (let i = 0; i < mask.length; i++) if (mask[i] === 0) g[i] = 0;
      const state = this.stateOf(p);
      this.update(w, g, state, this.stepCount);
      if (mask !== null) {
        for (const buffer of state) for (let i = 0; i < mask.length; i++) if (mask[i] === 0) buffer[i] = 0;
        p.applyMask();
      }
    }
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /**
   * The state buffers of `p` as the last step left them, or undefined before its first step. For
   * subclasses that expose part of their state read-only (Adam's `preconditioner`).
   */
  protected stateAfterStep(p: Parameter): readonly FloatArray[] | undefined {
    return this.state.get(p);
  }

  /** Forgets the state of one parameter (e.g. after its mask changed a lot). */
  resetState(p: Parameter): void {
    this.state.delete(p);
  }

  private stateOf(p: Parameter): FloatArray[] {
    let buffers = this.state.get(p);
    if (buffers === undefined || (buffers[0] !== undefined && buffers[0].length !== p.value.size)) {
      buffers = Array.from({ length: this.stateBuffers }, () => new Float64Array(p.value.size));
      this.state.set(p, buffers);
    }
    return buffers;
  }
}

export function checkNonNegative(name: string, value: number): void {
  if (!(value >= 0) || !Number.isFinite(value)) throw new ConfigError(`${name} must be a non-negative finite number, got ${value}`);
}

export function checkUnitInterval(name: string, value: number): void {
  if (!(value >= 0 && value < 1)) throw new ConfigError(`${name} must be in [0, 1), got ${value}`);
}
