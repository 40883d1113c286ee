import { expect } from 'vitest';

/**
 * Checks each centroid's analytic gradient (the sum of its members' gradients) against a central difference
 * of the loss: `lossAt(codebook)` evaluates the model with the given centroids, `base` are the trained ones.
 */
export function expectCentroidGradients(lossAt: (codebook: Float64Array) => number, base: Float64Array, analytic: ArrayLike<number>, eps: number, label = 'centroid'): void {
  for (let c = 0; c < base.length; c++) {
    const up = Float64Array.from(base), down = Float64Array.from(base);
    up[c]! += eps;
    down[c]! -= eps;
    const numeric = (lossAt(up) - lossAt(down)) / (2 * eps);
    expect(analytic[c]!, `${label} ${c}`).toBeCloseTo(numeric, 2);
  }
}
