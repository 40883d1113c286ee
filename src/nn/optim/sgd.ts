import { ConfigError } from '../../errors.ts';
import type { FloatArray } from '../../tensor/tensor.ts';
import { simdSgdAll, type UpdateOperands } from '../../tensor/wasm/simd-kernels.ts';
import type { SimdInstance } from '../../tensor/wasm/instance.ts';
import type { Parameter } from '../parameter.ts';
import { checkNonNegative, checkUnitInterval, Optimizer } from './optimizer.ts';

/** Settings of SGD (PyTorch's defaults). */
export interface SGDOptions {
  /** Learning rate (> 0). */
  lr: number;
  /** Momentum factor in [0, 1) (default 0: plain SGD). */
  momentum?: number;
  /** Nesterov momentum (Sutskever et al. 2013): look ahead along the velocity. Needs momentum > 0. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient: g + weightDecay·w. */
  weightDecay?: number;
}

/** Stochastic gradient descent with optional (Nesterov) momentum, as in torch.optim.SGD. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  protected readonly stateBuffers: number;

  constructor(params: readonly Parameter[], options: SGDOptions) {
    super(params, options.lr);
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    checkUnitInterval('momentum', this.momentum);
    checkNonNegative('weightDecay', this.weightDecay);
    if (this.nesterov && this.momentum === 0) throw new ConfigError('Nesterov momentum needs momentum > 0');
    this.stateBuffers = this.momentum > 0 ? 1 : 0;
  }

  protected update(w: FloatArray, g: FloatArray, state: FloatArray[]): void {
    const { lr, momentum, nesterov, weightDecay } = this;
    const velocity = state[0];
    for (let i = 0; i < w.length; i++) {
      let d = g[i]! + weightDecay * w[i]!;
      if (velocity !== undefined) {
        const v = momentum * velocity[i]! + d;
        velocity[i] = v;
        d = nesterov ? d + momentum * v : v;
      }
      w[i] = w[i]! - lr * d;
    }
  }

  protected override simdUpdate(simd: SimdInstance, params: readonly UpdateOperands[]): void {
    const { lr, momentum, nesterov, weightDecay } = this;
    simdSgdAll(simd, params, { lr, momentum, nesterov, weightDecay });
  }
}
