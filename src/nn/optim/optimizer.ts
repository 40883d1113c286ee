import { ConfigError } from '../../errors.ts';
import type { FloatArray } from '../../tensor/tensor.ts';
import { activeSimd, type SimdInstance } from '../../tensor/wasm/instance.ts';
import type { UpdateOperands } from '../../tensor/wasm/simd-kernels.ts';
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
 * On the 'wasm-simd' backend, optimizers that implement `simdUpdate` (SGD, Adam, AdamW) do all three in one
 * SIMD pass over all parameters with float32 state (one job on threads); others run `update` as everywhere else.
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

  /**
   * The same update on the SIMD kernels, masks included (see src/tensor/wasm/optimizer-kernels.ts), for
   * float32 weights and float32 state. Optimizers without it run `update` on every backend.
   * @internal The SIMD kernels' instance is not public: a custom optimizer implements `update` only.
   */
  protected simdUpdate?(simd: SimdInstance, params: readonly UpdateOperands[], step: number): void;

  step(): void {
    this.stepCount++;
    const simd = this.simdMirrorsUpdate() ? activeSimd() : null;
    const onSimd: UpdateOperands[] = []; // updated together after the loop: one job on threads
    for (const p of this.params) {
      if (p.grad === null) continue;
      const w = p.value.data;
      const g = p.grad.data;
      const mask = p.updatePruned ? null : p.mask;
      if (simd !== null && w instanceof Float32Array && g instanceof Float32Array) {
        onSimd.push({ w, g, state: this.stateOf(p, 'float32') as Float32Array[], mask });
        continue;
      }
      if (mask !== null) for (let i = 0; i < mask.length; i++) if (mask[i] === 0) g[i] = 0;
      const state = this.stateOf(p, 'any');
      this.update(w, g, state, this.stepCount);
      if (mask !== null) {
        for (const buffer of state) for (let i = 0; i < mask.length; i++) if (mask[i] === 0) buffer[i] = 0;
        p.applyMask();
      }
    }
    if (onSimd.length > 0) this.simdUpdate!(simd!, onSimd, this.stepCount);
  }

  /**
   * Whether `simdUpdate` exists and was written for the `update` in effect: a subclass that overrides
   * `update` alone (its own arithmetic) must not silently run its parent's SIMD update instead.
   */
  private simdMirrorsUpdate(): boolean {
    let owner: object | null = Object.getPrototypeOf(this) as object;
    while (owner !== null && !Object.prototype.hasOwnProperty.call(owner, 'simdUpdate')) owner = Object.getPrototypeOf(owner) as object | null;
    return owner !== null && (owner as { update?: unknown }).update === this.update;
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

  /**
   * For every float32 parameter: creates its (float32) state if it lacks it and passes every state buffer
   * through `place`, which returns the buffer to use from now on with the same values (the SIMD training
   * session uses it to move state into the kernels' memory and back). float64 parameters are left alone.
   */
  placeState(place: (buffer: Float32Array) => Float32Array): void {
    for (const p of this.params) {
      if (!(p.value.data instanceof Float32Array)) continue;
      const buffers = this.stateOf(p, 'float32');
      for (let i = 0; i < buffers.length; i++) buffers[i] = place(buffers[i] as Float32Array);
    }
  }

  /**
   * This parameter's state buffers, created zeroed when missing or when the parameter changed size. The
   * TypeScript update keeps float64 state ('any' accepts whatever exists); the SIMD update needs float32,
   * so float64 state is converted once (values rounded to float32).
   */
  private stateOf(p: Parameter, dtype: 'float32' | 'any'): FloatArray[] {
    let buffers = this.state.get(p);
    if (buffers === undefined || (buffers[0] !== undefined && buffers[0].length !== p.value.size)) {
      buffers = Array.from({ length: this.stateBuffers }, () => (dtype === 'float32' ? new Float32Array(p.value.size) : new Float64Array(p.value.size)));
      this.state.set(p, buffers);
    } else if (dtype === 'float32' && buffers.some((b) => !(b instanceof Float32Array))) {
      buffers = buffers.map((b) => (b instanceof Float32Array ? b : Float32Array.from(b)));
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
