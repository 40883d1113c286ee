/**
 * Naive float64 oracles for the sparse kernels: deliberately the textbook loops, no blocking or unrolling.
 */
import type { InferenceLayer } from '../../src/sparse/index.ts';
import { Rng } from '../../src/tensor/index.ts';

export type Act = 'relu' | 'sigmoid' | 'tanh' | 'none';

/** Y[batch × nRows] = act(X[batch × nCols] · Wᵀ + b) in float64, W dense row-major [nRows × nCols]. */
export function linearReference(
  nRows: number, nCols: number, batch: number,
  w: ArrayLike<number>, bias: ArrayLike<number> | null, activation: Act, x: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(batch * nRows);
  for (let s = 0; s < batch; s++) {
    for (let i = 0; i < nRows; i++) {
      let acc = bias === null ? 0 : bias[i]!;
      for (let j = 0; j < nCols; j++) acc += w[i * nCols + j]! * x[s * nCols + j]!;
      y[s * nRows + i] = activation === 'relu' ? Math.max(acc, 0) : activation === 'sigmoid' ? 1 / (1 + Math.exp(-acc)) : activation === 'tanh' ? Math.tanh(acc) : acc;
    }
  }
  return y;
}

/** A [nRows × nCols] Float32 weight with each entry nonzero with probability `density` (exact 0 otherwise). */
export function randomSparse(nRows: number, nCols: number, density: number, rng: Rng): Float32Array {
  const w = new Float32Array(nRows * nCols);
  for (let i = 0; i < w.length; i++) if (rng.uniform() < density) w[i] = rng.normal() || 0.5;
  return w;
}

export function randomVector(n: number, rng: Rng): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal();
  return v;
}

/** max |a − b| / max(max |b|, 1e-30): the relative error every comparison in test/sparse uses. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 1e-30;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return b.length === 0 ? 0 : diff / scale;
}

/** A random network: layer l maps sizes[l] → sizes[l+1] with the given weight density; even layers have a bias. */
export function makeLayers(sizes: number[], densities: number[], activations: Act[], rng: Rng): InferenceLayer[] {
  return activations.map((activation, l) => ({
    weight: randomSparse(sizes[l + 1]!, sizes[l]!, densities[l]!, rng),
    inFeatures: sizes[l]!,
    outFeatures: sizes[l + 1]!,
    bias: l % 2 === 0 ? randomVector(sizes[l + 1]!, rng) : null,
    activation,
  }));
}

/** The network in float64, layer by layer (masks applied): the oracle for compiled inference. */
export function forwardReference(layers: InferenceLayer[], x: Float32Array, batch: number): Float64Array {
  let h: ArrayLike<number> = x;
  for (const layer of layers) {
    const w = layer.mask === undefined ? layer.weight : layer.weight.map((v, i) => (layer.mask![i] === 0 ? 0 : v));
    h = linearReference(layer.outFeatures, layer.inFeatures, batch, w, layer.bias, layer.activation, h);
  }
  return h as Float64Array;
}
