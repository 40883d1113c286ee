import type { Rng } from '../tensor/rng.ts';
import type { FloatArray } from '../tensor/tensor.ts';

/*
 * Weight initialisation. Both schemes keep the variance of activations roughly constant from layer to
 * layer, which is what lets a deep stack train at all.
 */

/** He (Kaiming) normal init for ReLU networks: N(0, 2/fanIn). He et al. 2015. */
export function heNormal(out: FloatArray, fanIn: number, rng: Rng): void {
  const std = Math.sqrt(2 / fanIn);
  for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
}

/** Glorot (Xavier) uniform init: U(±√(6/(fanIn+fanOut))). Glorot & Bengio 2010. */
export function glorotUniform(out: FloatArray, fanIn: number, fanOut: number, rng: Rng): void {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * limit;
}

/**
 * PyTorch's default for nn.Linear (kaiming_uniform with a=√5): U(±1/√fanIn), for weights and biases alike.
 * Offered so results can be compared with PyTorch recipes.
 */
export function torchDefaultUniform(out: FloatArray, fanIn: number, rng: Rng): void {
  const limit = 1 / Math.sqrt(fanIn);
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * limit;
}

/** How a Linear layer's weights are drawn: 'he' (He normal, for ReLU nets), 'glorot' (Glorot uniform) or 'torch' (PyTorch's nn.Linear default, U(±1/√fanIn)). */
export type InitScheme = 'he' | 'glorot' | 'torch';
export const INIT_SCHEMES: readonly InitScheme[] = ['he', 'glorot', 'torch'];
