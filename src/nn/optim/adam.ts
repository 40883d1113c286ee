import type { FloatArray } from '../../tensor/tensor.ts';
import { simdAdamAll, type UpdateOperands } from '../../tensor/wasm/simd-kernels.ts';
import type { SimdInstance } from '../../tensor/wasm/instance.ts';
import type { Parameter } from '../parameter.ts';
import { checkNonNegative, checkUnitInterval, Optimizer } from './optimizer.ts';

/** Settings of Adam and AdamW (PyTorch's defaults). */
export interface AdamOptions {
  /** Learning rate (> 0). */
  lr: number;
  /** Decay of the first moment, in [0, 1) (default 0.9). */
  beta1?: number;
  /** Decay of the second moment, in [0, 1) (default 0.999). */
  beta2?: number;
  /** Added to √v̂ in the denominator (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay w ← w − lr·weightDecay·w. */
  weightDecay?: number;
}

/**
 * Adam (Kingma & Ba 2015) with bias-corrected moments, as in torch.optim.Adam:
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,  w ← w − lr·m̂/(√v̂ + ε)
 */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  protected readonly stateBuffers = 2;
  /** AdamW decays the weights directly instead of through the gradient. */
  protected readonly decoupled: boolean = false;

  constructor(params: readonly Parameter[], options: AdamOptions) {
    super(params, options.lr);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    checkUnitInterval('beta1', this.beta1);
    checkUnitInterval('beta2', this.beta2);
    checkNonNegative('eps', this.eps);
    checkNonNegative('weightDecay', this.weightDecay);
  }

  protected update(w: FloatArray, g: FloatArray, state: FloatArray[], step: number): void {
    const { lr, beta1, beta2, eps, weightDecay, decoupled } = this;
    const m = state[0]!;
    const v = state[1]!;
    const correction1 = 1 - beta1 ** step;
    const correction2 = 1 - beta2 ** step;
    const stepSize = lr / correction1;
    const sqrtCorrection2 = Math.sqrt(correction2);
    for (let i = 0; i < w.length; i++) {
      let wi = w[i]!;
      let gi = g[i]!;
      if (decoupled) wi -= lr * weightDecay * wi;
      else gi += weightDecay * wi;
      const mi = beta1 * m[i]! + (1 - beta1) * gi;
      const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      w[i] = wi - (stepSize * mi) / (Math.sqrt(vi) / sqrtCorrection2 + eps);
    }
  }

  protected override simdUpdate(simd: SimdInstance, params: readonly UpdateOperands[], step: number): void {
    const { lr, beta1, beta2, eps, weightDecay, decoupled } = this;
    simdAdamAll(simd, params, { lr, beta1, beta2, eps, weightDecay, decoupled, step });
  }

  /**
   * The diagonal preconditioner of the last step for `p`: √v̂ + ε per weight, the step having been
   * w ← w − lr·m̂/(√v̂ + ε). A proximal step that follows an Adam step must be scaled by it (the
   * preconditioned proximal step of ProxGen, Yun et al. 2021); the L1 method reads it. Null before p's
   * first step. Read-only: a new array each call.
   */
  preconditioner(p: Parameter): Float64Array | null {
    const v = this.stateAfterStep(p)?.[1];
    if (v === undefined || this.stepCount === 0) return null;
    const correction2 = 1 - this.beta2 ** this.stepCount;
    return Float64Array.from(v, (vi) => Math.sqrt(vi / correction2) + this.eps);
  }
}

/** AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay (default 0.01, as in PyTorch). */
export class AdamW extends Adam {
  protected override readonly decoupled = true;

  constructor(params: readonly Parameter[], options: AdamOptions) {
    super(params, { weightDecay: 0.01, ...options });
  }
}
