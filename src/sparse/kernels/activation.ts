import type { FloatArray } from '../../tensor/tensor.ts';

/**
 * y[i] = act(y[i]) for i in [from, to), in place, for the activations the sparse and dense kernels do not
 * fuse (ReLU is fused into every kernel). NaN stays NaN. Complexity: O(to − from).
 */
export function applyActivationInPlace(activation: 'sigmoid' | 'tanh', y: FloatArray, from = 0, to = y.length): void {
  if (activation === 'sigmoid') for (let i = from; i < to; i++) y[i] = 1 / (1 + Math.exp(-y[i]!));
  else for (let i = from; i < to; i++) y[i] = Math.tanh(y[i]!);
}
